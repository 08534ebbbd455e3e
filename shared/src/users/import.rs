//! Importing users from another system (the Flask original): the port that stores them, and the ids they get.
//!
//! An imported user keeps its name, email, creation time, admin flag and password hash (bcrypt, until its first
//! login replaces it). Each import is recorded under the user's id, in the same atomic step as the user, so that a
//! second run knows what the first one did, even for a user deleted since: a re-run never brings one back.

use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::{Builder, Uuid};

use super::{Account, PasswordHash, Skeleton};
use crate::storage::StoreError;

/// What an import of one user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// The user is stored now, with the record of its import.
    New,
    /// An earlier import stored this user (it may have been deleted since): nothing was written.
    Before,
}

/// Stores imported users. Only the admin command opens it, so none of its code is in a function's bootstrap.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Stores `account` (user, admin flag) with `hash` and the record of its import, all in one atomic step, or
    /// nothing: an earlier import of the same id answers [`Imported::Before`]; a taken username, email or skeleton is
    /// [`StoreError::Conflict`] naming the taken fields, as a registration's is.
    async fn import_with_skeleton(
        &self,
        account: &Account,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<Imported, StoreError>;

    /// Whether an import recorded this id (a dry run's question; it writes nothing).
    async fn imported_before(&self, id: Uuid) -> Result<bool, StoreError>;
}

/// `import`, which computes the username's skeleton for [`ImportStore::import_with_skeleton`].
pub trait ImportStoreExt: ImportStore {
    fn import(
        &self,
        account: &Account,
        hash: Option<&PasswordHash>,
    ) -> impl Future<Output = Result<Imported, StoreError>> + Send {
        async move {
            let skeleton = Skeleton::of(&account.user.username);
            self.import_with_skeleton(account, &skeleton, hash).await
        }
    }
}

impl<T: ImportStore + ?Sized> ImportStoreExt for T {}

/// The id an imported row gets: a UUIDv7 whose timestamp is the row's creation time, so imported users list in
/// their original order (and before anyone who registers later), and whose other bits come from a SHA-256 of
/// `source` (what identifies the row in its system), so that every run, dry or not, gives the same row the same id.
pub fn imported_id(created_at: DateTime<Utc>, source: &[u8]) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"vimcar import v1\0")
        .chain_update(source)
        .finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(created_at.timestamp_millis()).unwrap_or(0);
    Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_id_is_a_uuidv7_of_the_creation_time_and_stable() {
        let at = DateTime::parse_from_rfc3339("2024-06-01T12:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = imported_id(at, b"flask 1 foo");
        assert_eq!(id.get_version_num(), 7);
        let (seconds, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!((seconds, nanos / 1_000_000), (at.timestamp() as u64, 123));
        assert_eq!(id, imported_id(at, b"flask 1 foo"));
        assert_ne!(id, imported_id(at, b"flask 2 foo"));
        let later = at + chrono::Duration::milliseconds(1);
        assert!(imported_id(later, b"flask 0 zzz") > id);
    }
}
