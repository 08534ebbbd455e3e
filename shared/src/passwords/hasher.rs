//! Argon2id hashing and verification, run off the async runtime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as PhcHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::users::{HashScheme, Password, PasswordHash};

/// Argon2id at the OWASP minimum: 19 MiB of memory, two passes, one lane.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// The most a stored hash may ask of a verification. A hash over these caps was not written by this code: it is
/// refused (verified as a mismatch against the dummy hash) so that a tampered record cannot make logins cost
/// gigabytes or minutes.
pub const MAX_M_COST_KIB: u32 = 256 * 1024;
pub const MAX_T_COST: u32 = 16;
pub const MAX_P_COST: u32 = 8;

/// The highest bcrypt cost verified: the Flask original's own (Flask-Bcrypt at 13 rounds; its default is 12). Each
/// step doubles the work, and one verification at 13 already costs about 25 Argon2 ones (451 ms against 18 ms, BENCHMARKS.md): a hash over
/// this cap is refused without being computed, as a mismatch, so that no stored record can make a login cost
/// seconds. `vimcar-admin import` skips such hashes, saying so.
pub const MAX_BCRYPT_COST: u32 = 13;

/// Verified against when a user does not exist or has no password, so that every failed login costs one full
/// Argon2 computation. Made once, offline, with the parameters above (a unit test holds it to them): hashing it at
/// start-up instead would add a whole hash to every cold start. Its salt is no secret; nothing ever matches it.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$drFLT7EXS8tz5Dh/Ynae0A$DT1MnBU4GjPfi9ZWISRCL8Kh5MSH3P96n3gj2Xcz+rE";
/// The password [`DUMMY_HASH`] was made from.
#[cfg(test)]
const DUMMY_PASSWORD: &str = "no user has this password; it only costs time";

/// Bytes of salt in a new hash (the PHC string format's recommendation).
const SALT_BYTES: usize = 16;
/// Bytes of Argon2 output in a new hash.
const OUTPUT_BYTES: usize = 32;

/// Argon2 working memory, kept from one hash to the next, most recently used last. Allocating and freeing the
/// 19 MiB for every hash let the allocator hand it back to the kernel, and the next hash page-faulted it in and
/// zeroed it again: one hash took either ~20 or ~30 ms depending on the allocator's state (BENCHMARKS.md).
///
/// A pool rather than a block per blocking thread (as before): tokio stops a blocking thread after 10 s idle, and a
/// thread's block went with it, so on a warm Lambda instance whose requests come more than 10 s apart, every hash
/// page-faulted a fresh block in again. The pool's blocks outlive the threads; it holds as many as hashes ever ran at
/// once (one in a Lambda instance, which serves one request at a time), not one per thread tokio ever started, and
/// hands out the one the last hash used, the likeliest to be still in cache. Argon2 writes every block before it
/// reads it, so what a block held before never reaches a result.
static BLOCKS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs Argon2 with `argon2`'s parameters into `out`, on kept memory. Memory for more than the current cost (an
/// older hash within the caps) is allocated for that computation alone.
fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let count = argon2.params().block_count();
    if count > M_COST_KIB as usize {
        return argon2.hash_password_into(password, salt, out);
    }
    // A poisoned lock only means a hash panicked while it held the list; the list itself is still whole.
    let taken = BLOCKS.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut blocks = taken.unwrap_or_default();
    if blocks.len() < count {
        blocks.resize(count, Block::new());
    }
    let result = argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..count]);
    BLOCKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(blocks);
    result
}

/// Whether `password` hashes to `phc`'s output under `phc`'s own algorithm, version, parameters and salt, compared
/// in constant time. A hash this code cannot compute (an unknown variant, a missing salt) matches nothing.
fn matches(password: &[u8], phc: &PhcHash) -> bool {
    let computed = || -> Option<bool> {
        let algorithm = Algorithm::try_from(phc.algorithm.as_str()).ok()?;
        let version = match phc.version {
            Some(version) => Version::try_from(version).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(phc).ok()?;
        let (salt, expected) = (phc.salt.as_ref()?, phc.hash.as_ref()?);
        let mut out = vec![0; expected.len()];
        compute(
            &Argon2::new(algorithm, version, params),
            password,
            salt,
            &mut out,
        )
        .ok()?;
        Some(Output::new(&out).ok()? == *expected)
    };
    computed().unwrap_or(false)
}

/// What a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Match,
    Mismatch,
}

