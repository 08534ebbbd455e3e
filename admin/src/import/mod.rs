//! `vimcar-admin import flask`: the Flask original's users, with their bcrypt hashes, into the configured storage.
//!
//! Every row is checked against today's rules first; a row they refuse is reported and skipped, and writes nothing.
//! Among the rows that pass, usernames or emails that collide once case is ignored go to the lowest original `id`
//! (the first to register in the original); the others are skipped. Each import stores the user and a record of it in
//! one atomic step, under an id computed from the row, so a second run stores nothing new and a user deleted since
//! stays deleted. bcrypt is never computed here: the first login verifies the hash and replaces it with Argon2id.

mod flask;
mod report;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use indicatif::ProgressBar;
use vimcar::passwords::MAX_BCRYPT_COST;
use vimcar::storage::StoreError;
use vimcar::users::{
    Account, Email, HashScheme, ImportStore, ImportStoreExt, Imported, PasswordHash, UniqueField,
    User, UserStore, Username, imported_id,
};

use flask::Row;
use report::{Counts, Line, Outcome, Reason, Report};

/// What `import flask` was asked.
pub struct Options {
    pub path: PathBuf,
    pub dry_run: bool,
    pub report: Option<PathBuf>,
}

/// A row that passed every check: what would be stored.
struct Candidate {
    account: Account,
    hash: Option<PasswordHash>,
}

/// A skipped row: why, and a sentence saying it.
type Skip = (Reason, String);

