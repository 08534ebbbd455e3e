//! Password hashing and access tokens.

mod hasher;
mod token;

pub use hasher::{PasswordHasher, Verification};
pub use token::{AccessToken, Claims, ISSUER, TokenError, Tokens};
