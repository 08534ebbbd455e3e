//! HS256 access tokens: issued by `auth`, checked by `list-users`.

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

    /// Issues a token for `user_id`, valid from now for the configured lifetime.
    pub fn issue(&self, user_id: Uuid) -> anyhow::Result<AccessToken> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id,
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
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn tokens(secret: &str) -> Tokens {
        Tokens::new(&TokenConfig {
            secret: SecretString::from(secret.to_owned()),
            ttl: Duration::from_secs(300),
        })
    }

    fn sign(claims: &serde_json::Value, header: Header, secret: &str) -> String {
        encode(
            &header,
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn claims_with(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = serde_json::json!({
            "sub": Uuid::now_v7(), "iat": now, "nbf": now, "exp": now + 300, "iss": ISSUER,
            "aud": AUDIENCE,
        });
        change(&mut claims);
        claims
    }

    #[test]
    fn an_issued_token_verifies_and_names_its_user() {
        let tokens = tokens(SECRET);
        let user = Uuid::now_v7();
        let issued = tokens.issue(user).unwrap();
        let claims = tokens.verify(issued.token.expose_secret()).unwrap();
        assert_eq!(claims.sub, user);
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        assert_eq!(claims.exp - claims.iat, 300);
        assert_eq!(claims.nbf, claims.iat);
        assert_eq!(issued.expires_in, Duration::from_secs(300));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() {
        let other = tokens("another secret that is 32 bytes long")
            .issue(Uuid::now_v7())
            .unwrap();
        assert_eq!(
            tokens(SECRET).verify(other.token.expose_secret()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_expired_token_is_reported_as_expired() {
        let token = sign(
            &claims_with(|c| {
                c["exp"] = serde_json::json!(jsonwebtoken::get_current_timestamp() - 60)
            }),
            header(),
            SECRET,
        );
        assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn missing_or_wrong_claims_are_invalid() {
        let now = jsonwebtoken::get_current_timestamp();
        type Change = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "no exp",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
            (
                "no nbf",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("nbf");
                }),
            ),
            (
                "no iat",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("iat");
                }),
            ),
            (
                "no sub",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
            ),
            ("wrong iss", Box::new(|c| c["iss"] = "someone-else".into())),
            (
                "no aud",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
            ),
            ("wrong aud", Box::new(|c| c["aud"] = "vimcar-admin".into())),
            (
                "aud a list with another audience",
                Box::new(|c| c["aud"] = serde_json::json!(["vimcar-admin"])),
            ),
            ("nbf ahead", Box::new(move |c| c["nbf"] = (now + 60).into())),
            ("iat ahead", Box::new(move |c| c["iat"] = (now + 60).into())),
            ("sub not a uuid", Box::new(|c| c["sub"] = "1".into())),
        ];
        for (name, change) in cases {
            let token = sign(&claims_with(change), header(), SECRET);
            assert_eq!(
                tokens(SECRET).verify(&token),
                Err(TokenError::Invalid),
                "{name}"
            );
        }
    }

    #[test]
    fn the_small_clock_skew_is_tolerated() {
        let ahead = jsonwebtoken::get_current_timestamp() + 3;
        let token = sign(
            &claims_with(|c| {
                c["nbf"] = ahead.into();
                c["iat"] = ahead.into();
            }),
            header(),
            SECRET,
        );
        assert!(tokens(SECRET).verify(&token).is_ok());
    }

    #[test]
    fn other_algorithms_and_key_headers_are_invalid() {
        let claims = claims_with(|_| ());
        let mut with_kid = header();
        with_kid.kid = Some("1".into());
        let mut with_jku = header();
        with_jku.jku = Some("http://127.0.0.1/keys".into());
        // Typed as issued, so that each is refused for its algorithm.
        let with_alg = |alg| Header { alg, ..header() };
        for header in [
            with_alg(Algorithm::HS384),
            with_alg(Algorithm::HS512),
            with_kid,
            with_jku,
        ] {
            let token = sign(&claims, header, SECRET);
            assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn an_issued_token_is_typed_as_an_access_token() {
        let issued = tokens(SECRET).issue(Uuid::now_v7()).unwrap();
        let header = decode_header(issued.token.expose_secret()).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn a_token_without_the_access_token_type_is_invalid() {
        let claims = claims_with(|_| ());
        for typ in [None, Some("JWT"), Some("id+jwt"), Some("at+jwt+x")] {
            let header = Header {
                typ: typ.map(str::to_owned),
                ..header()
            };
            let token = sign(&claims, header, SECRET);
            assert_eq!(
                tokens(SECRET).verify(&token),
                Err(TokenError::Invalid),
                "{typ:?}"
            );
        }
    }

    #[test]
    fn an_unsigned_token_is_invalid() {
        use base64::Engine;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(&claims_with(|_| ()))
        );
        assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_tampered_payload_or_an_oversized_token_is_invalid() {
        let tokens = tokens(SECRET);
        let issued = tokens.issue(Uuid::now_v7()).unwrap();
        let text = issued.token.expose_secret();
        let mut parts: Vec<String> = text.split('.').map(str::to_owned).collect();
        parts[1] = sign(&claims_with(|_| ()), header(), SECRET)
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        assert_eq!(tokens.verify(&parts.join(".")), Err(TokenError::Invalid));
        assert_eq!(
            tokens.verify(&"a".repeat(8 * 1024)),
            Err(TokenError::Invalid)
        );
        assert_eq!(tokens.verify("garbage"), Err(TokenError::Invalid));
    }
}
