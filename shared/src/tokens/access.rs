//! HS256 access tokens: issued by `auth` and `refresh`, checked by every route that needs a caller.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::TokenConfig;

/// The `iss` claim of every token, and the only one accepted.
pub const ISSUER: &str = "vimcar";
/// The `aud` claim of every token, and the only one accepted: the user API the token is for (RFC 8725 §3.9). A
/// token some other vimcar service issued with this key for another audience does not pass here.
pub const AUDIENCE: &str = "vimcar-api";
/// The `typ` header of every token, and the only one accepted: an RFC 9068 access token, which no other kind of JWT
/// (an ID token, a signed request) can be mistaken for (RFC 8725 §3.11).
pub const TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY: Duration = Duration::from_secs(5);
/// Longest token accepted; anything longer is refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The claims of a vimcar access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The session the token was issued in: once it ends, this API refuses the token (see [`crate::sessions`]).
    pub sid: Uuid,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
}

/// A freshly issued token. Its text never appears in `Debug` output.
pub struct AccessToken {
    pub token: SecretString,
    pub expires_in: Duration,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Why a token was refused. The message is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid")]
    Invalid,
}

/// Issues and verifies tokens with one key. Build it once per process.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Tokens {
    pub fn new(config: &TokenConfig) -> Self {
        super::jwt_crypto::install();
        let secret = config.secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: config.ttl,
        }
    }

    /// How long issued tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for `user_id` in session `session_id`, valid from now for the configured lifetime.
    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> anyhow::Result<AccessToken> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        let token = encode(&header(), &claims, &self.encoding)?;
        Ok(AccessToken {
            token: SecretString::from(token),
            expires_in: self.ttl,
        })
    }

    /// Checks a token's size, header, signature and claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        // Only the exact header this API issues: no key material or key ids that could steer verification.
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256
            || header.typ.as_deref() != Some(TYPE)
            || header.jku.is_some()
            || header.jwk.is_some()
            || header.kid.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::Invalid);
        }
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?
            .claims;
        // jsonwebtoken does not check `iat`: a token from the future was not issued by this clock.
        if claims.iat > jsonwebtoken::get_current_timestamp() + LEEWAY.as_secs() {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

/// The header of every token issued: HS256 and [`TYPE`].
fn header() -> Header {
    Header {
        typ: Some(TYPE.to_owned()),
        ..Header::new(Algorithm::HS256)
    }
}

#[cfg(test)]
mod tests;
