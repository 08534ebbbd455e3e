//! `vimcar-admin import flask` as an operator runs it, into SQLite and into DynamoDB: the Flask original's own
//! database, then databases with the awkward cases, written here in the original's layouts. Then the imported
//! users log in in-process with their old passwords, as `POST /auth` would answer them.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use vimcar::storage::dynamodb::DynamoDb;
use vimcar::storage::sqlite::Sqlite;
use vimcar::users::{HashScheme, Username};
use vimcar_tests::app::{TestApp, Users};
use vimcar_tests::requests::{json as body_of, post_json};

use super::{Scratch, run_with, stderr, stdout, uuid_like};

/// The Flask original's `CREATE TABLE users`, as its Alembic migration wrote it into flask-dev.db.
const FLASK_USERS: &str = "CREATE TABLE users (
	username VARCHAR(80) NOT NULL,
	email VARCHAR(80) NOT NULL,
	password BLOB,
	created_at DATETIME NOT NULL,
	first_name VARCHAR(30),
	last_name VARCHAR(30),
	active BOOLEAN,
	is_admin BOOLEAN,
	id INTEGER NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (email),
	UNIQUE (username)
)";

/// The storage `vimcar-admin` imports into, as its environment names it.
struct Vimcar {
    env: Vec<(&'static str, String)>,
    /// The SQLite file's directory, removed at the end; `None` on DynamoDB.
    scratch: Option<Scratch>,
    /// Where the test writes its Flask databases and reports.
    dir: PathBuf,
    table: Option<(String, String)>,
}

impl Vimcar {
    async fn sqlite() -> Self {
        let scratch = Scratch::new();
        Self {
            env: vec![("SQLITE_PATH", scratch.db().to_str().unwrap().to_owned())],
            dir: scratch.dir.clone(),
            scratch: Some(scratch),
            table: None,
        }
    }

