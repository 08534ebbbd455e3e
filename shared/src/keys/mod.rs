//! Signing material: the HMAC secret (`VIMCAR_SECRET`: HS256 tokens, refresh tokens, login-throttle keys) and the
//! ES256 key sets, and where each comes from: the environment or a file on a laptop, Secrets Manager in a
//! deployment. Each function loads only what its registry entry says it uses ([`KeyUse`]), so a function that never
//! signs holds no signing key, and register holds nothing at all.

mod ring;
mod secrets;
mod set;

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

pub use ring::KeyRing;
pub use secrets::Secrets;
pub use set::{ALGORITHM, CURVE, KeyRecord, KeySet, KeyStatus, PublicJwk, thumbprint};

use crate::config::{ConfigError, JwtAlgorithm, KeysAt, MIN_SECRET_BYTES, SecretAt, TokenConfig};
use crate::tokens::Tokens;

/// How long a key set is used before it is read again; `JWT_KEYS_REFRESH_SECONDS` overrides it.
pub const DEFAULT_KEYS_REFRESH: Duration = Duration::from_secs(300);
/// How long clients may cache the JWKS (its `Cache-Control: max-age`).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(600);
/// How long a rotated-in key waits on standby by default before it signs: longer than a client caches the JWKS
/// plus a function keeps a key set, so that by then every verifier, ours or a client's, knows it.
pub const DEFAULT_ACTIVATION_DELAY: Duration =
    Duration::from_secs(JWKS_MAX_AGE.as_secs() + DEFAULT_KEYS_REFRESH.as_secs());

/// What signing material a function uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUse {
    /// The HMAC secret for refresh tokens or login-throttle keys, whatever the token algorithm.
    pub hmac: bool,
    /// It issues access tokens.
    pub sign: bool,
    /// It verifies access tokens.
    pub verify: bool,
    /// It publishes the public keys (the JWKS): the verifiers' key set with ES256, nothing with HS256.
    pub publish: bool,
}

impl KeyUse {
    /// Nothing (register).
    pub const NONE: Self = Self {
        hmac: false,
        sign: false,
        verify: false,
        publish: false,
    };
    /// Everything a function serving a caller can use: change-password checks the caller's token, counts the
    /// attempt under the HMAC-keyed counters and signs the new session's tokens.
    pub const ALL_BUT_PUBLISH: Self = Self {
        hmac: true,
        sign: true,
        verify: true,
        publish: false,
    };
    /// Everything (the tests' and benchmarks' states, which serve every route).
    pub const ALL: Self = Self {
        hmac: true,
        sign: true,
        verify: true,
        publish: true,
    };

    /// Whether, under `config`, it needs the HMAC secret: for its own HMACs, for HS256 tokens, or to accept HS256
    /// tokens during a move to ES256.
    pub fn needs_secret(&self, config: &TokenConfig) -> bool {
        self.hmac
            || match config.algorithm {
                JwtAlgorithm::Hs256 => self.sign || self.verify,
                JwtAlgorithm::Es256 => config.accept_hs256 && self.verify,
            }
    }
}

/// A function's signing material, loaded.
pub struct Material {
    /// The HMAC secret, when the function uses it.
    pub secret: Option<SecretString>,
    pub tokens: Tokens,
}

