//! The storage a command acts on, named before it acts.
//!
//! The functions' configuration falls back to `vimcar.db` and the table `vimcar-users`; an operator's command must not
//! guess. With DynamoDB the table is required. With SQLite the functions' default file is used when `SQLITE_PATH` is
//! not set, as `make dev` serves it, but the command says so, and only `db upgrade` creates a database: any other
//! command on a missing file is an error, not a new empty database.

use std::env;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use vimcar::config::StorageConfig;
use vimcar::storage::Storage;
use vimcar::storage::dynamodb::DynamoDb;
use vimcar::storage::sqlite::Sqlite;
use vimcar::users::ImportStore;

/// Where a command reads and writes.
pub enum Target {
    Sqlite {
        /// Absolute, so that the operator sees which file it is whatever the current directory.
        path: PathBuf,
        /// Why this file: set by `SQLITE_PATH`, or the default.
        source: &'static str,
    },
    DynamoDb {
        table: String,
        endpoint: Option<String>,
    },
}

/// Open storage and the sentence that names it.
pub struct Opened {
    pub storage: Storage,
    /// Where `import` writes: the same backend, through the port only this command opens.
    pub imports: Arc<dyn ImportStore>,
    pub description: String,
}

impl Target {
    /// Reads the target from the same variables as the functions, refusing what they would default.
    pub fn from_env() -> anyhow::Result<Self> {
        match StorageConfig::from_env()? {
            StorageConfig::Sqlite { path } => {
                let source = if env::var_os("SQLITE_PATH").is_some() {
                    "from SQLITE_PATH"
                } else {
                    "SQLITE_PATH is not set: the functions' default, in the current directory"
                };
                let path = std::path::absolute(&path)
                    .with_context(|| format!("resolving {}", path.display()))?;
                Ok(Self::Sqlite { path, source })
            }
            StorageConfig::DynamoDb { table, endpoint } => {
                if env::var_os("USERS_TABLE").is_none() {
                    bail!(
                        "USERS_BACKEND=dynamodb needs USERS_TABLE, the name of the table to act on: vimcar-admin \
                         does not guess it"
                    );
                }
                Ok(Self::DynamoDb { table, endpoint })
            }
        }
    }

    /// Opens the storage. Only `creating` (`db upgrade`) may create a SQLite database that does not exist yet.
    pub async fn open(&self, creating: bool) -> anyhow::Result<Opened> {
        match self {
            Self::Sqlite { path, source } => {
                let description = format!("SQLite database {} ({source})", path.display());
                if !creating && !path.exists() {
                    bail!(
                        "there is no {description}: create it with `vimcar-admin db upgrade`, or set SQLITE_PATH to \
                         an existing one"
                    );
                }
                let backend = Arc::new(Sqlite::open(path)?);
                Ok(Opened {
                    storage: Storage::of(backend.clone()),
                    imports: backend,
                    description,
                })
            }
            Self::DynamoDb { table, endpoint } => {
                let users = Arc::new(
                    DynamoDb::connect(table.as_str(), endpoint.as_deref())
                        .await
                        .context("USERS_BACKEND=dynamodb")?,
                );
                let region = users
                    .client()
                    .config()
                    .region()
                    .map_or_else(|| "no region".to_owned(), ToString::to_string);
                let endpoint = endpoint.as_deref().unwrap_or("AWS's endpoint");
                Ok(Opened {
                    storage: Storage::of(users.clone()),
                    imports: users,
                    description: format!("DynamoDB table {table} at {endpoint}/{region}"),
                })
            }
        }
    }
}
