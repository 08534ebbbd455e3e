//! The users GET /api/users and POST /auth run against, stored as the user store itself stores them
//! (`vimcar::users`): no second copy of the SQLite schema or the DynamoDB item layout here.

use std::sync::Arc;

use tokio::runtime::Runtime;
use vimcar::config::StorageConfig;
use vimcar::storage::Storage;
use vimcar::storage::dynamodb::{BATCH_WRITE_ITEMS, DynamoDb, user_items};
use vimcar::users::{Email, PasswordHash, Skeleton, User, UserStore, UserStoreExt, Username};

use crate::Result;

/// Tries of each batch of the seeding.
const BATCH_ATTEMPTS: u32 = 3;

/// The store the functions are configured for, on a runtime of its own (nothing runs on it while wrk measures).
pub struct Store {
    runtime: Runtime,
    backend: Backend,
}

enum Backend {
    /// Users go in through the repository's `insert`, one transaction each (milliseconds on a local file).
    Repository(Arc<dyn UserStore>),
    /// Users go in as the repository's own items (`user_items`), 25 to a BatchWriteItem, through its client: moto
    /// copies the whole table for every item of a transaction, so a thousand `insert`s would each cost moto more,
    /// until they passed the SDK's 2 s attempt timeout (and a retried transaction that had in fact been written
    /// would fail as a conflict).
    DynamoDb(DynamoDb),
}

impl Store {
    /// Opens the store that `env` configures (read as the functions read their configuration) and brings it up to
    /// date: migrations on SQLite, the table on DynamoDB, as `vimcar-admin db upgrade` does.
    pub fn open(env: &[(String, String)]) -> Result<Self> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let storage = StorageConfig::from_lookup(lookup)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let backend = runtime.block_on(async {
            let backend = match &storage {
                StorageConfig::DynamoDb { table, endpoint } => {
                    let users = DynamoDb::connect(table.as_str(), endpoint.as_deref()).await?;
                    users.upgrade().await?;
                    Backend::DynamoDb(users)
                }
                StorageConfig::Sqlite { .. } => {
                    let users = Storage::open(&storage).await?.users;
                    users.upgrade().await?;
                    Backend::Repository(users)
                }
            };
            Result::Ok(backend)
        })?;
        Ok(Self { runtime, backend })
    }

    /// The runtime the store's calls run on.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Stores `count` users named `PREFIX-N` (with `PREFIX-N@example.com`), without passwords: nobody logs in as
    /// them, and hashing a thousand with Argon2 would take longer than the measurements.
    pub fn seed(&self, count: usize, prefix: &str) -> Result<()> {
        self.seed_with(count, prefix, None).map(drop)
    }

    /// Stores `count` users named `PREFIX-N`, all with `hash` (one hash for all: the routes that check a password
    /// take one each), and answers them.
    pub fn seed_with(
        &self,
        count: usize,
        prefix: &str,
        hash: Option<&PasswordHash>,
    ) -> Result<Vec<User>> {
        let mut users = Vec::with_capacity(count);
        for n in 0..count {
            let name = format!("{prefix}-{n}");
            users.push(User::new(
                Username::parse(&name)?,
                Email::parse(&format!("{name}@example.com"))?,
            ));
        }
        self.runtime.block_on(async {
            match &self.backend {
                Backend::Repository(store) => {
                    for user in &users {
                        store.insert(user, hash).await?;
                    }
                }
                Backend::DynamoDb(store) => {
                    let items: Vec<_> = users
                        .iter()
                        .flat_map(|user| user_items(user, hash, &Skeleton::of(&user.username)))
                        .collect();
                    // Puts are idempotent: a batch whose answer moto lost (it stalls past the SDK's timeouts now
                    // and then) is written again.
                    for batch in items.chunks(BATCH_WRITE_ITEMS) {
                        let mut attempt = 1;
                        while let Err(error) = store.put_batch(batch.to_vec()).await {
                            if attempt == BATCH_ATTEMPTS {
                                return Err(format!(
                                    "storing users after {BATCH_ATTEMPTS} tries: {error}"
                                )
                                .into());
                            }
                            attempt += 1;
                        }
                    }
                }
            }
            Result::Ok(())
        })?;
        Ok(users)
    }
}
