//! `vimcar-admin keys rotate` and `keys list` as an operator runs them: on a key file (`make dev`'s) and on the two
//! Secrets Manager secrets (moto), never showing or publishing a private part.

use std::os::unix::fs::PermissionsExt;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;
use vimcar::keys::{KeySet, Secrets};
use vimcar_tests::requests::field_names;

use super::{Scratch, run_with, stderr, stdout};

/// `keys list --json`: one object per line.
fn listed(env: &[(&str, &str)]) -> Vec<Value> {
    let output = run_with(env, None, &["keys", "list", "--json"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// `keys rotate` with `args`, asserting it worked, and answers the new key's id.
fn rotated(env: &[(&str, &str)], args: &[&str]) -> String {
    let output = run_with(env, None, &[&["keys", "rotate"], args].concat(), None);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    out.strip_prefix("added key ")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no key id in {out:?}"))
        .to_owned()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// What every listing must hold to: exactly the public fields, never a private scalar of `set`.
fn assert_nothing_private(text: &str, set: &KeySet) {
    assert!(!text.contains("\"d\""), "{text}");
    for key in &set.keys {
        assert!(
            !text.contains(key.d.as_deref().expect("the signers' copy")),
            "a private scalar is shown"
        );
    }
}

/// The two rotations every store goes through: the first key signs at once, the second waits on standby while
/// the first signs on, then retires once the tokens it signed have expired.
fn rotate_twice_and_list(env: &[(&str, &str)], read: impl Fn() -> KeySet) {
    let first = rotated(env, &[]);
    let lines = listed(env);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["kid"], first.as_str());
    assert_eq!(
        lines[0]["status"], "current",
        "an empty set gets a key that signs at once"
    );
    assert_eq!(lines[0]["retires_at"], Value::Null);

    let second = rotated(env, &[]);
    assert_ne!(second, first);
    let lines = listed(env);
    let fields: Vec<Vec<&str>> = lines.iter().map(field_names).collect();
    for names in &fields {
        assert_eq!(
            names,
            &["activates_at", "created_at", "kid", "retires_at", "status"]
        );
    }
    let by_kid = |kid: &str| {
        lines
            .iter()
            .find(|line| line["kid"] == kid)
            .unwrap_or_else(|| panic!("{kid} is not listed: {lines:?}"))
            .clone()
    };
    let (old, new) = (by_kid(&first), by_kid(&second));
    assert_eq!(
        old["status"], "current",
        "the old key signs until the new one activates"
    );
    assert_eq!(new["status"], "standby");
    // The default wait: 900 s on standby.
    let wait = time(&new["activates_at"]) - time(&new["created_at"]);
    assert_eq!(wait.num_seconds(), 900);
    // The old key retires once every token it may sign before the switch has expired: the token lifetime (300 s),
    // the leeway (5 s) and a function's key-set refresh (300 s) after the switch.
    let kept = time(&old["retires_at"]) - time(&new["activates_at"]);
    assert_eq!(kept.num_seconds(), 605);

    let set = read();
    assert_eq!(set.keys.len(), 2);
    let text = stdout(&run_with(env, None, &["keys", "list"], None));
    assert!(text.contains(&first) && text.contains(&second), "{text}");
    assert_nothing_private(&text, &set);
    let text = stdout(&run_with(env, None, &["keys", "list", "--json"], None));
    assert_nothing_private(&text, &set);
}

#[test]
fn keys_rotate_and_list_on_a_key_file_readable_by_its_owner_only() {
    let scratch = Scratch::empty();
    let file = scratch.dir.join("keys.json");
    let path = file.to_str().unwrap().to_owned();
    let env = [("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_FILE", path.as_str())];
    rotate_twice_and_list(&env, || {
        KeySet::parse(&std::fs::read_to_string(&file).unwrap()).unwrap()
    });
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // The file is the signers' copy: every key has its private part.
    let set = KeySet::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(set.keys.iter().all(|key| key.private_scalar().is_some()));
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(&scratch.dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("keys.json")]);
}

#[test]
fn keys_rotate_and_list_on_secrets_manager_never_publish_a_private_part() {
    let endpoint = vimcar_tests::dynamodb::endpoint();
    let prefix = format!("vimcar-admin-test-{}", uuid::Uuid::now_v7());
    let (signing, public) = (format!("{prefix}/signing"), format!("{prefix}/public"));
    let env = [
        ("JWT_ALGORITHM", "ES256"),
        ("JWT_SIGNING_KEYS_ID", signing.as_str()),
        ("JWT_PUBLIC_KEYS_ID", public.as_str()),
        ("SECRETS_MANAGER_ENDPOINT", endpoint.as_str()),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let secrets = runtime.block_on(Secrets::connect(Some(&endpoint))).unwrap();
    let read = |id: &str| {
        runtime
            .block_on(secrets.read(id))
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    rotate_twice_and_list(&env, || KeySet::parse(&read(&signing)).unwrap());
    let private = KeySet::parse(&read(&signing)).unwrap();
    assert!(
        private
            .keys
            .iter()
            .all(|key| key.private_scalar().is_some())
    );
    let public_text = read(&public);
    assert_nothing_private(&public_text, &private);
    assert_eq!(KeySet::parse(&public_text).unwrap(), private.public());
}

#[test]
fn keys_without_a_configured_store_is_a_clear_error() {
    for args in [&["keys", "rotate"][..], &["keys", "list"]] {
        let output = run_with(&[("JWT_ALGORITHM", "ES256")], None, args, None);
        assert!(!output.status.success());
        assert!(
            stderr(&output).contains("no key set is configured"),
            "{}",
            stderr(&output)
        );
    }
    let output = run_with(
        &[
            ("JWT_SIGNING_KEYS_ID", "signing"),
            ("SECRETS_MANAGER_ENDPOINT", "http://127.0.0.1:1"),
        ],
        None,
        &["keys", "rotate"],
        None,
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("JWT_PUBLIC_KEYS_ID is not set"),
        "{}",
        stderr(&output)
    );
}
