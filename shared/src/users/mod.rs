//! The user domain: validated field types, the user record, the page of a listing, and the port that stores users.

mod email;
mod field;
mod import;
mod page;
mod password;
mod skeleton;
mod store;
mod strength;
mod username;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use email::{Email, renders_as_nothing};
pub use field::{Invalid, UniqueField, check};
pub use import::{ImportStore, ImportStoreExt, Imported, imported_id};
pub use page::{Cursor, Page, PageSize};
pub use password::{HashScheme, Password, PasswordHash};
pub use skeleton::Skeleton;
pub use store::{Credentials, SkeletonOf, UserStore, UserStoreExt};
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

/// A user and what only the user, an administrator or the application itself may see of it: whether it is an
/// administrator. Read from storage on every request, never from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub is_admin: bool,
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

pub(crate) fn serialize_timestamp<S: serde::Serializer>(
    at: &DateTime<Utc>,
    s: S,
) -> Result<S::Ok, S::Error> {
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
    ) -> Result<Self, Vec<Invalid>> {
        let mut errors = Vec::new();
        let parsed_username = check("username", username, Username::parse, &mut errors);
        let parsed_email = check("email", email, Email::parse, &mut errors);
        let password = if password.is_none() && rule == PasswordRule::Optional {
            None
        } else {
            check(
                "password",
                password,
                |raw| Password::parse_for(raw, username, email),
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