/// Imports the Flask database at `options.path` into `users`/`imports`, printing the summary on standard output.
pub async fn flask(
    users: &dyn UserStore,
    imports: &dyn ImportStore,
    options: &Options,
) -> anyhow::Result<()> {
    let source = flask::read(&options.path)?;
    let mut report = Report::create(options.report.as_deref())?;
    let checked = deduplicate(
        source
            .rows
            .iter()
            .map(|row| check(row, source.has_password_column))
            .collect(),
        &source.rows,
    );
    let total = source.rows.len();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    let mut counts = Counts::default();
    for (row, checked) in source.rows.iter().zip(checked) {
        let line = match checked {
            Ok(candidate) => match store(users, imports, &candidate, options.dry_run).await {
                Ok((outcome, skip)) => line_of(row, &candidate, outcome, skip),
                Err(error) => {
                    bar.finish_and_clear();
                    print_summary(options, &counts, total, &source, Some(row.id));
                    let username = candidate.account.user.username;
                    bail!(
                        "stopped at row {} ({username}): {error}. Nothing was written for it; the rows before it are \
                         stored, and running the same command again continues from it",
                        row.id
                    );
                }
            },
            Err((reason, detail)) => Line {
                row: row.id,
                username: raw_username(row),
                outcome: Outcome::Skipped,
                reason: Some(reason),
                detail,
                user_id: None,
                has_password: false,
            },
        };
        counts.add(&line);
        report.write(&line)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    print_summary(options, &counts, total, &source, None);
    Ok(())
}

/// Stores `candidate` (or, dry, finds out whether it would be stored): the outcome, and why when skipped.
async fn store(
    users: &dyn UserStore,
    imports: &dyn ImportStore,
    candidate: &Candidate,
    dry_run: bool,
) -> Result<(Outcome, Option<Skip>), StoreError> {
    let user = &candidate.account.user;
    if imports.imported_before(user.id).await? {
        return Ok((Outcome::AlreadyImported, None));
    }
    if dry_run {
        return Ok(match users.by_username(&user.username).await? {
            Some(_) => (
                Outcome::Skipped,
                Some(taken(&[UniqueField::Username], user)),
            ),
            None => (Outcome::WouldImport, None),
        });
    }
    match imports
        .import(&candidate.account, candidate.hash.as_ref())
        .await
    {
        Ok(Imported::New) => Ok((Outcome::Imported, None)),
        Ok(Imported::Before) => Ok((Outcome::AlreadyImported, None)),
        Err(StoreError::Conflict(fields)) => Ok((Outcome::Skipped, Some(taken(&fields, user)))),
        Err(other) => Err(other),
    }
}

/// The skip of a row whose username (or a look-alike) or email a user already in vimcar holds.
fn taken(fields: &[UniqueField], user: &User) -> Skip {
    let username = fields.contains(&UniqueField::Username);
    let email = fields.contains(&UniqueField::Email);
    let mut parts = Vec::new();
    if username {
        parts.push(format!(
            "the username {} is already taken in vimcar, or looks like a name that is",
            user.username
        ));
    }
    if email {
        parts.push(format!(
            "the email {} is already taken in vimcar",
            user.email.as_str()
        ));
    }
    let reason = if username {
        Reason::UsernameTaken
    } else {
        Reason::EmailTaken
    };
    (reason, parts.join("; "))
}

fn line_of(row: &Row, candidate: &Candidate, outcome: Outcome, skip: Option<Skip>) -> Line {
    let user = &candidate.account.user;
    let has_password = candidate.hash.is_some();
    let how = if has_password {
        "with its bcrypt hash (replaced by Argon2id at its first login)"
    } else {
        "without a password: it cannot log in until `vimcar-admin users set-password` sets one"
    };
    let (reason, detail) = match (outcome, skip) {
        (_, Some((reason, detail))) => (Some(reason), detail),
        (Outcome::Imported, None) => (None, format!("imported as {} {how}", user.username)),
        (Outcome::WouldImport, None) => (None, format!("would be imported as {} {how}", user.username)),
        (_, None) => (
            None,
            "an earlier import stored this row (it may have been deleted since): nothing was written".to_owned(),
        ),
    };
    let stored = outcome != Outcome::Skipped;
    Line {
        row: row.id,
        username: raw_username(row),
        outcome,
        reason,
        detail,
        user_id: stored.then_some(user.id),
        has_password: stored && has_password,
    }
}

fn raw_username(row: &Row) -> Option<String> {
    row.username
        .as_deref()
        .map(|raw| String::from_utf8_lossy(raw).into_owned())
}

/// The summary line, and what the operator should know about it; `stopped` is the row a storage error stopped at.
fn print_summary(
    options: &Options,
    counts: &Counts,
    total: usize,
    source: &flask::Source,
    stopped: Option<i64>,
) {
    let path = options.path.display();
    let stopped = stopped.map_or_else(String::new, |row| format!("; stopped at row {row}"));
    if options.dry_run {
        println!(
            "dry run: would import {}, already imported {}, skipped {} of {total} rows from {path}; nothing was \
             written{stopped}",
            counts.imported, counts.already_imported, counts.skipped
        );
    } else {
        println!(
            "imported {}, already imported {}, skipped {} of {total} rows from {path}{stopped}",
            counts.imported, counts.already_imported, counts.skipped
        );
    }
    if !source.has_password_column {
        println!("{path} has no password column: every row imports without a password");
    }
    if counts.without_password > 0 {
        println!(
            "{} of them without a password: they cannot log in until `vimcar-admin users set-password` sets one",
            counts.without_password
        );
    }
    if counts.skipped > 0 {
        match &options.report {
            Some(report) => println!(
                "the report {} says why each row was skipped",
                report.display()
            ),
            None => println!("run it again with --report FILE to see why each row was skipped"),
        }
    }
}

/// Checks one row against today's rules, without storing anything.
fn check(row: &Row, has_password_column: bool) -> Result<Candidate, Skip> {
    let raw_username = text(&row.username, "username", Reason::InvalidUsername)?;
    let username = Username::parse(raw_username).map_err(|message| {
        (
            Reason::InvalidUsername,
            format!("username {raw_username:?} {message}"),
        )
    })?;
    let raw_email = text(&row.email, "email", Reason::InvalidEmail)?;
    let email = Email::parse(raw_email).map_err(|message| {
        (
            Reason::InvalidEmail,
            format!("email {raw_email:?} {message}"),
        )
    })?;
    let raw_created_at = text(&row.created_at, "created_at", Reason::InvalidCreatedAt)?;
    let created_at = parse_created_at(raw_created_at).ok_or_else(|| {
        (
            Reason::InvalidCreatedAt,
            format!(
                "created_at {raw_created_at:?} is not a time as SQLAlchemy writes it (YYYY-MM-DD HH:MM:SS[.ffffff], \
                 UTC)"
            ),
        )
    })?;
    let is_admin = row.is_admin.ok_or_else(|| {
        (
            Reason::InvalidIsAdmin,
            "is_admin is neither 0, 1 nor NULL".to_owned(),
        )
    })?;
    let hash = match (has_password_column, &row.password) {
        (false, _) | (true, None) => None,
        (true, Some(bytes)) => Some(bcrypt_hash(bytes)?),
    };
    let mut source = b"flask\0".to_vec();
    source.extend_from_slice(row.id.to_string().as_bytes());
    source.push(0);
    source.extend_from_slice(raw_username.as_bytes());
    source.push(0);
    source.extend_from_slice(raw_created_at.as_bytes());
    Ok(Candidate {
        account: Account {
            user: User {
                id: imported_id(created_at, &source),
                username,
                email,
                created_at,
            },
            is_admin,
        },
        hash,
    })
}

/// A value as UTF-8 text, or the skip of a row where it is not.
fn text<'a>(value: &'a Option<Vec<u8>>, field: &str, reason: Reason) -> Result<&'a str, Skip> {
    value
        .as_deref()
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .ok_or_else(|| (reason, format!("{field} is not text")))
}