/// Hashes and verifies passwords. Build it once per process; it computes nothing until asked.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Argon2 verifications run so far, shared by clones: lets tests see that every login costs one.
    verifications: Arc<AtomicU64>,
}

impl PasswordHasher {
    /// A hasher with the project's Argon2id parameters.
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
            .map_err(|e| anyhow!("invalid Argon2 parameters: {e}"))?;
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
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
            let salt: [u8; SALT_BYTES] = rand::random();
            let mut out = [0; OUTPUT_BYTES];
            compute(
                &argon2,
                password.expose_secret().as_bytes(),
                &salt,
                &mut out,
            )
            .map_err(|e| anyhow!("hashing a password: {e}"))?;
            let phc = PhcHash {
                algorithm: ARGON2ID_IDENT,
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(argon2.params())
                    .map_err(|e| anyhow!("formatting Argon2 parameters: {e}"))?,
                salt: Some(Salt::new(&salt).map_err(|e| anyhow!("formatting a salt: {e}"))?),
                hash: Some(Output::new(&out).map_err(|e| anyhow!("formatting a hash: {e}"))?),
            };
            Ok(PasswordHash::new(phc.to_string()))
        })
        .await
        .context("the hashing task failed")?
    }

    /// Whether `hash` was made with other parameters than the current ones (an older cost, another Argon2 variant,
    /// bcrypt), so that a successful login should store a fresh hash.
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        if hash.scheme() != HashScheme::Argon2 {
            return true;
        }
        let Ok(parsed) = PhcHash::new(hash.as_str()) else {
            return true;
        };
        let current = self.argon2.params();
        let params = Params::try_from(&parsed);
        parsed.algorithm != ARGON2ID_IDENT
            || parsed.version != Some(Version::V0x13 as u32)
            || !params.is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    == (current.m_cost(), current.t_cost(), current.p_cost())
            })
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is none, on a blocking thread.
    /// Either way one full computation runs, so timing does not tell whether the user exists: Argon2, or bcrypt for
    /// an imported user's hash until its first login replaces it (which takes longer, and so does tell; see the
    /// README's "Migrating from the Flask original"). A stored hash over the cost caps is never computed: it counts
    /// as a mismatch, verified against the dummy instead.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<&PasswordHash>,
    ) -> anyhow::Result<Verification> {
        let (stored, real) = match hash.map(|hash| (hash, hash.scheme())) {
            Some((hash, HashScheme::Bcrypt { cost })) if cost <= MAX_BCRYPT_COST => {
                (Stored::Bcrypt(hash.as_str().to_owned()), true)
            }
            Some((_, HashScheme::Bcrypt { .. })) => {
                tracing::error!(
                    "a stored bcrypt hash exceeds the bcrypt cost cap; refusing to verify it"
                );
                (Stored::Argon2(DUMMY_HASH.to_owned()), false)
            }
            Some((hash, _)) if within_caps(hash) => {
                (Stored::Argon2(hash.as_str().to_owned()), true)
            }
            Some(_) => {
                tracing::error!(
                    "a stored password hash exceeds the Argon2 cost caps; refusing to verify it"
                );
                (Stored::Argon2(DUMMY_HASH.to_owned()), false)
            }
            None => (Stored::Argon2(DUMMY_HASH.to_owned()), false),
        };
        let verifications = Arc::clone(&self.verifications);
        tokio::task::spawn_blocking(move || {
            verifications.fetch_add(1, Ordering::Relaxed);
            let password = password.expose_secret().as_bytes();
            let matched = match &stored {
                Stored::Argon2(phc) => {
                    let parsed =
                        PhcHash::new(phc).map_err(|e| anyhow!("stored hash is not PHC: {e}"))?;
                    matches(password, &parsed)
                }
                // Truncated at 72 bytes, as the Python bcrypt that wrote it did. An error is a hash that passed
                // the shape check yet does not decode: it matches nothing.
                Stored::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            };
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

/// A hash to verify against, by the scheme that computes it.
enum Stored {
    Argon2(String),
    Bcrypt(String),
}

/// Whether a stored hash asks no more than the caps. A hash that does not parse is left to the verifier to reject.
fn within_caps(hash: &PasswordHash) -> bool {
    let Ok(parsed) = PhcHash::new(hash.as_str()) else {
        return true;
    };
    match Params::try_from(&parsed) {
        Ok(params) => {
            params.m_cost() <= MAX_M_COST_KIB
                && params.t_cost() <= MAX_T_COST
                && params.p_cost() <= MAX_P_COST
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests;
