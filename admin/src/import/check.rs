//! Each source row against today's rules, and the collisions among the rows that pass: what would be stored, or why
//! a row is skipped. Nothing here reads or writes storage.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use vimcar::passwords::MAX_BCRYPT_COST;
use vimcar::users::{Account, Email, HashScheme, PasswordHash, User, Username, imported_id};

use super::flask::Row;
use super::report::Reason;

/// A row that passed every check: what would be stored.
pub struct Candidate {
    pub account: Account,
    pub hash: Option<PasswordHash>,
}

/// A skipped row: why, and a sentence saying it.
pub type Skip = (Reason, String);

/// Checks one row against today's rules, without storing anything.
pub fn check(row: &Row, has_password_column: bool) -> Result<Candidate, Skip> {
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
pub fn deduplicate(
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
