//! The kinds of item in the users table, and their conversion to and from domain values.
//!
//! This is the only place that knows attribute names and key formats; the rest of the backend works with the types
//! below. The few items that are `pub` let the tests look at what was stored without writing the layout again.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use crate::login_attempts::{AttemptKey, Attempts};
use crate::sessions::Session;
use crate::users::{
    Credentials, Email, PasswordHash, Skeleton, User, Username, format_timestamp, parse_timestamp,
};

/// An item as the SDK reads and writes it.
pub type Item = HashMap<String, AttributeValue>;

/// The table's partition key. Its value starts with the item's kind, so the kinds never collide.
pub const PK: &str = "pk";
/// Sort key of the listing index; only user items carry it.
pub(super) const ID: &str = "id";
/// Partition key of the listing index: [`LISTING_ALL`] on user items, absent elsewhere, so the index is sparse and
/// holds user items only.
pub(super) const LISTING: &str = "listing";
/// The one value of [`LISTING`].
pub(super) const LISTING_ALL: &str = "USERS";
pub(super) const USERNAME: &str = "username";
pub(super) const EMAIL: &str = "email";
pub(super) const CREATED_AT: &str = "created_at";
/// On username and email items: the user who holds the name or address.
pub(super) const USER_ID: &str = "user_id";
/// On username items only, so that logging in is one read and listing never copies a hash.
pub(super) const PASSWORD_HASH: &str = "password_hash";
/// On username items, beside the hash: `true` while the password works but fails today's rules (an imported one),
/// absent otherwise. Every write of a new hash removes it.
pub(super) const PASSWORD_CHANGE_REQUIRED: &str = "password_change_required";
/// On import records: when the import ran.
pub(super) const IMPORTED_AT: &str = "imported_at";
/// On user items: the username's skeleton, whose `SKELETON#` item the user holds, so that deleting the user finds
/// that item without computing the skeleton. Absent on users stored before skeletons until `upgrade` fills it in, and
/// on a look-alike registered before then whose skeleton an older user holds.
pub const SKELETON: &str = "skeleton";

/// On login-attempt items: attempts counted, the last one's time, and when the item expires (epoch seconds, the
/// table's TTL attribute).
pub(super) const ATTEMPTS: &str = "attempts";
pub(super) const LAST_ATTEMPT_AT: &str = "last_attempt_at";
pub(super) const EXPIRES_AT: &str = "expires_at";

/// On user items: `true` for an administrator, absent (or `false`) for everyone else. Not in the listing index, which
/// lists no one's role.
pub(super) const IS_ADMIN: &str = "is_admin";
/// On user items: the ids of the user's sessions (a string set, absent when there are none), so that a global
/// logout or the user's deletion finds every one with a strongly consistent read; and a counter that every change
/// of that set adds one to, which the writes that replace or empty the set are conditioned on.
pub(super) const SESSIONS: &str = "sessions";
pub(super) const SESSIONS_VERSION: &str = "sessions_version";
/// On session items: the current refresh token's generation, and the session's times. `expires_at` (the TTL
/// attribute) is the idle expiry in epoch seconds, rounded up, so TTL never deletes a live session.
pub(super) const GENERATION: &str = "generation";
pub(super) const REFRESHED_AT: &str = "refreshed_at";
pub(super) const IDLE_EXPIRES_AT: &str = "idle_expires_at";
pub(super) const ENDS_AT: &str = "ends_at";

/// Starts the key of every user item (and of no other kind).
pub(super) const USER_PREFIX: &str = "USER#";
pub const LOGIN_PREFIX: &str = "LOGIN#";
const USERNAME_PREFIX: &str = "USERNAME#";
const EMAIL_PREFIX: &str = "EMAIL#";
const SKELETON_PREFIX: &str = "SKELETON#";
pub const SESSION_PREFIX: &str = "SESSION#";
/// Records of imports (`vimcar-admin import`), one per imported user id, kept after the user is deleted.
pub const IMPORT_PREFIX: &str = "IMPORTED#";

