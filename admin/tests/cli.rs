//! `vimcar-admin` as an operator runs it: a real process, real arguments, a real database file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use secrecy::SecretString;
use vimcar::auth::{PasswordHasher, Verification};
use vimcar::users::sqlite::SqliteUsers;
use vimcar::users::{UserRepository, Username};

const PASSWORD: &str = "correct horse battery staple";

/// A scratch SQLite file the commands share.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("vimcar-admin-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_vimcar-admin"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SQLITE_PATH", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vimcar-admin runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
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
    let users = SqliteUsers::open(db).unwrap();
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
    let scratch = Scratch::new();
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
    let users = SqliteUsers::open(scratch.db()).unwrap();
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
        stderr(&output).contains("username is already taken; email is already taken"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn delete_removes_the_user_and_says_when_there_is_none() {
    let scratch = Scratch::new();
    scratch.create("alice");
    let output = scratch.run(&["users", "delete", "Alice"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&scratch.run(&["users", "list"], None)).contains("0 user(s)"));
    let output = scratch.run(&["users", "delete", "alice"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("there is no user named alice"));
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
