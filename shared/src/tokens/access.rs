//! Access tokens (HS256 or ES256): issued by `auth`, `refresh` and `change-password`, checked by every route that
//! needs a caller.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{JwtAlgorithm, TokenConfig};
use crate::keys::{KeyRecord, KeyRing};

/// The `iss` claim of every token, and the only one accepted, unless `JWT_ISSUER` names another.
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

/// Issues and verifies tokens: HS256 with the HMAC secret, or ES256 with the key set (and, while moving to it,
/// HS256 tokens still accepted). Build it once per process; clones share it.
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

struct Inner {
    algorithm: JwtAlgorithm,
    /// The HMAC keys: what HS256 tokens are signed and checked with. Absent where HS256 is neither issued nor
    /// accepted, so that nothing can make this code use anything else as an HMAC key.
    hmac: Option<(EncodingKey, DecodingKey)>,
    /// The ES256 key set, with ES256.
    ring: Option<KeyRing>,
    hs256: Validation,
    es256: Validation,
    issuer: String,
    ttl: Duration,
}

fn validation(algorithm: Algorithm, issuer: &str) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    validation
}

impl Tokens {
    /// Tokens under `config`, with the HMAC `secret` (for HS256 tokens, issued or accepted) and the ES256 `ring`.
    pub fn new(config: &TokenConfig, secret: Option<&SecretString>, ring: Option<KeyRing>) -> Self {
        super::jwt_crypto::install();
        let hmac = secret.map(|secret| {
            let bytes = secret.expose_secret().as_bytes();
            (
                EncodingKey::from_secret(bytes),
                DecodingKey::from_secret(bytes),
            )
        });
        Self {
            inner: Arc::new(Inner {
                algorithm: config.algorithm,
                hmac,
                ring,
                hs256: validation(Algorithm::HS256, &config.issuer),
                es256: validation(Algorithm::ES256, &config.issuer),
                issuer: config.issuer.clone(),
                ttl: config.ttl,
            }),
        }
    }

    /// HS256 tokens under `secret`, with the default lifetime (tests).
    pub fn hs256(secret: &str) -> Self {
        let config = TokenConfig::hs256(secret);
        let secret = SecretString::from(secret.to_owned());
        Self::new(&config, Some(&secret), None)
    }

    /// How long issued tokens live.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// The `iss` of every token.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The algorithm tokens are issued with.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.inner.algorithm
    }

    /// Reads the key set again if it is due (see [`KeyRing`]); cheap when it is not.
    pub async fn refresh_keys(&self) {
        if let Some(ring) = &self.inner.ring {
            ring.refresh_if_due().await;
        }
    }

    /// The public keys a verifier may need now (standby, current and previous), as JWKs; none with HS256, whose
    /// key is never published.
    pub fn published_keys(&self) -> Vec<KeyRecord> {
        match (&self.inner.ring, self.inner.algorithm) {
            (Some(ring), JwtAlgorithm::Es256) => ring
                .set()
                .trusted(Utc::now())
                .map(KeyRecord::public)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Issues a token for `user_id` in session `session_id`, valid from now for the configured lifetime.
    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> anyhow::Result<AccessToken> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iat: now,
            nbf: now,
            exp: now + self.inner.ttl.as_secs(),
            iss: self.inner.issuer.clone(),
            aud: AUDIENCE.to_owned(),
        };
        let token = match self.inner.algorithm {
            JwtAlgorithm::Hs256 => {
                let (key, _) = self
                    .inner
                    .hmac
                    .as_ref()
                    .context("this function holds no HMAC secret to sign with")?;
                encode(&header(Algorithm::HS256, None), &claims, key)?
            }
            JwtAlgorithm::Es256 => {
                let ring = self
                    .inner
                    .ring
                    .as_ref()
                    .context("this function holds no ES256 key set")?;
                let set = ring.set();
                let current = set
                    .current(Utc::now())
                    .context("the key set has no current key: run `vimcar-admin keys rotate`")?;
                let scalar = current
                    .private_scalar()
                    .context("this function holds only the public keys: it cannot sign")?;
                encode(
                    &header(Algorithm::ES256, Some(current.kid.clone())),
                    &claims,
                    // vimcar's provider reads the raw P-256 scalar (shared/src/tokens/jwt_crypto.rs).
                    &EncodingKey::from_ec_der(&scalar),
                )?
            }
        };
        Ok(AccessToken {
            token: SecretString::from(token),
            expires_in: self.inner.ttl,
        })
    }

    /// Checks a token's size, header, signature and claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        // Only the exact headers this API issues: no key material or key URLs that could steer verification.
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.typ.as_deref() != Some(TYPE)
            || header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.x5t.is_some()
            || header.x5t_s256.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::Invalid);
        }
        let decoded = match (header.alg, header.kid.as_deref()) {
            // HS256 has no `kid` and only ever the HMAC secret as its key, so a public key can never be one.
            (Algorithm::HS256, None) => {
                let (_, key) = self.inner.hmac.as_ref().ok_or(TokenError::Invalid)?;
                decode::<Claims>(token, key, &self.inner.hs256)
            }
            (Algorithm::ES256, Some(kid)) => {
                let ring = self.inner.ring.as_ref().ok_or(TokenError::Invalid)?;
                let set = ring.set();
                let key = set
                    .trusted(Utc::now())
                    .find(|key| key.kid == kid)
                    .ok_or(TokenError::Invalid)?;
                let key = DecodingKey::from_ec_components(&key.x, &key.y)
                    .map_err(|_| TokenError::Invalid)?;
                decode::<Claims>(token, &key, &self.inner.es256)
            }
            _ => return Err(TokenError::Invalid),
        };
        let claims = decoded
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

/// The header of every token issued: its algorithm, [`TYPE`], and the signing key's id with ES256.
fn header(algorithm: Algorithm, kid: Option<String>) -> Header {
    Header {
        typ: Some(TYPE.to_owned()),
        kid,
        ..Header::new(algorithm)
    }
}

#[cfg(test)]
mod tests;