/// A stored item that does not have the shape this code writes. Names the attribute, never its value (which could
/// be a password hash).
#[derive(Debug, thiserror::Error)]
pub(super) enum ItemError {
    #[error("attribute `{0}` is missing or not a string")]
    NotAString(&'static str),
    #[error("attribute `{0}` does not start with {1:?}")]
    WrongKind(&'static str, &'static str),
    #[error("attribute `{0}` is not a valid {1}")]
    Invalid(&'static str, &'static str),
}

/// The key of a user's own item.
pub fn user_key(id: Uuid) -> Item {
    key(format!("{USER_PREFIX}{id}"))
}

/// The key of the item that reserves a username.
pub fn username_key(username: &Username) -> Item {
    key(format!("{USERNAME_PREFIX}{username}"))
}

/// The key of the item that reserves an email address.
pub fn email_key(email: &Email) -> Item {
    key(format!("{EMAIL_PREFIX}{email}"))
}

/// The key of the item that reserves a username's skeleton, so that no look-alike of the name registers.
pub fn skeleton_key(skeleton: &Skeleton) -> Item {
    key(format!("{SKELETON_PREFIX}{}", skeleton.as_str()))
}

/// The key of the record of a user's import.
pub fn import_key(id: Uuid) -> Item {
    key(format!("{IMPORT_PREFIX}{id}"))
}

/// The record of a user's import: its key and when. No name, address or hash, so it may outlive the user.
pub(super) fn import_item(id: Uuid, at: &DateTime<Utc>) -> Item {
    let mut item = import_key(id);
    item.insert(IMPORTED_AT.to_owned(), string_value(format_timestamp(at)));
    item
}

/// The key of a session's item.
pub fn session_key(id: Uuid) -> Item {
    key(format!("{SESSION_PREFIX}{id}"))
}

/// A session's item.
pub(super) fn session_item(session: &Session) -> Item {
    let mut item = session_key(session.id);
    item.extend([
        (
            USER_ID.to_owned(),
            string_value(session.user_id.to_string()),
        ),
        (
            GENERATION.to_owned(),
            AttributeValue::N(session.generation.to_string()),
        ),
        (
            CREATED_AT.to_owned(),
            string_value(format_timestamp(&session.created_at)),
        ),
        (
            REFRESHED_AT.to_owned(),
            string_value(format_timestamp(&session.refreshed_at)),
        ),
        (
            IDLE_EXPIRES_AT.to_owned(),
            string_value(format_timestamp(&session.idle_expires_at)),
        ),
        (
            ENDS_AT.to_owned(),
            string_value(format_timestamp(&session.expires_at)),
        ),
        (
            EXPIRES_AT.to_owned(),
            number_value(ttl_epoch(&session.idle_expires_at)),
        ),
    ]);
    item
}

/// The TTL value for an item that must live until `at`: its epoch second, rounded up.
pub(super) fn ttl_epoch(at: &DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

/// Reads a session's item.
pub(super) fn read_session(item: &Item) -> Result<Session, ItemError> {
    let id = Uuid::parse_str(prefixed(item, SESSION_PREFIX)?)
        .map_err(|_| ItemError::Invalid(PK, "session id"))?;
    let time = |name: &'static str| {
        parse_timestamp(string(item, name)?).map_err(|_| ItemError::Invalid(name, "timestamp"))
    };
    Ok(Session {
        id,
        user_id: uuid(item, USER_ID)?,
        generation: u64::try_from(number(item, GENERATION)?)
            .map_err(|_| ItemError::Invalid(GENERATION, "generation"))?,
        created_at: time(CREATED_AT)?,
        refreshed_at: time(REFRESHED_AT)?,
        idle_expires_at: time(IDLE_EXPIRES_AT)?,
        expires_at: time(ENDS_AT)?,
    })
}

/// The session ids a user item lists, and the version of that list (0 before the first session).
pub(super) fn read_user_sessions(item: &Item) -> Result<(Vec<Uuid>, i64), ItemError> {
    let ids = match item.get(SESSIONS) {
        None => Vec::new(),
        Some(AttributeValue::Ss(ids)) => ids
            .iter()
            .map(|id| Uuid::parse_str(id).map_err(|_| ItemError::Invalid(SESSIONS, "UUID set")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ItemError::Invalid(SESSIONS, "string set")),
    };
    let version = match item.get(SESSIONS_VERSION) {
        None => 0,
        Some(_) => number(item, SESSIONS_VERSION)?,
    };
    Ok((ids, version))
}

/// The key of the item counting login attempts under `key` (a keyed hash: no name is ever part of a key).
pub fn attempt_key(key: &AttemptKey) -> Item {
    self::key(format!("{LOGIN_PREFIX}{}", key.as_str()))
}

/// A login-attempt item holding `count` attempts, the last at `last_at`, expiring at `expires` (epoch seconds).
pub fn attempt_item(key: &AttemptKey, count: u32, last_at: DateTime<Utc>, expires: i64) -> Item {
    let mut item = attempt_key(key);
    item.extend([
        (ATTEMPTS.to_owned(), number_value(i64::from(count))),
        (
            LAST_ATTEMPT_AT.to_owned(),
            string_value(format_timestamp(&last_at)),
        ),
        (EXPIRES_AT.to_owned(), number_value(expires)),
    ]);
    item
}

/// Reads the counter attributes of a login-attempt item (a whole item, or the old values an update returns); none
/// at all is a counter at zero.
pub(super) fn read_attempts(item: &Item) -> Result<Attempts, ItemError> {
    if !item.contains_key(ATTEMPTS) {
        return Ok(Attempts::default());
    }
    let count = u32::try_from(number(item, ATTEMPTS)?)
        .map_err(|_| ItemError::Invalid(ATTEMPTS, "count"))?;
    let last_at = parse_timestamp(string(item, LAST_ATTEMPT_AT)?)
        .map_err(|_| ItemError::Invalid(LAST_ATTEMPT_AT, "timestamp"))?;
    let expires_at = DateTime::from_timestamp(number(item, EXPIRES_AT)?, 0)
        .ok_or(ItemError::Invalid(EXPIRES_AT, "epoch time"))?;
    Ok(Attempts {
        count,
        last_at: Some(last_at),
        expires_at: Some(expires_at),
    })
}

/// A number attribute.
fn number(item: &Item, name: &'static str) -> Result<i64, ItemError> {
    match item.get(name) {
        Some(AttributeValue::N(text)) => {
            text.parse().map_err(|_| ItemError::Invalid(name, "number"))
        }
        _ => Err(ItemError::Invalid(name, "number")),
    }
}

/// A number attribute value.
pub(super) fn number_value(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String) -> Item {
    HashMap::from([(PK.to_owned(), AttributeValue::S(pk))])
}

/// A user's own item: what `get` and `list` read, and the skeleton its user holds.
pub(super) fn user_item(user: &User, skeleton: &Skeleton) -> Item {
    let mut item = user_key(user.id);
    item.extend([
        (ID.to_owned(), string_value(user.id.to_string())),
        (LISTING.to_owned(), string_value(LISTING_ALL)),
        (USERNAME.to_owned(), string_value(user.username.as_str())),
        (EMAIL.to_owned(), string_value(user.email.as_str())),
        (
            CREATED_AT.to_owned(),
            string_value(format_timestamp(&user.created_at)),
        ),
        (SKELETON.to_owned(), string_value(skeleton.as_str())),
    ]);
    item
}

/// Every item that storing `user` writes, in the order of `insert`'s transaction (which fixes the indexes of its
/// cancellation reasons): the user's own, its username's (with `hash`), its email's and its skeleton's. Public for
/// writers beside the repository, such as the benchmarks' BatchWriteItem seeding, so that they store exactly these.
pub fn user_items(user: &User, hash: Option<&PasswordHash>, skeleton: &Skeleton) -> [Item; 4] {
    [
        user_item(user, skeleton),
        username_item(&user.username, user.id, hash),
        email_item(&user.email, user.id),
        skeleton_item(skeleton, user.id),
    ]
}

/// The skeleton a user item says its user holds, if any.
pub(super) fn read_user_skeleton(item: &Item) -> Result<Option<Skeleton>, ItemError> {
    match item.get(SKELETON) {
        None => Ok(None),
        Some(AttributeValue::S(skeleton)) => Ok(Some(Skeleton::from_stored(skeleton.clone()))),
        Some(_) => Err(ItemError::NotAString(SKELETON)),
    }
}

/// Reads a user item.
pub(super) fn read_user(item: &Item) -> Result<User, ItemError> {
    let id = uuid(item, ID)?;
    if string(item, PK)?.strip_prefix(USER_PREFIX) != Some(&id.to_string()) {
        return Err(ItemError::WrongKind(PK, USER_PREFIX));
    }
    Ok(User {
        id,
        username: Username::from_stored(string(item, USERNAME)?.to_owned()),
        email: Email::from_stored(string(item, EMAIL)?.to_owned()),
        created_at: parse_timestamp(string(item, CREATED_AT)?)
            .map_err(|_| ItemError::Invalid(CREATED_AT, "timestamp"))?,
    })
}

/// Whether a user item says its user is an administrator.
pub(super) fn read_is_admin(item: &Item) -> Result<bool, ItemError> {
    match item.get(IS_ADMIN) {
        None => Ok(false),
        Some(AttributeValue::Bool(is_admin)) => Ok(*is_admin),
        Some(_) => Err(ItemError::Invalid(IS_ADMIN, "boolean")),
    }
}

/// The item that reserves `username` for `user_id` and holds its password hash.
pub(super) fn username_item(
    username: &Username,
    user_id: Uuid,
    hash: Option<&PasswordHash>,
) -> Item {
    let mut item = username_key(username);
    item.insert(USER_ID.to_owned(), string_value(user_id.to_string()));
    if let Some(hash) = hash {
        item.insert(PASSWORD_HASH.to_owned(), string_value(hash.as_str()));
    }
    item
}

/// Reads a username item: the login data of the name's holder.
pub(super) fn read_username(item: &Item) -> Result<Credentials, ItemError> {
    prefixed(item, USERNAME_PREFIX)?;
    let hash = match item.get(PASSWORD_HASH) {
        None => None,
        Some(AttributeValue::S(hash)) => Some(PasswordHash::new(hash.clone())),
        Some(_) => return Err(ItemError::NotAString(PASSWORD_HASH)),
    };
    let password_change_required = match item.get(PASSWORD_CHANGE_REQUIRED) {
        None => false,
        Some(AttributeValue::Bool(required)) => *required,
        Some(_) => return Err(ItemError::Invalid(PASSWORD_CHANGE_REQUIRED, "boolean")),
    };
    Ok(Credentials {
        user_id: uuid(item, USER_ID)?,
        hash,
        password_change_required,
    })
}

/// The item that reserves `email` for `user_id`. Nothing reads it back in normal operation: it exists only so that
/// a transaction can fail when the address is taken.
pub(super) fn email_item(email: &Email, user_id: Uuid) -> Item {
    let mut item = email_key(email);
    item.insert(USER_ID.to_owned(), string_value(user_id.to_string()));
    item
}

/// The item that reserves `skeleton` for `user_id`. Like an email item, it exists only so that a transaction can
/// fail when a look-alike of the name is taken.
pub(super) fn skeleton_item(skeleton: &Skeleton, user_id: Uuid) -> Item {
    let mut item = skeleton_key(skeleton);
    item.insert(USER_ID.to_owned(), string_value(user_id.to_string()));
    item
}

/// Reads a skeleton item: the skeleton and its holder.
#[cfg(test)]
pub(super) fn read_skeleton(item: &Item) -> Result<(Skeleton, Uuid), ItemError> {
    let skeleton = prefixed(item, SKELETON_PREFIX)?;
    Ok((
        Skeleton::from_stored(skeleton.to_owned()),
        uuid(item, USER_ID)?,
    ))
}

/// Reads an email item: the address and its holder.
#[cfg(test)]
pub(super) fn read_email(item: &Item) -> Result<(Email, Uuid), ItemError> {
    let email = prefixed(item, EMAIL_PREFIX)?;
    Ok((Email::from_stored(email.to_owned()), uuid(item, USER_ID)?))
}

/// An attribute value for a string.
pub(super) fn string_value(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn string<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, ItemError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(ItemError::NotAString(name)),
    }
}

fn uuid(item: &Item, name: &'static str) -> Result<Uuid, ItemError> {
    Uuid::parse_str(string(item, name)?).map_err(|_| ItemError::Invalid(name, "UUID"))
}

fn prefixed<'a>(item: &'a Item, prefix: &'static str) -> Result<&'a str, ItemError> {
    string(item, PK)?
        .strip_prefix(prefix)
        .ok_or(ItemError::WrongKind(PK, prefix))
}

#[cfg(test)]
mod tests;
