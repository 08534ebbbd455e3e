//! Refresh tokens: an HMAC-SHA256 tag over (user, session, generation), under a key derived from the signing secret.
//!
//! Nothing about a refresh token is stored: the session keeps its generation, and the token of any generation can
//! be recomputed from it by the holder of the key (which is how two tabs refreshing at once both get the current
//! one). Someone who reads the table learns session ids and generations, and can make no token from them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

/// Starts every refresh token, so that secret scanners and people can tell one apart from an access token.
pub const PREFIX: &str = "vrt1_";
/// Bytes before the tag: two UUIDs and a big-endian generation.
const CLAIMS_LEN: usize = 16 + 16 + 8;
const TAG_LEN: usize = 32;
/// The length of every refresh token's text: 72 bytes are 96 base64 characters, with no padding and no spare bits.
pub const TOKEN_LEN: usize = PREFIX.len() + (CLAIMS_LEN + TAG_LEN) / 3 * 4;
const _: () = assert!((CLAIMS_LEN + TAG_LEN).is_multiple_of(3));

/// What a refresh token says, once its tag is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub generation: u64,
}

/// A text that is not a refresh token this deployment issued: malformed, truncated, tampered with, or signed under
/// another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the refresh token is invalid")]
pub struct InvalidRefreshToken;

/// Signs and opens refresh tokens. Build it once per process.
#[derive(Clone)]
pub struct RefreshKey {
    key: Hmac<Sha256>,
}

impl RefreshKey {
    /// The key derived from `secret` (the signing secret) for refresh tokens alone: changing the secret ends every
    /// session, as it invalidates every access token.
    pub fn derive(secret: &SecretString) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        derive.update(b"vimcar refresh tokens v1");
        let key = derive.finalize().into_bytes();
        Self {
            key: Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length"),
        }
    }

    /// The token's text.
    pub fn sign(&self, token: &RefreshToken) -> SecretString {
        let claims = claims(token);
        let mut mac = self.key.clone();
        mac.update(&claims);
        let mut bytes = claims.to_vec();
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        SecretString::from(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// What `text` says, if this key signed it. The work is the same for every input of the right length, and
    /// nothing longer is decoded.
    pub fn open(&self, text: &str) -> Result<RefreshToken, InvalidRefreshToken> {
        if text.len() != TOKEN_LEN {
            return Err(InvalidRefreshToken);
        }
        let encoded = text.strip_prefix(PREFIX).ok_or(InvalidRefreshToken)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| InvalidRefreshToken)?;
        let (claims, tag) = bytes
            .split_at_checked(CLAIMS_LEN)
            .ok_or(InvalidRefreshToken)?;
        let mut mac = self.key.clone();
        mac.update(claims);
        // Constant time: the tag's bytes are not guessable one at a time.
        mac.verify_slice(tag).map_err(|_| InvalidRefreshToken)?;
        let uuid = |range: std::ops::Range<usize>| {
            Uuid::from_slice(&claims[range]).map_err(|_| InvalidRefreshToken)
        };
        Ok(RefreshToken {
            user_id: uuid(0..16)?,
            session_id: uuid(16..32)?,
            generation: u64::from_be_bytes(
                claims[32..40].try_into().map_err(|_| InvalidRefreshToken)?,
            ),
        })
    }
}

fn claims(token: &RefreshToken) -> [u8; CLAIMS_LEN] {
    let mut claims = [0; CLAIMS_LEN];
    claims[..16].copy_from_slice(token.user_id.as_bytes());
    claims[16..32].copy_from_slice(token.session_id.as_bytes());
    claims[32..].copy_from_slice(&token.generation.to_be_bytes());
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> RefreshKey {
        RefreshKey::derive(&SecretString::from(secret.to_owned()))
    }

    fn token() -> RefreshToken {
        RefreshToken {
            user_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            generation: 7,
        }
    }

    #[test]
    fn a_signed_token_opens_to_what_it_says() {
        let key = key("0123456789abcdef0123456789abcdef");
        let token = token();
        let text = key.sign(&token);
        assert_eq!(text.expose_secret().len(), TOKEN_LEN);
        assert!(text.expose_secret().starts_with(PREFIX));
        assert_eq!(key.open(text.expose_secret()), Ok(token));
    }

    #[test]
    fn another_deployments_key_does_not_open_it() {
        let text = key("0123456789abcdef0123456789abcdef").sign(&token());
        assert_eq!(
            key("fedcba9876543210fedcba9876543210").open(text.expose_secret()),
            Err(InvalidRefreshToken)
        );
    }

    #[test]
    fn every_single_character_change_truncation_or_extension_is_refused() {
        let key = key("0123456789abcdef0123456789abcdef");
        let text = key.sign(&token()).expose_secret().to_owned();
        for at in 0..text.len() {
            let mut changed = text.clone().into_bytes();
            changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            assert_eq!(
                key.open(&changed),
                Err(InvalidRefreshToken),
                "changed at {at}"
            );
            assert_eq!(
                key.open(&text[..at]),
                Err(InvalidRefreshToken),
                "cut at {at}"
            );
        }
        assert_eq!(key.open(&format!("{text}A")), Err(InvalidRefreshToken));
        assert_eq!(key.open(""), Err(InvalidRefreshToken));
    }
}