/// A password the first login can verify: a bcrypt hash within the cost cap, kept as it is (never computed here).
fn bcrypt_hash(bytes: &[u8]) -> Result<PasswordHash, Skip> {
    let unknown = || {
        (
            Reason::UnknownHashFormat,
            "the password is not a bcrypt hash as Flask-Bcrypt writes it ($2b$, a cost, 53 characters): nothing \
             could verify it"
                .to_owned(),
        )
    };
    let text = std::str::from_utf8(bytes).map_err(|_| unknown())?;
    let hash = PasswordHash::new(text.to_owned());
    match hash.scheme() {
        HashScheme::Bcrypt { cost } if cost <= MAX_BCRYPT_COST => Ok(hash),
        HashScheme::Bcrypt { cost } => Err((
            Reason::BcryptCostOverCap,
            format!(
                "the bcrypt hash's cost is {cost}, over the cap of {MAX_BCRYPT_COST}: a login would refuse it \
                 without computing it"
            ),
        )),
        HashScheme::Argon2 | HashScheme::Unknown => Err(unknown()),
    }
}

/// SQLAlchemy's naive UTC text (`YYYY-MM-DD HH:MM:SS[.ffffff]`, or with a `T`), as UTC, to the millisecond as
/// every stored time is.
fn parse_created_at(raw: &str) -> Option<DateTime<Utc>> {
    let spaced = match raw.as_bytes().get(10) {
        Some(b'T') => format!("{} {}", &raw[..10], &raw[11..]),
        _ => raw.to_owned(),
    };
    NaiveDateTime::parse_from_str(&spaced, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|at| at.and_utc().trunc_subsecs(3))
}

/// Among the rows that passed, the lowest `id` keeps a username or an email (compared once parsed, so case is
/// ignored); every other row of the group is skipped, naming the winner's row.
fn deduplicate(
    checked: Vec<Result<Candidate, Skip>>,
    rows: &[Row],
) -> Vec<Result<Candidate, Skip>> {
    let mut usernames: HashMap<String, i64> = HashMap::new();
    let mut emails: HashMap<String, i64> = HashMap::new();
    checked
        .into_iter()
        .zip(rows)
        .map(|(checked, row)| {
            let candidate = checked?;
            let user = &candidate.account.user;
            if let Some(winner) = usernames.get(user.username.as_str()) {
                return Err((
                    Reason::DuplicateUsername,
                    format!(
                        "row {winner} has the same username once case is ignored ({}): the lowest id keeps it",
                        user.username
                    ),
                ));
            }
            if let Some(winner) = emails.get(user.email.as_str()) {
                return Err((
                    Reason::DuplicateEmail,
                    format!(
                        "row {winner} has the same email once case is ignored ({}): the lowest id keeps it",
                        user.email.as_str()
                    ),
                ));
            }
            usernames.insert(user.username.as_str().to_owned(), row.id);
            emails.insert(user.email.as_str().to_owned(), row.id);
            Ok(candidate)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_is_read_as_sqlalchemy_writes_it_to_the_millisecond() {
        let at = |raw| parse_created_at(raw).map(|at| vimcar::users::format_timestamp(&at));
        assert_eq!(
            at("2024-06-14 19:27:37.343037").as_deref(),
            Some("2024-06-14T19:27:37.343Z")
        );
        assert_eq!(
            at("2024-06-14T19:27:37").as_deref(),
            Some("2024-06-14T19:27:37.000Z")
        );
        for bad in [
            "",
            "yesterday",
            "2024-06-14",
            "2024-13-01 00:00:00",
            "2024-06-14 19:27:37+02:00",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }
}
