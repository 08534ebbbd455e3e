//! Argon2id hashing and verification, run off the async runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::users::{Password, PasswordHash};

/// Argon2id at the OWASP minimum: 19 MiB of memory, two passes, one lane.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// What a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Match,
    Mismatch,
}

/// Hashes and verifies passwords. Build it once per process; clones share the dummy hash.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Verified against when a user does not exist or has no password, so that every failed login costs the same.
    dummy: Arc<String>,
    /// Argon2 verifications run so far, shared by clones: lets tests see that every login costs one.
    verifications: Arc<AtomicU64>,
}

impl PasswordHasher {
    /// A hasher with the project's Argon2id parameters.
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
            .map_err(|e| anyhow!("invalid Argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = argon2
            .hash_password(b"no user has this password; it only costs time")
            .map_err(|e| anyhow!("hashing the dummy password: {e}"))?
            .to_string();
        Ok(Self {
            argon2,
            dummy: Arc::new(dummy),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many verifications this hasher (and its clones) has run.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Hashes `password` with a fresh random salt, on a blocking thread.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let argon2 = self.argon2.clone();
        let password = SecretString::from(password.expose().to_owned());
        tokio::task::spawn_blocking(move || {
            argon2
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| PasswordHash::new(hash.to_string()))
                .map_err(|e| anyhow!("hashing a password: {e}"))
        })
        .await
        .context("the hashing task failed")?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is none, on a blocking thread.
    /// Either way one full Argon2 computation runs, so timing does not tell whether the user exists.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<&PasswordHash>,
    ) -> anyhow::Result<Verification> {
        let argon2 = self.argon2.clone();
        let (phc, real) = match hash {
            Some(hash) => (hash.as_str().to_owned(), true),
            None => (self.dummy.as_str().to_owned(), false),
        };
        let verifications = Arc::clone(&self.verifications);
        tokio::task::spawn_blocking(move || {
            verifications.fetch_add(1, Ordering::Relaxed);
            let parsed = PhcHash::new(&phc).map_err(|e| anyhow!("stored hash is not PHC: {e}"))?;
            let matched = argon2
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok();
            Ok(if matched && real {
                Verification::Match
            } else {
                Verification::Mismatch
            })
        })
        .await
        .context("the verification task failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(text: &str) -> Password {
        Password::parse(text, &[]).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_and_no_other() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher
            .hash(&password("correct horse battery staple"))
            .await
            .unwrap();
        let verify = |text: &str| hasher.verify(SecretString::from(text.to_owned()), Some(&hash));
        assert_eq!(
            verify("correct horse battery staple").await.unwrap(),
            Verification::Match
        );
        assert_eq!(
            verify("correct horse battery stapl").await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_owasp_parameters_and_a_fresh_salt() {
        let hasher = PasswordHasher::new().unwrap();
        let first = hasher
            .hash(&password("correct horse battery staple"))
            .await
            .unwrap();
        let second = hasher
            .hash(&password("correct horse battery staple"))
            .await
            .unwrap();
        assert!(
            first
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            first.as_str()
        );
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn no_hash_never_matches_not_even_the_dummy_password() {
        let hasher = PasswordHasher::new().unwrap();
        let dummy = SecretString::from("no user has this password; it only costs time".to_owned());
        assert_eq!(
            hasher.verify(dummy, None).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let hasher = PasswordHasher::new().unwrap();
        let corrupt = PasswordHash::new("not a hash".into());
        assert!(
            hasher
                .verify(SecretString::from("x".to_owned()), Some(&corrupt))
                .await
                .is_err()
        );
    }
}
