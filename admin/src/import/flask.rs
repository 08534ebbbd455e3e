//! Reading the Flask original's `users` table: opened read-only, its columns found by name (the original's schema
//! varied between versions), every row read as it is stored, checked later.

use std::path::Path;

use anyhow::{Context, bail};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// Columns every version of the original has.
const REQUIRED: [&str; 4] = ["id", "username", "email", "created_at"];

/// One row of the source, as stored.
pub struct Row {
    pub id: i64,
    /// Text, or the bytes of a BLOB; `None` for NULL or a number.
    pub username: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub created_at: Option<Vec<u8>>,
    /// Flask-Bcrypt's bytes (BLOB) or text; `None` for NULL or when the table has no such column.
    pub password: Option<Vec<u8>>,
    /// `None` when the value is neither 0, 1 nor NULL.
    pub is_admin: Option<bool>,
}

/// The source's rows, in `id` order.
pub struct Source {
    pub rows: Vec<Row>,
    /// Whether the table has a `password` column: without one every row imports without a password.
    pub has_password_column: bool,
}

/// Opens `path` read-only (a missing file is an error, never a new database; the file is never written) and reads
/// every row of its `users` table.
pub fn read(path: &Path) -> anyhow::Result<Source> {
    if !path.is_file() {
        bail!("there is no file {}", path.display());
    }
    let uri = format!("file:{}?mode=ro", uri_path(path));
    let connection = Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
    .with_context(|| format!("opening {} read-only", path.display()))?;
    read_from(&connection).with_context(|| format!("reading {}", path.display()))
}

fn read_from(connection: &Connection) -> anyhow::Result<Source> {
    let mut statement = connection.prepare("SELECT name FROM pragma_table_info('users')")?;
    let found: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if found.is_empty() {
        bail!("it has no table `users`: is it the Flask original's database?");
    }
    let column = |name: &str| {
        found
            .iter()
            .find(|column| column.eq_ignore_ascii_case(name))
            .cloned()
    };
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|name| column(name).is_none())
        .collect();
    if !missing.is_empty() {
        bail!(
            "its table `users` has no column {} (it needs {}; it has {})",
            missing.join(", "),
            REQUIRED.join(", "),
            found.join(", ")
        );
    }
    let quoted = |name: Option<String>| match name {
        Some(name) => format!("\"{}\"", name.replace('"', "\"\"")),
        None => "NULL".to_owned(),
    };
    let password = column("password");
    let has_password_column = password.is_some();
    let select = format!(
        "SELECT {}, {}, {}, {}, {}, {} FROM users ORDER BY 1",
        quoted(column("id")),
        quoted(column("username")),
        quoted(column("email")),
        quoted(column("created_at")),
        quoted(password),
        quoted(column("is_admin")),
    );
    let mut statement = connection.prepare(&select)?;
    let mut rows = statement.query([])?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let id = match row.get_ref(0)? {
            ValueRef::Integer(id) => id,
            other => bail!(
                "a row's id is {:?}, not an integer: the Flask original wrote integer ids",
                other.data_type()
            ),
        };
        read.push(Row {
            id,
            username: bytes(row.get_ref(1)?),
            email: bytes(row.get_ref(2)?),
            created_at: bytes(row.get_ref(3)?),
            password: bytes(row.get_ref(4)?),
            is_admin: match row.get_ref(5)? {
                ValueRef::Null | ValueRef::Integer(0) => Some(false),
                ValueRef::Integer(1) => Some(true),
                _ => None,
            },
        });
    }
    Ok(Source {
        rows: read,
        has_password_column,
    })
}

/// Text or a BLOB's bytes; `None` for anything else.
fn bytes(value: ValueRef<'_>) -> Option<Vec<u8>> {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(bytes.to_vec()),
        _ => None,
    }
}

/// `path` for a `file:` URI: the characters a URI gives a meaning to, percent-encoded.
fn uri_path(path: &Path) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => encoded.push_str(&format!("%{:02X}", c as u32)),
            c => encoded.push(c),
        }
    }
    encoded
}
