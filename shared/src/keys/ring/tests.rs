//! Unit tests of `ring`: a key file read again when due, and only then; a failed read keeps the set in hand.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::*;
use crate::keys::KeyRecord;

/// A key file in a directory of its own, removed afterwards.
struct KeyFile {
    dir: PathBuf,
}

impl KeyFile {
    fn new(set: &KeySet) -> Self {
        let dir = std::env::temp_dir().join(format!("vimcar-ring-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = Self { dir };
        file.write(&serde_json::to_string(set).unwrap());
        file
    }

    fn path(&self) -> PathBuf {
        self.dir.join("keys.json")
    }

    fn write(&self, text: &str) {
        std::fs::write(self.path(), text).unwrap();
    }

    async fn ring(&self, signer: bool, refresh: Duration) -> KeyRing {
        KeyRing::load(&KeysAt::File(self.path()), signer, None, refresh)
            .await
            .unwrap()
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn one_key() -> KeySet {
    let now = Utc::now();
    KeySet {
        keys: vec![KeyRecord::generate(now, now)],
    }
}

fn kids(ring: &KeyRing) -> Vec<String> {
    ring.set().keys.iter().map(|key| key.kid.clone()).collect()
}

/// Waits on the monotonic clock until `refresh` has passed since `since`.
async fn wait_until_due(since: Instant, refresh: Duration) {
    let due = since + refresh;
    while Instant::now() < due {
        tokio::time::sleep(due - Instant::now()).await;
    }
}

#[tokio::test]
async fn a_verifier_keeps_only_the_public_parts_and_a_signer_the_private_ones() {
    let set = one_key();
    let file = KeyFile::new(&set);
    let verifier = file.ring(false, Duration::from_secs(3600)).await;
    assert!(!verifier.signer());
    assert_eq!(*verifier.set(), set.public());
    let signer = file.ring(true, Duration::from_secs(3600)).await;
    assert_eq!(*signer.set(), set);
}

#[tokio::test]
async fn the_set_is_not_read_again_before_it_is_due() {
    let file = KeyFile::new(&one_key());
    let ring = file.ring(false, Duration::from_secs(3600)).await;
    let before = kids(&ring);
    file.write(&serde_json::to_string(&one_key()).unwrap());
    ring.refresh_if_due().await;
    assert_eq!(kids(&ring), before);
}

#[tokio::test]
async fn a_due_set_is_read_again_and_a_failed_read_keeps_the_one_in_hand() {
    let refresh = Duration::from_secs(1);
    let file = KeyFile::new(&one_key());
    let ring = file.ring(false, refresh).await;
    let loaded = Instant::now();
    let rotated = one_key();
    file.write(&serde_json::to_string(&rotated).unwrap());
    wait_until_due(loaded, refresh).await;
    ring.refresh_if_due().await;
    assert_eq!(*ring.set(), rotated.public());

    // Broken, then missing: the set in hand stays, and is not retried before RETRY_AFTER.
    for break_it in [
        &(|file: &KeyFile| file.write("{\"keys\": 1}")) as &dyn Fn(&KeyFile),
        &|file: &KeyFile| std::fs::remove_file(file.path()).unwrap(),
    ] {
        let read = Instant::now();
        break_it(&file);
        wait_until_due(read, refresh).await;
        ring.refresh_if_due().await;
        assert_eq!(*ring.set(), rotated.public());
        // Repaired at once, it is still not read again until the retry is due (30 s on).
        file.write(&serde_json::to_string(&one_key()).unwrap());
        ring.refresh_if_due().await;
        assert_eq!(*ring.set(), rotated.public());
        // Let the next round start from a due ring again.
        *ring.due.lock().unwrap() = Instant::now();
    }
}

#[tokio::test]
async fn a_fixed_ring_is_never_read_again() {
    let set = one_key();
    let ring = KeyRing::fixed(set.clone(), true);
    ring.refresh_if_due().await;
    assert_eq!(*ring.set(), set);
}

#[tokio::test]
async fn a_missing_or_broken_file_at_start_up_is_an_error_naming_it() {
    let file = KeyFile::new(&one_key());
    file.write("not json");
    let error = KeyRing::load(
        &KeysAt::File(file.path()),
        false,
        None,
        Duration::from_secs(1),
    )
    .await
    .err()
    .unwrap();
    assert!(format!("{error:#}").contains("JWT_KEYS_FILE"), "{error:#}");
    std::fs::remove_file(file.path()).unwrap();
    let error = KeyRing::load(
        &KeysAt::File(file.path()),
        false,
        None,
        Duration::from_secs(1),
    )
    .await
    .err()
    .unwrap();
    assert!(
        format!("{error:#}").contains(file.path().to_str().unwrap()),
        "{error:#}"
    );
}
