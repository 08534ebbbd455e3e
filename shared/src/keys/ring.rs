//! A function's copy of the ES256 key set, read at start-up and again every few minutes, so that a rotation reaches
//! every running function without a deployment.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::ExposeSecret;

use super::{KeySet, Secrets};
use crate::config::KeysAt;

/// How soon a failed re-read is tried again (the set in hand stays in use meanwhile).
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Where the set is read from.
enum Source {
    /// Given whole (tests, benchmarks): never re-read.
    Fixed,
    /// A JSON file holding the signers' copy (`make dev`); a verifier keeps only the public parts.
    File(PathBuf),
    /// A Secrets Manager secret: the signers' copy for a function that signs, the public copy otherwise.
    Stored { secrets: Secrets, id: String },
}

/// The key set in use, and when to read it again.
pub struct KeyRing {
    source: Source,
    /// Whether this function signs (and so reads the private copy).
    signer: bool,
    set: RwLock<Arc<KeySet>>,
    due: Mutex<Instant>,
    refresh: Duration,
}

impl KeyRing {
    /// Reads the set from where `at` says: the signers' copy if `signer`, else the public one.
    pub async fn load(
        at: &KeysAt,
        signer: bool,
        secrets: Option<Secrets>,
        refresh: Duration,
    ) -> anyhow::Result<Self> {
        let source = match at {
            KeysAt::Inline(set) => {
                return Ok(Self::fixed(
                    if signer { set.clone() } else { set.public() },
                    signer,
                ));
            }
            KeysAt::File(path) => Source::File(path.clone()),
            KeysAt::Stored { signing, public } => {
                let (id, name) = if signer {
                    (signing, "JWT_SIGNING_KEYS_ID")
                } else {
                    (public, "JWT_PUBLIC_KEYS_ID")
                };
                Source::Stored {
                    secrets: secrets.context("no Secrets Manager client")?,
                    id: id
                        .clone()
                        .with_context(|| format!("{name} is not set: this function needs it"))?,
                }
            }
        };
        let ring = Self {
            source,
            signer,
            set: RwLock::new(Arc::new(KeySet::default())),
            due: Mutex::new(Instant::now() + refresh),
            refresh,
        };
        let set = ring.read().await?;
        *ring.set.write().expect("key set lock") = Arc::new(set);
        Ok(ring)
    }

    /// A ring over `set`, never re-read.
    pub fn fixed(set: KeySet, signer: bool) -> Self {
        Self {
            source: Source::Fixed,
            signer,
            set: RwLock::new(Arc::new(set)),
            due: Mutex::new(Instant::now()),
            refresh: Duration::MAX,
        }
    }

    /// The set in use.
    pub fn set(&self) -> Arc<KeySet> {
        Arc::clone(&self.set.read().expect("key set lock"))
    }

    /// Whether this copy may hold private parts.
    pub fn signer(&self) -> bool {
        self.signer
    }

    /// Reads the set again if it is due; a failure keeps the set in hand and tries again soon.
    pub async fn refresh_if_due(&self) {
        if matches!(self.source, Source::Fixed) {
            return;
        }
        {
            let mut due = self.due.lock().expect("key set lock");
            let now = Instant::now();
            if now < *due {
                return;
            }
            // One reader at a time: the others go on with the set in hand.
            *due = now + RETRY_AFTER;
        }
        match self.read().await {
            Ok(set) => {
                *self.set.write().expect("key set lock") = Arc::new(set);
                *self.due.lock().expect("key set lock") = Instant::now() + self.refresh;
            }
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "could not read the key set again; keeping the one in hand"
            ),
        }
    }

    async fn read(&self) -> anyhow::Result<KeySet> {
        let set = match &self.source {
            Source::Fixed => return Ok((*self.set()).clone()),
            Source::File(path) => {
                let path = path.clone();
                let text = tokio::task::spawn_blocking(move || {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading JWT_KEYS_FILE {}", path.display()))
                })
                .await
                .context("the key file task failed")??;
                KeySet::parse(&text).context("JWT_KEYS_FILE")?
            }
            Source::Stored { secrets, id } => {
                let text = secrets.read(id).await?;
                KeySet::parse(text.expose_secret()).with_context(|| format!("secret {id}"))?
            }
        };
        Ok(if self.signer { set } else { set.public() })
    }
}

#[cfg(test)]
mod tests;
