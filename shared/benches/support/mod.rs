//! What both benchmarks need: a scratch SQLite file, the runtime, a stand-in password hash.

use std::path::{Path, PathBuf};

use uuid::Uuid;
use vimcar::users::PasswordHash;

/// A SQLite file under Cargo's scratch directory for benchmarks, removed with its WAL when dropped. A file rather
/// than memory, because `make dev` and the admin command run on a file in WAL mode.
pub struct TempDb(PathBuf);

impl TempDb {
    pub fn new(name: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).expect("the benchmark scratch directory exists");
        Self(dir.join(format!("{name}-{}.db", Uuid::now_v7().simple())))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The runtime a function's `#[tokio::main]` builds, on the two cores this machine has.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the runtime builds")
}

/// A hash as long as the real ones, for users nobody logs in as: hashing them with Argon2 would make seeding a
/// million users take hours.
pub const PLACEHOLDER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2VlZGVkLWZvci1saXN0$cGxhY2Vob2xkZXItbm90LWEtcmVhbC1oYXNoLi4u";

pub fn placeholder_hash() -> PasswordHash {
    PasswordHash::new(PLACEHOLDER_HASH.to_owned())
}
