//! `vimcar-admin import flask`: the Flask original's users, with their bcrypt hashes, into the configured storage.
//!
//! Every row is checked against today's rules first; a row they refuse is reported and skipped, and writes nothing.
//! Among the rows that pass, usernames or emails that collide once case is ignored go to the lowest original `id`
//! (the first to register in the original); the others are skipped. Each import stores the user and a record of it in
//! one atomic step, under an id computed from the row, so a second run stores nothing new and a user deleted since
//! stays deleted. bcrypt is never computed here: the first login verifies the hash and replaces it with Argon2id.

mod check;
mod flask;
mod report;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use indicatif::ProgressBar;
use vimcar::events::{Event, Events, Kind, Origin};
use vimcar::storage::StoreError;
use vimcar::users::{ImportStore, ImportStoreExt, Imported, UniqueField, User, UserStore};

use check::{Candidate, Skip, check, deduplicate};
use flask::Row;
use report::{Counts, Line, Outcome, Reason, Report};

/// What `import flask` was asked.
pub struct Options {
    pub path: PathBuf,
    pub dry_run: bool,
    pub report: Option<PathBuf>,
}

/// Imports the Flask database at `options.path` into `users`/`imports`, printing the summary on standard output and
/// recording it (`import.run`, a failure when a storage error stopped it).
pub async fn flask(
    users: &dyn UserStore,
    imports: &dyn ImportStore,
    options: &Options,
    events: &Events,
) -> anyhow::Result<()> {
    let source = flask::read(&options.path)?;
    if let Some(report) = &options.report
        && std::fs::canonicalize(report).ok() == std::fs::canonicalize(&options.path).ok()
    {
        bail!(
            "the report {} would overwrite the database it reads: name another file",
            report.display()
        );
    }
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
                    events.record(
                        &Origin::admin(),
                        run_event(options, &counts, total).failed(),
                    );
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
    events.record(&Origin::admin(), run_event(options, &counts, total));
    Ok(())
}

/// The `import.run` event of a run: its counts, never a username or an email.
fn run_event(options: &Options, counts: &Counts, total: usize) -> Event {
    Event::new(Kind::ImportRun)
        .with("source", "flask")
        .with("dry_run", options.dry_run)
        .with("rows", total)
        .with("imported", counts.imported)
        .with("already_imported", counts.already_imported)
        .with("skipped", counts.skipped)
        .with("without_password", counts.without_password)
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