/// Loads what `uses` says from where `config` says, reading Secrets Manager when the configuration names secrets.
pub async fn load(config: &TokenConfig, uses: KeyUse) -> anyhow::Result<Material> {
    let needs_secrets_manager = matches!(config.secret, Some(SecretAt::Stored(_)))
        && uses.needs_secret(config)
        || matches!(config.keys, Some(KeysAt::Stored { .. }))
            && config.algorithm == JwtAlgorithm::Es256
            && (uses.sign || uses.verify || uses.publish);
    let secrets = if needs_secrets_manager {
        Some(Secrets::connect(config.secrets_endpoint.as_deref()).await?)
    } else {
        None
    };
    // The HMAC secret and the key set are two Secrets Manager reads: made at once, a cold start waits for one
    // round trip rather than two.
    let secret = async {
        if uses.needs_secret(config) {
            load_secret(config, secrets.as_ref()).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let ring = async {
        match config.algorithm {
            JwtAlgorithm::Es256 if uses.sign || uses.verify || uses.publish => {
                let at = config.keys.as_ref().ok_or(ConfigError::Missing {
                    name: "JWT_KEYS_FILE",
                    hint: "JWT_ALGORITHM=ES256 needs a key set: JWT_KEYS_FILE on a laptop (`make dev` makes one), \
                           or JWT_SIGNING_KEYS_ID and JWT_PUBLIC_KEYS_ID in Secrets Manager",
                })?;
                KeyRing::load(at, uses.sign, secrets.clone(), config.keys_refresh)
                    .await
                    .map(Some)
            }
            _ => Ok(None),
        }
    };
    let (secret, ring) = tokio::try_join!(secret, ring)?;
    let tokens = Tokens::new(config, hmac_for(config, secret.as_ref()), ring);
    Ok(Material { secret, tokens })
}

/// Loads what `uses` says without any network call: for configurations whose material is in the environment or
/// given whole (tests, benchmarks). Secrets Manager references are refused: [`load`] reads them.
pub fn load_local(config: &TokenConfig, uses: KeyUse) -> anyhow::Result<Material> {
    let secret = if uses.needs_secret(config) {
        match &config.secret {
            Some(SecretAt::Value(value)) => Some(value.clone()),
            _ => anyhow::bail!("load_local reads VIMCAR_SECRET itself only; use keys::load"),
        }
    } else {
        None
    };
    let ring = match (config.algorithm, &config.keys) {
        (JwtAlgorithm::Es256, Some(KeysAt::Inline(set)))
            if uses.sign || uses.verify || uses.publish =>
        {
            Some(KeyRing::fixed(
                if uses.sign { set.clone() } else { set.public() },
                uses.sign,
            ))
        }
        (JwtAlgorithm::Es256, _) if uses.sign || uses.verify || uses.publish => {
            anyhow::bail!("load_local takes an inline key set only; use keys::load")
        }
        _ => None,
    };
    let tokens = Tokens::new(config, hmac_for(config, secret.as_ref()), ring);
    Ok(Material { secret, tokens })
}

/// The HMAC secret as tokens may use it: with HS256, or with ES256 while HS256 tokens are still accepted.
fn hmac_for<'a>(
    config: &TokenConfig,
    secret: Option<&'a SecretString>,
) -> Option<&'a SecretString> {
    match config.algorithm {
        JwtAlgorithm::Hs256 => secret,
        JwtAlgorithm::Es256 if config.accept_hs256 => secret,
        JwtAlgorithm::Es256 => None,
    }
}

/// The HMAC secret, from the environment or Secrets Manager, held to the same length rule either way.
async fn load_secret(
    config: &TokenConfig,
    secrets: Option<&Secrets>,
) -> anyhow::Result<SecretString> {
    let secret = match &config.secret {
        Some(SecretAt::Value(value)) => value.clone(),
        Some(SecretAt::Stored(id)) => secrets
            .context("no Secrets Manager client")?
            .read(id)
            .await
            .context("VIMCAR_SECRET_ID")?,
        None => {
            return Err(ConfigError::Missing {
                name: "VIMCAR_SECRET",
                hint: "set it to a random string of at least 32 bytes, e.g. `openssl rand -hex 32`, or \
                       VIMCAR_SECRET_ID to a Secrets Manager secret holding one",
            }
            .into());
        }
    };
    let length = secret.expose_secret().len();
    if length < MIN_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name: "VIMCAR_SECRET",
            reason: format!("it is {length} bytes long; at least {MIN_SECRET_BYTES} are required"),
        }
        .into());
    }
    Ok(secret)
}
