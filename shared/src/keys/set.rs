//! A set of ES256 signing keys and the life of each: standby, current, previous, retired.
//!
//! A key's status follows from its times alone, so every function reading the same set agrees on it without being
//! told when a rotation happens: a key is **standby** (published in the JWKS, trusted, not yet signing) until its
//! `activates_at`; the activated key with the latest `activates_at` is **current** (it signs); an older activated
//! key is **previous** (published and trusted, so the tokens it signed stay valid) until its `retires_at`, which the
//! rotation that superseded it set past the expiry of every token it can have signed; then it is **retired**: no
//! longer published or trusted, and dropped from the set by the next rotation.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use p256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only curve, and the only algorithm.
pub const CURVE: &str = "P-256";
pub const ALGORITHM: &str = "ES256";

/// A key set as it is stored: the signers' copy holds each key's private scalar `d`; the verifiers' copy (and the
/// JWKS) never does.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeySet {
    pub keys: Vec<KeyRecord>,
}

/// One key and its times.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRecord {
    /// The RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The public point's coordinates, base64url.
    pub x: String,
    pub y: String,
    /// The private scalar, base64url; only in the signers' copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    pub created_at: DateTime<Utc>,
    /// From when it signs (until then it is on standby).
    pub activates_at: DateTime<Utc>,
    /// When it stops being trusted; set by the rotation that supersedes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("d", &self.d.as_ref().map(|_| "[redacted]"))
            .field("activates_at", &self.activates_at)
            .field("retires_at", &self.retires_at)
            .finish()
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

/// Where a key is in its life at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Standby,
    Current,
    Previous,
    Retired,
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Standby => "standby",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Retired => "retired",
        })
    }
}

/// A public key as a JWK (RFC 7517), as the JWKS publishes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicJwk<'a> {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: &'a str,
    pub x: &'a str,
    pub y: &'a str,
}

impl KeyRecord {
    /// A fresh key pair, created `now`, signing from `activates_at`.
    pub fn generate(now: DateTime<Utc>, activates_at: DateTime<Utc>) -> Self {
        let signing = loop {
            // Almost every 32 random bytes are a valid scalar; the loop takes the rare one that is not.
            if let Ok(key) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        let point = signing.verifying_key().to_encoded_point(false);
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(point.x().expect("an uncompressed point has x")),
            URL_SAFE_NO_PAD.encode(point.y().expect("an uncompressed point has y")),
        );
        Self {
            kid: thumbprint(&x, &y),
            x,
            y,
            d: Some(URL_SAFE_NO_PAD.encode(signing.to_bytes())),
            created_at: now,
            activates_at,
            retires_at: None,
        }
    }

    /// The same key without its private part.
    pub fn public(&self) -> Self {
        Self {
            d: None,
            ..self.clone()
        }
    }

    /// The JWK the JWKS publishes for it.
    pub fn jwk(&self) -> PublicJwk<'_> {
        PublicJwk {
            kty: "EC",
            crv: CURVE,
            alg: ALGORITHM,
            use_: "sig",
            kid: &self.kid,
            x: &self.x,
            y: &self.y,
        }
    }

    /// Whether `d` is the private key of (`x`, `y`).
    fn private_matches_public(&self) -> bool {
        let Some(scalar) = self.private_scalar() else {
            return false;
        };
        let Ok(signing) = SigningKey::from_slice(&scalar) else {
            return false;
        };
        let point = signing.verifying_key().to_encoded_point(false);
        point.x().map(|x| URL_SAFE_NO_PAD.encode(x)).as_deref() == Some(self.x.as_str())
            && point.y().map(|y| URL_SAFE_NO_PAD.encode(y)).as_deref() == Some(self.y.as_str())
    }

    /// The private scalar's bytes, if this copy holds them and they decode.
    pub fn private_scalar(&self) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(self.d.as_deref()?).ok()
    }
}

/// The RFC 7638 thumbprint of a P-256 public key: SHA-256 over its required members in lexicographic order.
pub fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"{CURVE}","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl KeySet {
    /// Parses a stored set, checking what a verifier relies on: every `kid` is its key's thumbprint (so no two keys
    /// share one) and every point decodes.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let set: Self = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("the key set is not valid JSON of keys: {e}"))?;
        for key in &set.keys {
            if key.kid != thumbprint(&key.x, &key.y) {
                anyhow::bail!("key {} is not its key's RFC 7638 thumbprint", key.kid);
            }
            // A private part that is not the published point's would sign tokens no verifier accepts.
            if key.d.is_some() && !key.private_matches_public() {
                anyhow::bail!(
                    "key {}'s private part does not belong to its public point",
                    key.kid
                );
            }
            let mut point = vec![4u8];
            for coordinate in [&key.x, &key.y] {
                point.extend(URL_SAFE_NO_PAD.decode(coordinate).unwrap_or_default());
            }
            if p256::PublicKey::from_sec1_bytes(&point).is_err() {
                anyhow::bail!("key {} is not a point on {CURVE}", key.kid);
            }
        }
        Ok(set)
    }

    /// The set without private parts.
    pub fn public(&self) -> Self {
        Self {
            keys: self.keys.iter().map(KeyRecord::public).collect(),
        }
    }

    /// Each key's status at `now`.
    pub fn status(&self, key: &KeyRecord, now: DateTime<Utc>) -> KeyStatus {
        if key.retires_at.is_some_and(|at| at <= now) {
            KeyStatus::Retired
        } else if key.activates_at > now {
            KeyStatus::Standby
        } else if self
            .current(now)
            .is_some_and(|current| current.kid == key.kid)
        {
            KeyStatus::Current
        } else {
            KeyStatus::Previous
        }
    }

    /// The key that signs at `now`: the activated, unretired key activated last.
    pub fn current(&self, now: DateTime<Utc>) -> Option<&KeyRecord> {
        self.keys
            .iter()
            .filter(|key| key.activates_at <= now && key.retires_at.is_none_or(|at| at > now))
            .max_by_key(|key| key.activates_at)
    }

    /// Every key trusted at `now` (standby, current and previous): the ones the JWKS publishes.
    pub fn trusted(&self, now: DateTime<Utc>) -> impl Iterator<Item = &KeyRecord> {
        self.keys
            .iter()
            .filter(move |key| key.retires_at.is_none_or(|at| at > now))
    }

    /// Adds `new` and prepares the others for it: retired keys are dropped, and every key it supersedes is set to
    /// retire `keep_after` past its activation (by then every token they signed has expired). A key already set to
    /// retire sooner keeps that time.
    pub fn rotate(&mut self, new: KeyRecord, now: DateTime<Utc>, keep_after: chrono::Duration) {
        self.keys
            .retain(|key| key.retires_at.is_none_or(|at| at > now));
        let retires_at = new.activates_at + keep_after;
        for key in &mut self.keys {
            if key.activates_at <= new.activates_at {
                key.retires_at = Some(key.retires_at.map_or(retires_at, |at| at.min(retires_at)));
            }
        }
        self.keys.push(new);
    }
}

#[cfg(test)]
mod tests;
