//! Password hashing and access tokens.

mod hasher;
mod jwt_crypto;
pub mod throttle;
mod token;

pub use hasher::{PasswordHasher, Verification};
pub use token::{AUDIENCE, AccessToken, Claims, ISSUER, TYPE, TokenError, Tokens};
