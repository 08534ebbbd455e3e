//! The user domain: validated field types, the user record, and the repository that stores users.

mod attempts;
pub mod dynamodb;
mod email;
mod field;
mod password;
mod repository;
mod skeleton;
mod strength;
mod username;

#[cfg(feature = "sqlite")]
pub mod sqlite;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use attempts::{AttemptKey, Attempts, Expiry};
pub use email::{Email, renders_as_nothing};
pub use field::{FieldError, UniqueField};
pub use password::{Password, PasswordHash};
pub use repository::{Credentials, Cursor, Page, PageSize, RepoError, SkeletonOf, UserRepository};
pub use skeleton::Skeleton;
pub use username::Username;

/// A registered user as the API shows it: never with a password or a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub username: Username,
    pub email: Email,
    #[serde(serialize_with = "serialize_timestamp")]
    pub created_at: DateTime<Utc>,
}

impl User {
    /// A new user with a fresh time-ordered id, created now.
    pub fn new(username: Username, email: Email) -> Self {
        Self {
            id: Uuid::now_v7(),
            username,
            email,
            // Millisecond precision survives every backend's round trip unchanged.
            created_at: Utc::now().trunc_subsecs(3),
        }
    }
}

/// Formats a timestamp the one way every backend stores it: RFC 3339, UTC, milliseconds.
pub fn format_timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses a timestamp written by [`format_timestamp`].
pub fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(raw).map(|at| at.with_timezone(&Utc))
}

fn serialize_timestamp<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(at))
}

/// A registration that passed every field rule: what the repository stores, once hashed.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    pub password: Option<Password>,
}

/// Whether a registration must carry a password (the API) or may leave it unset (the admin command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    Required,
    Optional,
}

impl NewUser {
    /// Checks every field at once, so that the client hears about all its mistakes in one answer.
    pub fn parse(
        username: Option<&str>,
        email: Option<&str>,
        password: Option<&str>,
        rule: PasswordRule,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let parsed_username = check("username", username, Username::parse, &mut errors);
        let parsed_email = check("email", email, Email::parse, &mut errors);
        let password = if password.is_none() && rule == PasswordRule::Optional {
            None
        } else {
            // What the user typed elsewhere in the form makes a password easy to guess.
            let context: Vec<&str> = [username, email, email.and_then(|e| e.split('@').next())]
                .into_iter()
                .flatten()
                .collect();
            check(
                "password",
                password,
                |raw| Password::parse(raw, &context),
                &mut errors,
            )
        };
        match (parsed_username, parsed_email) {
            (Some(username), Some(email)) if errors.is_empty() => Ok(Self {
                username,
                email,
                password,
            }),
            _ => Err(errors),
        }
    }
}

fn check<T>(
    field: &'static str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let result = match raw {
        None => Err("is required".to_owned()),
        Some(raw) => parse(raw),
    };
    result
        .map_err(|message| errors.push(FieldError::new(field, message)))
        .ok()
}