    async fn dynamodb() -> Self {
        let endpoint = vimcar_tests::dynamodb::endpoint();
        let table = vimcar_tests::dynamodb::fresh_table_name();
        let dir = std::env::temp_dir().join(format!("vimcar-import-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let vimcar = Self {
            env: vec![
                ("USERS_BACKEND", "dynamodb".to_owned()),
                ("USERS_TABLE", table.clone()),
                ("DYNAMODB_ENDPOINT", endpoint.clone()),
            ],
            scratch: None,
            dir,
            table: Some((table, endpoint)),
        };
        vimcar.admin(&["db", "upgrade"]);
        vimcar
    }

    fn run(&self, args: &[&str]) -> Output {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_with(&env, None, args, None)
    }

    /// Runs `args`, asserting exit 0, and answers standard output.
    fn admin(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `import flask SOURCE --report FILE [extra]`: standard output and the report's lines.
    fn import(&self, source: &Path, extra: &[&str]) -> (String, Vec<Value>) {
        let report = self.path("report.jsonl");
        let mut args = vec![
            "import",
            "flask",
            source.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = self.admin(&args);
        let text = std::fs::read_to_string(&report).unwrap();
        for hash in ["$2b$04$", "$2b$13$", "$2b$14$", "$argon2", "pbkdf2:sha256:"] {
            assert!(!text.contains(hash), "the report shows no hash: {text}");
        }
        let lines = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (out, lines)
    }

    /// `users list --json`: each user's name and admin flag, in the listing's order.
    fn listed(&self) -> Vec<(String, bool)> {
        self.admin(&["users", "list", "--json"])
            .lines()
            .map(|line| {
                let user: Value = serde_json::from_str(line).unwrap();
                (
                    user["username"].as_str().unwrap().to_owned(),
                    user["is_admin"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    fn shown(&self, name: &str) -> Value {
        serde_json::from_str(&self.admin(&["users", "show", name, "--json"])).unwrap()
    }

    /// The same storage, opened in-process as a function opens it.
    async fn users(&self) -> Users {
        match &self.table {
            None => Arc::new(Sqlite::open(self.scratch.as_ref().unwrap().db()).unwrap()),
            Some((table, endpoint)) => Arc::new(
                DynamoDb::connect(table.as_str(), Some(endpoint))
                    .await
                    .unwrap(),
            ),
        }
    }
}

impl Drop for Vimcar {
    fn drop(&mut self) {
        if self.scratch.is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `POST /auth` as `name` with `password`: the status and the answer.
async fn log_in(app: &TestApp, name: &str, password: &str) -> (u16, Value) {
    let body = json!({"username": name, "password": password});
    let response = vimcar::handlers::log_in(app, post_json("/auth", &body)).await;
    (response.status().as_u16(), body_of(&response))
}

async fn scheme(users: &Users, name: &str) -> Option<HashScheme> {
    users
        .credentials(&Username::parse(name).unwrap())
        .await
        .unwrap()
        .unwrap()
        .hash
        .map(|hash| hash.scheme())
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/flask/flask-dev.db")
}

/// (row, outcome, reason) of each report line.
fn outcomes(lines: &[Value]) -> Vec<(i64, String, Option<String>)> {
    lines
        .iter()
        .map(|line| {
            (
                line["row"].as_i64().unwrap(),
                line["outcome"].as_str().unwrap().to_owned(),
                line["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn all(rows: std::ops::RangeInclusive<i64>, outcome: &str) -> Vec<(i64, String, Option<String>)> {
    rows.map(|row| (row, outcome.to_owned(), None)).collect()
}

const FIXTURE_ORDER: [(&str, bool); 5] = [
    ("foo", false),
    ("alice", false),
    ("bob.builder", true),
    ("phoo", false),
    ("jürgen", false),
];

async fn the_flask_database_imports_once_and_its_users_log_in_with_their_old_passwords(
    vimcar: Vimcar,
) {
    let source = fixture();
    let before = std::fs::read(&source).unwrap();
    let expected: Vec<(String, bool)> = FIXTURE_ORDER
        .iter()
        .map(|(name, admin)| ((*name).to_owned(), *admin))
        .collect();

    let (out, lines) = vimcar.import(&source, &["--dry-run"]);
    assert!(
        out.starts_with("dry run: would import 5, already imported 0, skipped 0 of 5 rows from "),
        "{out}"
    );
    assert_eq!(outcomes(&lines), all(1..=5, "would_import"));
    assert!(vimcar.listed().is_empty(), "a dry run writes nothing");

    let (out, lines) = vimcar.import(&source, &[]);
    assert!(
        out.starts_with("imported 5, already imported 0, skipped 0 of 5 rows from "),
        "{out}"
    );
    assert!(
        out.contains("1 of them without a password: they cannot log in until"),
        "{out}"
    );
    assert_eq!(outcomes(&lines), all(1..=5, "imported"));
    let raw: Vec<&str> = lines
        .iter()
        .map(|l| l["username"].as_str().unwrap())
        .collect();
    assert_eq!(raw, ["foo", "alice", "Bob.Builder", "phoo", "jürgen"]);
    let passwords: Vec<bool> = lines
        .iter()
        .map(|l| l["has_password"].as_bool().unwrap())
        .collect();
    assert_eq!(passwords, [true, true, true, false, true]);
    assert!(lines.iter().all(|l| l["user_id"].is_string()));
    assert_eq!(vimcar.listed(), expected);
    let shown = vimcar.shown("foo");
    assert_eq!(shown["created_at"], "2024-06-14T19:27:37.343Z");
    assert_eq!(shown["email"], "foo@bar.com");
    assert_eq!(shown["password"], "bcrypt");
    assert_eq!(shown["password_change_required"], false);
    assert_eq!(vimcar.shown("bob.builder")["email"], "bob@example.com");
    assert_eq!(vimcar.shown("phoo")["password"], "none");
    let text = vimcar.admin(&["users", "show", "alice"]);
    assert!(
        text.contains(
            "\npassword      bcrypt (imported; replaced at its first login)\nmust change   no\n"
        ),
        "{text}"
    );

    let (out, lines) = vimcar.import(&source, &[]);
    assert!(
        out.starts_with("imported 0, already imported 5, skipped 0 of 5 rows from "),
        "{out}"
    );
    assert_eq!(outcomes(&lines), all(1..=5, "already_imported"));
    assert_eq!(vimcar.listed(), expected, "a re-run changes nothing");

    // Each logs in with its old password, and its bcrypt hash is gone after that one login.
    let users = vimcar.users().await;
    let app = TestApp::new(users.clone());
    for (name, password, change_required) in [
        ("foo", "bar", true),
        ("alice", "alice-in-wonderland-1865", false),
        ("Bob.Builder", "can we fix it? yes we can", false),
        ("jürgen", "Fußball-Weltmeister-2014", false),
    ] {
        assert_eq!(
            scheme(&users, name).await,
            Some(HashScheme::Bcrypt { cost: 13 })
        );
        assert_eq!(log_in(&app, name, "not the password").await.0, 401);
        let (status, body) = log_in(&app, name, password).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["password_change_required"], change_required, "{name}");
        assert!(body["access_token"].is_string());
        assert_eq!(
            scheme(&users, name).await,
            Some(HashScheme::Argon2),
            "{name}"
        );
        let (status, body) = log_in(&app, name, password).await;
        assert_eq!(status, 200, "{name} again: {body}");
        assert_eq!(body["password_change_required"], change_required);
    }
    assert_eq!(log_in(&app, "phoo", "anything at all").await.0, 401);
    assert_eq!(scheme(&users, "phoo").await, None);
    let shown = vimcar.shown("foo");
    assert_eq!(shown["password"], "argon2id");
    assert_eq!(shown["password_change_required"], true);
    assert!(
        vimcar
            .admin(&["users", "show", "foo"])
            .contains("\npassword      argon2id\nmust change   yes"),
    );

    // A user deleted after the import stays deleted: a re-run finds its record and writes nothing.
    vimcar.admin(&["users", "delete", "alice", "--yes"]);
    let (out, lines) = vimcar.import(&source, &[]);
    assert!(
        out.starts_with("imported 0, already imported 5, skipped 0 of 5"),
        "{out}"
    );
    assert_eq!(outcomes(&lines), all(1..=5, "already_imported"));
    let names: Vec<String> = vimcar.listed().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["foo", "bob.builder", "phoo", "jürgen"]);
    assert_eq!(
        scheme(&users, "foo").await,
        Some(HashScheme::Argon2),
        "a re-run does not bring the bcrypt hash back"
    );

    assert_eq!(
        std::fs::read(&source).unwrap(),
        before,
        "the source is never written"
    );
}

/// A cost-4 bcrypt hash of `password`, as Flask-Bcrypt's bytes.
pub(super) fn bcrypt(password: &str) -> Vec<u8> {
    bcrypt::hash_with_salt(password, 4, [7; 16])
        .unwrap()
        .to_string()
        .into_bytes()
}

/// A row of the original's `users`: id, username, email, password, created_at.
pub(super) type FlaskRow<'a> = (i64, &'a str, &'a str, Option<Vec<u8>>, Option<&'a str>);

/// Written by SQLAlchemy: `id` seconds past 10:00 on 2024-01-01, so the rows keep their order.
const CREATED: Option<&str> = None;

/// Writes a database in the Flask original's layout with `rows`: (id, username, email, password, created_at, or
/// [`CREATED`]).
pub(super) fn flask_db(path: &Path, rows: &[FlaskRow<'_>]) {
    let connection = Connection::open(path).unwrap();
    connection.execute(FLASK_USERS, []).unwrap();
    for (id, username, email, password, created_at) in rows {
        let created_at =
            created_at.map_or_else(|| format!("2024-01-01 10:00:{id:02}.123456"), str::to_owned);
        connection
            .execute(
                "INSERT INTO users (id, username, email, password, created_at, active, is_admin)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, 0)",
                params![id, username, email, password, created_at],
            )
            .unwrap();
    }
}

const STRONG: &str = "correct horse battery staple";

async fn awkward_rows_are_reported_and_skipped_and_write_nothing(vimcar: Vimcar) {
    // In vimcar before the import: `taken`, with the email taken@example.com.
    vimcar.admin(&[
        "users",
        "create",
        "--username",
        "taken",
        "--email",
        "taken@example.com",
    ]);
    let over_cap = String::from_utf8(bcrypt(STRONG))
        .unwrap()
        .replacen("$04$", "$14$", 1);
    let forty = "x".repeat(40);
    let source = vimcar.path("awkward.db");
    flask_db(
        &source,
        &[
            (1, "Alice", "alice@x.com", Some(bcrypt(STRONG)), CREATED),
            (2, "alice", "other@x.com", Some(bcrypt(STRONG)), CREATED),
            (3, "carol", "A@x.com", Some(bcrypt(STRONG)), CREATED),
            (4, "dave", "a@x.com", Some(bcrypt(STRONG)), CREATED),
            (5, "a b", "ab@x.com", Some(bcrypt(STRONG)), CREATED),
            (6, "ab", "ab2@x.com", Some(bcrypt(STRONG)), CREATED),
            (7, &forty, "forty@x.com", Some(bcrypt(STRONG)), CREATED),
            (8, "erin", "not-an-email", Some(bcrypt(STRONG)), CREATED),
            (
                9,
                "frank",
                "frank@x.com",
                Some(b"pbkdf2:sha256:260000$salt$0123abcd".to_vec()),
                CREATED,
            ),
            (
                10,
                "grace",
                "grace@x.com",
                Some(over_cap.into_bytes()),
                CREATED,
            ),
            (11, "heidi", "heidi@x.com", None, CREATED),
            (
                12,
                "ivan",
                "ivan@x.com",
                Some(bcrypt(STRONG)),
                Some("yesterday"),
            ),
            (13, "Taken", "taken2@x.com", Some(bcrypt(STRONG)), CREATED),
            (
                14,
                "t\u{430}ken",
                "taken3@x.com",
                Some(bcrypt(STRONG)),
                CREATED,
            ),
            (
                15,
                "judy",
                "Taken@example.com",
                Some(bcrypt(STRONG)),
                CREATED,
            ),
            (
                16,
                "karl",
                "karl@x.com",
                Some(bcrypt("bar")),
                Some("2024-01-01T09:00:00"),
            ),
        ],
    );
    // An is_admin that is neither 0, 1 nor NULL.
    Connection::open(&source)
        .unwrap()
        .execute(
            "INSERT INTO users (id, username, email, password, created_at, is_admin)
             VALUES (17, 'mallory', 'mallory@x.com', ?1, '2024-01-01 10:00:17', 2)",
            [bcrypt(STRONG)],
        )
        .unwrap();
    let before = std::fs::read(&source).unwrap();
    let skipped = |row: i64, reason: &str| (row, "skipped".to_owned(), Some(reason.to_owned()));
    let ok = |row: i64, outcome: &str| (row, outcome.to_owned(), None);

    let (out, lines) = vimcar.import(&source, &["--dry-run"]);
    assert!(
        out.starts_with("dry run: would import 6, already imported 0, skipped 11 of 17 rows from "),
        "{out}"
    );
    let report = vimcar.path("report.jsonl");
    assert!(
        out.contains(&format!("the report {} says why", report.display())),
        "{out}"
    );
    let common = [
        ok(1, "would_import"),
        skipped(2, "duplicate_username"),
        ok(3, "would_import"),
        skipped(4, "duplicate_email"),
        skipped(5, "invalid_username"),
        skipped(6, "invalid_username"),
        skipped(7, "invalid_username"),
        skipped(8, "invalid_email"),
        skipped(9, "unknown_hash_format"),
        skipped(10, "bcrypt_cost_over_cap"),
        ok(11, "would_import"),
        skipped(12, "invalid_created_at"),
        skipped(13, "username_taken"),
    ];
    let mut dry = common.to_vec();
    // A dry run sees a taken name, not a look-alike or a taken email: those show on a real run.
    dry.extend([
        ok(14, "would_import"),
        ok(15, "would_import"),
        ok(16, "would_import"),
        skipped(17, "invalid_is_admin"),
    ]);
    assert_eq!(outcomes(&lines), dry);
    let names: Vec<String> = vimcar.listed().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["taken"], "a dry run writes nothing");

    let (out, lines) = vimcar.import(&source, &[]);
    assert!(
        out.starts_with("imported 4, already imported 0, skipped 13 of 17 rows from "),
        "{out}"
    );
    assert!(out.contains("1 of them without a password"), "{out}");
    let mut real: Vec<_> = common.to_vec();
    for line in &mut real {
        if line.1 == "would_import" {
            line.1 = "imported".to_owned();
        }
    }
    real.extend([
        skipped(14, "username_taken"),
        skipped(15, "email_taken"),
        ok(16, "imported"),
        skipped(17, "invalid_is_admin"),
    ]);
    assert_eq!(outcomes(&lines), real);
    let detail = |row: usize| lines[row - 1]["detail"].as_str().unwrap().to_owned();
    assert!(
        detail(2).contains("row 1 has the same username"),
        "{}",
        detail(2)
    );
    assert!(
        detail(4).contains("row 3 has the same email"),
        "{}",
        detail(4)
    );
    assert!(
        detail(10).contains("cost is 14, over the cap of 13"),
        "{}",
        detail(10)
    );
    assert!(detail(12).contains("\"yesterday\""), "{}", detail(12));
    for row in [2, 5, 9, 13, 15] {
        let line = &lines[row - 1];
        assert_eq!(
            line["user_id"],
            Value::Null,
            "a skipped row has no id: {line}"
        );
        assert_eq!(line["has_password"], false);
    }
    assert_eq!(lines[6]["username"], forty.as_str());
    assert_eq!(lines[10]["has_password"], false);
    assert_eq!(lines[15]["has_password"], true);

    // Imported in created_at order (karl registered an hour before the others), before `taken`, registered in
    // vimcar today.
    let names: Vec<String> = vimcar.listed().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["karl", "alice", "carol", "heidi", "taken"]);
    assert_eq!(vimcar.shown("carol")["email"], "a@x.com");

    // Skipped rows left nothing behind: their names and emails are free.
    for (name, email) in [
        ("dave", "other@x.com"),
        ("frank", "frank@x.com"),
        ("grace", "grace@x.com"),
        ("ivan", "ivan@x.com"),
        ("judy", "taken2@x.com"),
        ("erin", "taken3@x.com"),
        ("mallory", "mallory@x.com"),
    ] {
        vimcar.admin(&["users", "create", "--username", name, "--email", email]);
    }

    let users = vimcar.users().await;
    let app = TestApp::new(users.clone());
    let (status, body) = log_in(&app, "ALICE", STRONG).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["password_change_required"], false);
    let (status, body) = log_in(&app, "karl", "bar").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["password_change_required"], true);
    assert_eq!(scheme(&users, "karl").await, Some(HashScheme::Argon2));

    assert_eq!(
        std::fs::read(&source).unwrap(),
        before,
        "the source is never written"
    );
}

async fn an_older_layout_is_read_by_column_name(vimcar: Vimcar) {
    // No is_admin, the password as TEXT, the columns in another order.
    let source = vimcar.path("older.db");
    let connection = Connection::open(&source).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, created_at DATETIME NOT NULL, password TEXT,
                                 email VARCHAR(80) NOT NULL, username VARCHAR(80) NOT NULL, active BOOLEAN);",
        )
        .unwrap();
    let hash = String::from_utf8(bcrypt(STRONG)).unwrap();
    connection
        .execute(
            "INSERT INTO users (id, created_at, password, email, username, active) VALUES
             (1, '2020-05-01 08:00:00', ?1, 'Old@Example.com', 'OldTimer', 1),
             (2, '2020-05-02 08:00:00', NULL, 'new@example.com', 'newer', 1)",
            [hash],
        )
        .unwrap();
    drop(connection);
    let (out, lines) = vimcar.import(&source, &[]);
    assert!(
        out.starts_with("imported 2, already imported 0, skipped 0 of 2 rows"),
        "{out}"
    );
    assert_eq!(outcomes(&lines), all(1..=2, "imported"));
    assert_eq!(
        vimcar.listed(),
        [("oldtimer".to_owned(), false), ("newer".to_owned(), false)]
    );
    let shown = vimcar.shown("oldtimer");
    assert_eq!(shown["created_at"], "2020-05-01T08:00:00.000Z");
    assert_eq!(shown["email"], "old@example.com");
    let app = TestApp::new(vimcar.users().await);
    let (status, body) = log_in(&app, "oldtimer", STRONG).await;
    assert_eq!(status, 200, "{body}");

    // Without a password column at all, every row imports without a password, and the summary says so.
    let source = vimcar.path("no-passwords.db");
    let connection = Connection::open(&source).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE users (username TEXT, email TEXT, created_at TEXT, id INTEGER PRIMARY KEY);
             INSERT INTO users VALUES ('nopass', 'nopass@example.com', '2021-01-01 00:00:00', 1);",
        )
        .unwrap();
    drop(connection);
    let (out, lines) = vimcar.import(&source, &[]);
    assert!(
        out.starts_with("imported 1, already imported 0, skipped 0 of 1 rows"),
        "{out}"
    );
    assert!(
        out.contains("has no password column: every row imports without a password"),
        "{out}"
    );
    assert_eq!(lines[0]["has_password"], false);
    assert_eq!(vimcar.shown("nopass")["password"], "none");
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Vimcar::sqlite().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Vimcar::dynamodb().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    the_flask_database_imports_once_and_its_users_log_in_with_their_old_passwords,
    awkward_rows_are_reported_and_skipped_and_write_nothing,
    an_older_layout_is_read_by_column_name,
);

#[test]
fn a_missing_column_or_file_is_a_clear_error_and_creates_nothing() {
    let scratch = Scratch::new();
    let source = scratch.dir.join("no-email.db");
    Connection::open(&source)
        .unwrap()
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, password BLOB);
             INSERT INTO users VALUES (1, 'foo', NULL);",
        )
        .unwrap();
    let output = scratch.run(&["import", "flask", source.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(
        error.contains(
            "its table `users` has no column email, created_at (it needs id, username, email, created_at; it has \
             id, username, password)"
        ),
        "{error}"
    );
    assert_eq!(
        stdout(&scratch.run(&["users", "list"], None))
            .lines()
            .last(),
        Some("0 user(s)")
    );

    let missing = scratch.dir.join("missing.db");
    let output = scratch.run(&["import", "flask", missing.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("there is no file"),
        "{}",
        stderr(&output)
    );
    assert!(!missing.exists(), "a missing source is not created");

    let source = fixture();
    let before = std::fs::read(&source).unwrap();
    let path = source.to_str().unwrap();
    let output = scratch.run(&["import", "flask", path, "--report", path], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("would overwrite the database it reads"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(&source).unwrap(), before);
}

#[test]
fn a_storage_error_stops_the_run_naming_the_row() {
    // A DynamoDB table that was never made: the first row's read fails.
    let endpoint = vimcar_tests::dynamodb::endpoint();
    let table = vimcar_tests::dynamodb::fresh_table_name();
    let env = [
        ("USERS_BACKEND", "dynamodb"),
        ("USERS_TABLE", table.as_str()),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
    ];
    let source = fixture();
    let output = run_with(
        &env,
        None,
        &["import", "flask", source.to_str().unwrap()],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.starts_with("imported 0, already imported 0, skipped 0 of 5 rows from "),
        "{out}"
    );
    assert!(out.ends_with("; stopped at row 1\n"), "{out}");
    let error = stderr(&output);
    assert!(error.contains("error: stopped at row 1 (foo): "), "{error}");
    assert!(
        error.contains("running the same command again continues from it"),
        "{error}"
    );
}
