//! Access tokens: issuing and verifying the JWTs every protected route checks.

mod access;
mod jwt_crypto;

pub use access::{
    AUDIENCE, AccessToken, Claims, ISSUER, LEEWAY, MAX_TOKEN_BYTES, TYPE, TokenError, Tokens,
};
