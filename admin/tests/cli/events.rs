//! The security events `vimcar-admin` records: one JSON line each on standard error, beside its messages, with no
//! username, email, password or hash.

use std::process::Output;

use serde_json::Value;
use vimcar::storage::sqlite::Sqlite;
use vimcar::users::{UserStore, Username};

use super::import::{bcrypt, flask_db};
use super::{PASSWORD, Scratch, stderr};

/// The event lines of a run's standard error (its other lines are messages for the operator).
fn events(output: &Output) -> Vec<Value> {
    assert!(output.status.success(), "{}", stderr(output));
    stderr(output)
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("an event line is JSON"))
        .collect()
}

fn assert_no_secret(output: &Output, secrets: &[&str]) {
    let text = format!(
        "{}{}",
        stderr(output),
        String::from_utf8_lossy(&output.stdout)
    );
    for line in text.lines().filter(|line| line.starts_with('{')) {
        for secret in secrets {
            assert!(!line.contains(secret), "{secret:?} in {line}");
        }
    }
}

async fn id_of(scratch: &Scratch, name: &str) -> String {
    let users = Sqlite::open(scratch.db()).unwrap();
    users
        .by_username(&Username::parse(name).unwrap())
        .await
        .unwrap()
        .expect("the user exists")
        .id
        .to_string()
}

#[tokio::test]
async fn grant_revoke_and_import_record_their_events_on_standard_error() {
    let scratch = Scratch::new();
    scratch.create("alice");
    let alice = id_of(&scratch, "alice").await;
    let steps = [
        ("grant-admin", "admin.granted", true),
        ("grant-admin", "admin.granted", false),
        ("revoke-admin", "admin.revoked", true),
    ];
    for (command, event, changed) in steps {
        let output = scratch.run(&["users", command, "alice"], None);
        let lines = events(&output);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["event"], event, "{line}");
        assert_eq!(line["outcome"], "success", "{line}");
        assert_eq!(line["function"], "vimcar-admin", "{line}");
        assert_eq!(line["user_id"], alice.as_str(), "{line}");
        assert_eq!(line["changed"], changed, "{command}: {line}");
        assert!(line.get("_aws").is_none(), "no metric: {line}");
        assert_no_secret(&output, &["\"alice\"", "alice@example.com"]);
    }

    let source = scratch.dir.join("flask.db");
    let hash = bcrypt(PASSWORD);
    flask_db(
        &source,
        &[
            (1, "carol", "carol@example.com", Some(hash.clone()), None),
            (2, "bad name!", "bad@example.com", None, None),
        ],
    );
    let output = scratch.run(&["import", "flask", source.to_str().unwrap()], None);
    let lines = events(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["event"], "import.run", "{line}");
    assert_eq!(line["outcome"], "success", "{line}");
    assert_eq!(line["function"], "vimcar-admin", "{line}");
    assert_eq!(line["dry_run"], false, "{line}");
    assert_eq!(line["rows"], 2, "{line}");
    assert_eq!(line["imported"], 1, "{line}");
    assert_eq!(line["skipped"], 1, "{line}");
    assert_eq!(line["already_imported"], 0, "{line}");
    let hash = String::from_utf8(hash).unwrap();
    assert_no_secret(
        &output,
        &["carol", "bad name", "@example.com", &hash, PASSWORD],
    );
}
