//! `vimcar-admin keys`: the ES256 key set's rotation and listing, where the functions read it (JWT_KEYS_FILE, or
//! the Secrets Manager secrets JWT_SIGNING_KEYS_ID and JWT_PUBLIC_KEYS_ID).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use vimcar::config::{Config, KeysAt};
use vimcar::keys::{KeyRecord, KeySet, KeyStatus, Secrets};
use vimcar::tokens::LEEWAY;

/// Where the key set is kept.
pub enum KeyStore {
    File(PathBuf),
    Stored {
        secrets: Secrets,
        signing: String,
        public: String,
    },
}

impl KeyStore {
    /// The store the functions' configuration names.
    pub async fn from_config(config: &Config) -> anyhow::Result<Self> {
        match &config.tokens.keys {
            Some(KeysAt::File(path)) => Ok(Self::File(path.clone())),
            Some(KeysAt::Stored { signing, public }) => Ok(Self::Stored {
                secrets: Secrets::connect(config.tokens.secrets_endpoint.as_deref()).await?,
                signing: signing.clone().context(
                    "JWT_SIGNING_KEYS_ID is not set: the keys command writes both copies",
                )?,
                public: public.clone().context(
                    "JWT_PUBLIC_KEYS_ID is not set: the keys command writes both copies",
                )?,
            }),
            Some(KeysAt::Inline(_)) | None => bail!(
                "no key set is configured: set JWT_KEYS_FILE (a laptop), or JWT_SIGNING_KEYS_ID and \
                 JWT_PUBLIC_KEYS_ID (Secrets Manager)"
            ),
        }
    }

    /// What the store is, for the operator.
    pub fn describe(&self) -> String {
        match self {
            Self::File(path) => format!("key file {}", path.display()),
            Self::Stored {
                signing, public, ..
            } => format!("Secrets Manager secrets {signing} (signing) and {public} (public)"),
        }
    }

    /// The signers' copy; an absent file or secret is an empty set.
    pub async fn read(&self) -> anyhow::Result<KeySet> {
        match self {
            Self::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => KeySet::parse(&text).with_context(|| format!("{}", path.display())),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(KeySet::default()),
                Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
            },
            Self::Stored {
                secrets, signing, ..
            } => {
                if !secrets.exists(signing).await? {
                    return Ok(KeySet::default());
                }
                let text = secrets.read(signing).await?;
                KeySet::parse(text.expose_secret()).with_context(|| format!("secret {signing}"))
            }
        }
    }

    /// Stores `set`: the public copy first, so that no key can sign before verifiers can know it.
    pub async fn write(&self, set: &KeySet) -> anyhow::Result<()> {
        let private = serde_json::to_string(set)?;
        match self {
            Self::File(path) => write_private_file(path, &private),
            Self::Stored {
                secrets,
                signing,
                public,
            } => {
                let public_text = serde_json::to_string(&set.public())?;
                for (id, text) in [(public, &public_text), (signing, &private)] {
                    if secrets.exists(id).await? {
                        secrets.write(id, text).await?;
                    } else {
                        secrets.create(id, text).await?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Writes the signers' copy readable by its owner only, replacing the old file in one rename.
fn write_private_file(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let temporary = path.with_extension("json.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("writing {}", temporary.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))
}

/// How long a superseded key stays trusted after its successor starts signing: past the expiry of every token it
/// signed (the configured lifetime and the clock leeway), plus the time a function may still hold the set it read
/// before the rotation.
pub fn keep_after(config: &Config) -> Duration {
    config.tokens.ttl + LEEWAY + config.tokens.keys_refresh
}

/// `keys rotate`: a new key on standby for `activate_in` (at once when no key signs yet), the keys it supersedes set
/// to retire once their tokens have expired, and retired keys dropped.
pub async fn rotate(
    store: &KeyStore,
    config: &Config,
    activate_in: Duration,
) -> anyhow::Result<KeyRecord> {
    let now = Utc::now();
    let mut set = store.read().await?;
    let activates_at = if set.current(now).is_none() {
        now
    } else {
        now + chrono::Duration::from_std(activate_in)?
    };
    let new = KeyRecord::generate(now, activates_at);
    set.rotate(
        new.clone(),
        now,
        chrono::Duration::from_std(keep_after(config))?,
    );
    store.write(&set).await?;
    Ok(new.public())
}

/// One key as `keys list` shows it: never a private part.
#[derive(serde::Serialize)]
pub struct KeyLine {
    pub kid: String,
    pub status: KeyStatus,
    pub created_at: DateTime<Utc>,
    pub activates_at: DateTime<Utc>,
    pub retires_at: Option<DateTime<Utc>>,
}

/// Every key in the set, oldest first, with its status now.
pub async fn list(store: &KeyStore) -> anyhow::Result<Vec<KeyLine>> {
    let set = store.read().await?;
    let now = Utc::now();
    let mut lines: Vec<KeyLine> = set
        .keys
        .iter()
        .map(|key| KeyLine {
            kid: key.kid.clone(),
            status: set.status(key, now),
            created_at: key.created_at,
            activates_at: key.activates_at,
            retires_at: key.retires_at,
        })
        .collect();
    lines.sort_by_key(|line| line.activates_at);
    Ok(lines)
}
