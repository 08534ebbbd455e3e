//! `vimcar-admin` as an operator runs it: a real process, real arguments, a real database file; and, in [`tls`], on
//! DynamoDB over a real TLS handshake. One binary: each test binary links the whole dependency tree again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use secrecy::SecretString;
use vimcar::config::DEFAULT_SESSION_POLICY;
use vimcar::passwords::{PasswordHasher, Verification};
use vimcar::sessions::{Session, SessionStore};
use vimcar::storage::sqlite::Sqlite;
use vimcar::users::{UserStore, Username};
use vimcar_tests::requests::field_names;

mod events;
mod import;
mod keys;
mod tls;

const PASSWORD: &str = "correct horse battery staple";

/// A scratch SQLite file the commands share.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A directory without a database in it.
    fn empty() -> Self {
        let dir = std::env::temp_dir().join(format!("vimcar-admin-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    /// A directory with an up-to-date database, as `db upgrade` leaves it.
    fn new() -> Self {
        let scratch = Self::empty();
        let output = scratch.run(&["db", "upgrade"], None);
        assert!(output.status.success(), "{}", stderr(&output));
        scratch
    }

    fn db(&self) -> PathBuf {
        self.dir.join("admin.db")
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run(&self.db(), args, stdin)
    }
}

impl Scratch {
    /// Creates `name` (with `name@example.com`, no password), asserting that it worked.
    fn create(&self, name: &str) {
        let email = format!("{name}@example.com");
        let output = self.run(
            &["users", "create", "--username", name, "--email", &email],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}

fn run(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_with(&[("SQLITE_PATH", db.to_str().unwrap())], None, args, stdin)
}

/// Runs vimcar-admin with only `env` (and PATH) set, in `dir` if given.
fn run_with(
    env: &[(&str, &str)],
    dir: Option<&Path>,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vimcar-admin"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vimcar-admin runs");
    if let Some(text) = stdin {
        // A command that fails before it reads its input (a missing database) may have closed the pipe already:
        // its answer, not the write, is what the test checks.
        match child.stdin.take().unwrap().write_all(text.as_bytes()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn verifies(db: &Path, username: &str, password: &str) -> bool {
    let users = Sqlite::open(db).unwrap();
    let credentials = users
        .credentials(&Username::parse(username).unwrap())
        .await
        .unwrap()
        .unwrap();
    let hasher = PasswordHasher::new().unwrap();
    hasher
        .verify(
            SecretString::from(password.to_owned()),
            credentials.hash.as_ref(),
        )
        .await
        .unwrap()
        == Verification::Match
}

#[test]
fn db_upgrade_creates_the_database_and_is_harmless_twice() {
    let scratch = Scratch::empty();
    for _ in 0..2 {
        let output = scratch.run(&["db", "upgrade"], None);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("is up to date"));
    }
    assert!(scratch.db().exists());
}

#[tokio::test]
async fn a_user_created_without_a_password_can_log_in_once_one_is_set() {
    let scratch = Scratch::new();
    let output = scratch.run(
        &[
            "users",
            "create",
            "--username",
            "Phoo",
            "--email",
            "phoo@oohp.com",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("cannot log in until"));
    let users = Sqlite::open(scratch.db()).unwrap();
    let credentials = users
        .credentials(&Username::parse("phoo").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.hash, None);

    let output = scratch.run(
        &["users", "set-password", "phoo", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(verifies(&scratch.db(), "phoo", PASSWORD).await);
}

#[tokio::test]
async fn a_user_created_with_a_password_from_stdin_can_log_in() {
    let scratch = Scratch::new();
    let output = scratch.run(
        &[
            "users",
            "create",
            "--username",
            "bar",
            "--email",
            "bar@example.com",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\r\n")),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(verifies(&scratch.db(), "bar", PASSWORD).await);
    assert!(!verifies(&scratch.db(), "bar", &format!("{PASSWORD}\r")).await);
}

#[test]
fn list_shows_every_user_as_a_table_or_as_json_lines() {
    let scratch = Scratch::new();
    for name in ["alice", "bob"] {
        let email = format!("{name}@example.com");
        assert!(
            scratch
                .run(
                    &["users", "create", "--username", name, "--email", &email],
                    None
                )
                .status
                .success()
        );
    }
    let table = stdout(&scratch.run(&["users", "list"], None));
    assert!(
        table.contains("alice") && table.contains("bob@example.com"),
        "{table}"
    );
    assert!(table.trim_end().ends_with("2 user(s)"), "{table}");

    let json = stdout(&scratch.run(&["users", "list", "--json"], None));
    let users: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert!(!json.contains("argon2"));
}

#[test]
fn the_same_rules_as_the_api_refuse_bad_input() {
    let scratch = Scratch::new();
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (
            &[
                "users",
                "create",
                "--username",
                "a b",
                "--email",
                "ab@example.com",
            ],
            None,
            "username may contain only",
        ),
        (
            &["users", "create", "--username", "carol", "--email", "nope"],
            None,
            "email is not a valid email address",
        ),
        (
            &[
                "users",
                "create",
                "--username",
                "carol",
                "--email",
                "carol@example.com",
                "--password-stdin",
            ],
            Some("password1234\n"),
            "password is too easy to guess",
        ),
        (
            &["users", "set-password", "nobody", "--password-stdin"],
            Some("x"),
            "there is no user named nobody",
        ),
    ];
    for (args, stdin, message) in cases {
        let output = scratch.run(args, stdin);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let listed = stdout(&scratch.run(&["users", "list"], None));
    assert!(listed.contains("0 user(s)"), "{listed}");
}

#[test]
fn a_taken_username_or_email_is_named() {
    let scratch = Scratch::new();
    scratch.create("alice");
    let output = scratch.run(
        &[
            "users",
            "create",
            "--username",
            "ALICE",
            "--email",
            "Alice@Example.com",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        // The API's words (UniqueField::taken): a look-alike of a taken name is refused too.
        stderr(&output).contains(
            "username is already taken, or looks like a name that is; email is already taken"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn delete_with_yes_removes_the_user_and_says_when_there_is_none() {
    let scratch = Scratch::new();
    scratch.create("alice");
    // --yes reads nothing from standard input.
    let output = scratch.run(&["users", "delete", "Alice", "--yes"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("deleted alice"));
    assert!(stdout(&scratch.run(&["users", "list"], None)).contains("0 user(s)"));
    let output = scratch.run(&["users", "delete", "alice", "--yes"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("there is no user named alice"));
}

#[test]
fn delete_shows_the_user_and_the_database_and_asks_first() {
    let scratch = Scratch::new();
    scratch.create("alice");
    let output = scratch.run(&["users", "delete", "alice"], Some("y\n"));
    assert!(output.status.success(), "{}", stderr(&output));
    let prompt = stderr(&output);
    assert!(
        prompt.contains("Delete user alice (id ")
            && prompt.contains("email alice@example.com")
            && prompt.contains(&format!("from SQLite database {}", scratch.db().display()))
            && prompt.contains("[y/N]"),
        "{prompt}"
    );
    assert!(stdout(&scratch.run(&["users", "list"], None)).contains("0 user(s)"));
}

#[test]
fn only_y_or_yes_deletes() {
    let scratch = Scratch::new();
    for (answer, deletes) in [
        ("y\n", true),
        ("yes\n", true),
        ("YES\r\n", true),
        (" y \n", true),
        ("n\n", false),
        ("\n", false),
        ("no\n", false),
        ("yes please\n", false),
        ("yy\n", false),
        ("", false),
    ] {
        scratch.create("alice");
        let output = scratch.run(&["users", "delete", "alice"], Some(answer));
        let listed = stdout(&scratch.run(&["users", "list"], None));
        if deletes {
            assert!(output.status.success(), "{answer:?}: {}", stderr(&output));
            assert!(listed.contains("0 user(s)"), "{answer:?}");
        } else {
            assert_eq!(output.status.code(), Some(1), "{answer:?}");
            assert!(
                stderr(&output).contains("alice was not deleted"),
                "{answer:?}: {}",
                stderr(&output)
            );
            assert!(listed.contains("1 user(s)"), "{answer:?}");
            let output = scratch.run(&["users", "delete", "alice", "--yes"], None);
            assert!(output.status.success(), "{}", stderr(&output));
        }
    }
}

#[test]
fn no_answer_at_all_deletes_nothing_and_says_how_to_skip_the_question() {
    let scratch = Scratch::new();
    scratch.create("alice");
    let output = scratch.run(&["users", "delete", "alice"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no answer on standard input: alice was not deleted (pass --yes"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&scratch.run(&["users", "list"], None)).contains("1 user(s)"));
}

#[test]
fn every_command_names_its_database_on_stderr_before_acting() {
    let scratch = Scratch::new();
    scratch.create("alice");
    // A relative SQLITE_PATH is shown absolute: the operator sees which file, wherever they stand.
    let env = [("SQLITE_PATH", "admin.db")];
    let expected = format!(
        "vimcar-admin: SQLite database {} (from SQLITE_PATH)",
        scratch.db().display()
    );
    for args in [
        &["db", "upgrade"][..],
        &["users", "list"],
        &["users", "list", "--json"],
        &[
            "users",
            "create",
            "--username",
            "bob",
            "--email",
            "bob@example.com",
        ],
        &["users", "delete", "bob", "--yes"],
    ] {
        let output = run_with(&env, Some(&scratch.dir), args, None);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert_eq!(
            stderr(&output).lines().next(),
            Some(expected.as_str()),
            "{args:?}"
        );
        assert!(!stdout(&output).contains("vimcar-admin:"), "{args:?}");
    }
}

#[test]
fn without_sqlite_path_the_default_is_named_and_only_db_upgrade_creates_it() {
    let scratch = Scratch::empty();
    let default = scratch.dir.join("vimcar.db");
    let output = run_with(&[], Some(&scratch.dir), &["users", "list"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!(
            "there is no SQLite database {} (SQLITE_PATH is not set",
            default.display()
        )),
        "{}",
        stderr(&output)
    );
    assert!(!default.exists());

    let output = run_with(&[], Some(&scratch.dir), &["db", "upgrade"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with(&format!(
            "vimcar-admin: SQLite database {} (SQLITE_PATH is not set: the functions' default",
            default.display()
        )),
        "{}",
        stderr(&output)
    );
    assert!(default.exists());
}

#[test]
fn no_command_but_db_upgrade_creates_a_database() {
    let scratch = Scratch::empty();
    let cases: [(&[&str], Option<&str>); 4] = [
        (&["users", "list"], None),
        (
            &[
                "users",
                "create",
                "--username",
                "alice",
                "--email",
                "alice@example.com",
            ],
            None,
        ),
        (&["users", "delete", "alice", "--yes"], None),
        (
            &["users", "set-password", "alice", "--password-stdin"],
            Some(PASSWORD),
        ),
    ];
    for (args, stdin) in cases {
        let output = scratch.run(args, stdin);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains("create it with `vimcar-admin db upgrade`"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!scratch.db().exists(), "{args:?}");
    }
}

#[test]
fn dynamodb_without_a_table_name_is_a_clear_error() {
    let output = run_with(
        &[("USERS_BACKEND", "dynamodb")],
        None,
        &["users", "list"],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("USERS_BACKEND=dynamodb needs USERS_TABLE"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_dynamodb_table_is_named_with_its_endpoint_and_region() {
    let endpoint = vimcar_tests::dynamodb::endpoint();
    let table = vimcar_tests::dynamodb::fresh_table_name();
    let env = [
        ("USERS_BACKEND", "dynamodb"),
        ("USERS_TABLE", table.as_str()),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
        ("AWS_REGION", "eu-central-1"),
    ];
    let output = run_with(&env, None, &["db", "upgrade"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stderr(&output).lines().next(),
        Some(format!("vimcar-admin: DynamoDB table {table} at {endpoint}/eu-central-1").as_str())
    );
}

#[test]
fn list_escapes_control_and_invisible_characters_in_stored_names() {
    let scratch = Scratch::new();
    scratch.create("alice");
    // As a user stored before today's rules could be: the functions' rules refuse these now.
    let connection = rusqlite::Connection::open(scratch.db()).unwrap();
    connection
        .execute(
            "UPDATE users SET username = ?1, email = ?2",
            ["ali\u{1b}[2Jce\u{202e}", "al\u{200b}ice@example.com\n"],
        )
        .unwrap();
    drop(connection);
    let table = stdout(&scratch.run(&["users", "list"], None));
    assert!(
        table.contains("ali\\u{001b}[2Jce\\u{202e}")
            && table.contains("al\\u{200b}ice@example.com\\u{000a}"),
        "{table}"
    );
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{202e}') && !table.contains('\u{200b}')
    );
    assert_eq!(table.lines().count(), 3, "{table}");

    // JSON lines are escaped by serde and keep the stored text exactly.
    let json = stdout(&scratch.run(&["users", "list", "--json"], None));
    let user: serde_json::Value = serde_json::from_str(json.trim_end()).unwrap();
    assert_eq!(user["username"], "ali\u{1b}[2Jce\u{202e}");
}

#[test]
fn set_password_refuses_a_password_on_the_command_line() {
    let scratch = Scratch::new();
    let output = scratch.run(&["users", "set-password", "alice"], None);
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    assert!(stderr(&output).contains("--password-stdin"));
}

#[test]
fn a_bad_backend_setting_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_vimcar-admin"))
        .args(["users", "list"])
        .env("USERS_BACKEND", "postgres")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("USERS_BACKEND is invalid"),
        "{}",
        stderr(&output)
    );
}

/// Begins `count` sessions for `name` in the scratch database, as logins do, and answers their ids.
async fn begin_sessions(db: &Path, name: &str, count: usize) -> Vec<uuid::Uuid> {
    let store = Sqlite::open(db).unwrap();
    let user = store
        .by_username(&Username::parse(name).unwrap())
        .await
        .unwrap()
        .expect("the user exists");
    let mut ids = Vec::new();
    for _ in 0..count {
        let session = Session::begin(user.id, chrono::Utc::now(), &DEFAULT_SESSION_POLICY);
        assert!(store.create(&session).await.unwrap());
        ids.push(session.id);
    }
    ids
}

#[tokio::test]
async fn sessions_lists_a_users_sessions_and_logout_ends_them_all() {
    let scratch = Scratch::new();
    scratch.create("alice");
    scratch.create("bob");
    let alices = begin_sessions(&scratch.db(), "alice", 2).await;
    let bobs = begin_sessions(&scratch.db(), "bob", 1).await;

    let output = scratch.run(&["users", "sessions", "alice"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    for id in &alices {
        assert!(table.contains(&id.to_string()), "{table}");
    }
    assert!(!table.contains(&bobs[0].to_string()), "{table}");
    assert!(table.contains("2 live session(s) of alice"), "{table}");

    let output = scratch.run(&["users", "sessions", "alice", "--json"], None);
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_eq!(line["live"], true);
        let fields = field_names(line);
        assert_eq!(
            fields,
            [
                "created_at",
                "ends_at",
                "expires_at",
                "id",
                "last_used_at",
                "live"
            ]
        );
    }

    let output = scratch.run(&["users", "logout", "alice"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("ended 2 session(s) of alice"));
    let store = Sqlite::open(scratch.db()).unwrap();
    for id in &alices {
        assert_eq!(store.session(*id).await.unwrap(), None);
    }
    assert!(
        store.session(bobs[0]).await.unwrap().is_some(),
        "bob's session is not alice's"
    );
    let output = scratch.run(&["users", "sessions", "alice"], None);
    assert!(stdout(&output).contains("0 live session(s) of alice"));
}

#[tokio::test]
async fn setting_a_password_ends_the_users_sessions() {
    let scratch = Scratch::new();
    scratch.create("alice");
    let ids = begin_sessions(&scratch.db(), "alice", 3).await;
    let output = scratch.run(
        &["users", "set-password", "alice", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("3 session(s) ended"),
        "{}",
        stdout(&output)
    );
    let store = Sqlite::open(scratch.db()).unwrap();
    for id in ids {
        assert_eq!(store.session(id).await.unwrap(), None);
    }
}

#[test]
fn sessions_and_logout_of_an_unknown_user_are_clear_errors() {
    let scratch = Scratch::new();
    for command in ["sessions", "logout"] {
        let output = scratch.run(&["users", command, "nobody"], None);
        assert!(!output.status.success(), "{command}");
        assert!(
            stderr(&output).contains("there is no user named nobody"),
            "{command}: {}",
            stderr(&output)
        );
    }
}

/// The stored admin flag of `name`.
async fn is_admin(db: &Path, name: &str) -> bool {
    let store = Sqlite::open(db).unwrap();
    let user = store
        .by_username(&Username::parse(name).unwrap())
        .await
        .unwrap()
        .expect("the user exists");
    store.account(user.id).await.unwrap().unwrap().is_admin
}

#[tokio::test]
async fn grant_admin_and_revoke_admin_set_the_flag_and_say_what_changed() {
    let scratch = Scratch::new();
    scratch.create("alice");
    scratch.create("bob");
    let steps = [
        (
            "grant-admin",
            "alice is now an administrator, from its next request",
            true,
        ),
        ("grant-admin", "alice is already an administrator", true),
        (
            "revoke-admin",
            "alice is no longer an administrator, from its next request",
            false,
        ),
        ("revoke-admin", "alice was not an administrator", false),
    ];
    for (command, said, stored) in steps {
        let output = scratch.run(&["users", command, "alice"], None);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), format!("{said}\n"));
        assert_eq!(is_admin(&scratch.db(), "alice").await, stored, "{command}");
        assert!(!is_admin(&scratch.db(), "bob").await, "bob is untouched");
    }
    // The name is normalised as everywhere else.
    let output = scratch.run(&["users", "grant-admin", "ALICE"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(is_admin(&scratch.db(), "alice").await);
}

#[test]
fn grant_revoke_or_show_of_an_unknown_or_invalid_user_is_a_clear_error() {
    let scratch = Scratch::new();
    for command in ["grant-admin", "revoke-admin", "show"] {
        let output = scratch.run(&["users", command, "ghost"], None);
        assert_eq!(output.status.code(), Some(1), "{command}");
        assert!(
            stderr(&output).ends_with("error: there is no user named ghost\n"),
            "{command}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{command}");
        let output = scratch.run(&["users", command, "a"], None);
        assert_eq!(output.status.code(), Some(1), "{command}");
        assert!(
            stderr(&output).contains("error: username"),
            "{command}: {}",
            stderr(&output)
        );
    }
}

#[tokio::test]
async fn show_prints_one_user_without_its_hash_as_text_or_json() {
    let scratch = Scratch::new();
    let output = scratch.run(
        &[
            "users",
            "create",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    scratch.create("bob");
    begin_sessions(&scratch.db(), "alice", 2).await;
    // And one that ended long ago: not live, so not counted.
    let store = Sqlite::open(scratch.db()).unwrap();
    let alice = store
        .by_username(&Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    let old = chrono::Utc::now() - chrono::TimeDelta::days(400);
    assert!(
        store
            .create(&Session::begin(alice.id, old, &DEFAULT_SESSION_POLICY))
            .await
            .unwrap()
    );
    assert!(store.set_admin(&alice.username, true).await.unwrap());
    let created_at = vimcar::users::format_timestamp(&alice.created_at);

    let output = scratch.run(&["users", "show", "alice"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "id            {}\nusername      alice\nemail         alice@example.com\ncreated_at    {created_at}\n\
             admin         yes\npassword      argon2id\nmust change   no\nsessions      2 live\n",
            alice.id
        )
    );

    let output = scratch.run(&["users", "show", "alice", "--json"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        shown,
        serde_json::json!({
            "id": alice.id,
            "username": "alice",
            "email": "alice@example.com",
            "created_at": created_at,
            "is_admin": true,
            "has_password": true,
            "password": "argon2id",
            "password_change_required": false,
            "live_sessions": 2,
        })
    );
    assert!(!stdout(&output).contains("$argon2"), "never the hash");

    let output = scratch.run(&["users", "show", "bob"], None);
    let text = stdout(&output);
    assert!(
        text.contains(
            "\nadmin         no\npassword      none\nmust change   no\nsessions      0 live\n"
        ),
        "{text}"
    );
    let output = scratch.run(&["users", "show", "bob", "--json"], None);
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(shown["is_admin"], false);
    assert_eq!(shown["has_password"], false);
    assert_eq!(shown["password"], "none");
    assert_eq!(shown["live_sessions"], 0);
}

#[test]
fn list_shows_who_is_an_admin_and_lists_only_admins_with_admins() {
    let scratch = Scratch::new();
    for name in ["alice", "bob", "carol"] {
        scratch.create(name);
    }
    for name in ["bob", "carol"] {
        let output = scratch.run(&["users", "grant-admin", name], None);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = scratch.run(&["users", "revoke-admin", "carol"], None);
    assert!(output.status.success(), "{}", stderr(&output));

    let table = stdout(&scratch.run(&["users", "list"], None));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    let columns =
        |line: &str| -> Vec<String> { line.split_whitespace().map(str::to_owned).collect() };
    assert_eq!(
        columns(lines[0]),
        ["id", "username", "created_at", "admin", "email"]
    );
    let flags: Vec<(String, String)> = lines[1..4]
        .iter()
        .map(|line| {
            let columns = columns(line);
            (columns[1].clone(), columns[3].clone())
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("alice".to_owned(), "no".to_owned()),
            ("bob".to_owned(), "yes".to_owned()),
            ("carol".to_owned(), "no".to_owned()),
        ]
    );
    assert_eq!(lines[4], "3 user(s)");

    let table = stdout(&scratch.run(&["users", "list", "--admins"], None));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert_eq!(columns(lines[1])[1], "bob");
    assert_eq!(columns(lines[1])[4], "bob@example.com");
    assert_eq!(lines[2], "1 administrator(s)");

    let parse = |text: String| -> Vec<(String, bool)> {
        text.lines()
            .map(|line| {
                let user: serde_json::Value = serde_json::from_str(line).unwrap();
                let keys = field_names(&user);
                assert_eq!(keys, ["created_at", "email", "id", "is_admin", "username"]);
                (
                    user["username"].as_str().unwrap().to_owned(),
                    user["is_admin"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        parse(stdout(&scratch.run(&["users", "list", "--json"], None))),
        [
            ("alice".to_owned(), false),
            ("bob".to_owned(), true),
            ("carol".to_owned(), false),
        ]
    );
    assert_eq!(
        parse(stdout(
            &scratch.run(&["users", "list", "--json", "--admins"], None)
        )),
        [("bob".to_owned(), true)]
    );
}

#[test]
fn on_dynamodb_the_admin_flag_is_granted_listed_shown_and_revoked() {
    let endpoint = vimcar_tests::dynamodb::endpoint();
    let table = vimcar_tests::dynamodb::fresh_table_name();
    let env = [
        ("USERS_BACKEND", "dynamodb"),
        ("USERS_TABLE", table.as_str()),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
    ];
    let admin = |args: &[&str]| {
        let output = run_with(&env, None, args, None);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    admin(&["db", "upgrade"]);
    for name in ["alice", "bob"] {
        let email = format!("{name}@example.com");
        admin(&["users", "create", "--username", name, "--email", &email]);
    }
    assert_eq!(
        admin(&["users", "grant-admin", "bob"]),
        "bob is now an administrator, from its next request\n"
    );

    let admins: Vec<serde_json::Value> = admin(&["users", "list", "--admins", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0]["username"], "bob");
    assert_eq!(admins[0]["is_admin"], true);
    let shown: serde_json::Value =
        serde_json::from_str(&admin(&["users", "show", "bob", "--json"])).unwrap();
    assert_eq!(shown["is_admin"], true);
    assert_eq!(shown["has_password"], false);
    assert_eq!(shown["live_sessions"], 0);

    assert_eq!(
        admin(&["users", "revoke-admin", "bob"]),
        "bob is no longer an administrator, from its next request\n"
    );
    assert!(
        admin(&["users", "list", "--admins"]).ends_with("\n0 administrator(s)\n"),
        "no administrator is left"
    );
    let output = run_with(&env, None, &["users", "grant-admin", "ghost"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).ends_with("error: there is no user named ghost\n"));
}
