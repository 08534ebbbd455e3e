//! What the API shows of a user, by how much the caller may see ([`Sight`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::Sight;
use crate::users::{Email, User, Username, serialize_timestamp};

/// A user as one answer shows it: the email only to those who may see it, the admin flag only in full.
#[derive(Serialize)]
pub(super) struct UserView<'a> {
    id: Uuid,
    username: &'a Username,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a Email>,
    #[serde(serialize_with = "serialize_timestamp")]
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_admin: Option<bool>,
}

impl<'a> UserView<'a> {
    /// `user` as `sight` shows it; `is_admin` is shown only in full.
    pub(super) fn new(user: &'a User, is_admin: bool, sight: Sight) -> Self {
        Self {
            id: user.id,
            username: &user.username,
            email: (sight != Sight::Directory).then_some(&user.email),
            created_at: user.created_at,
            is_admin: (sight == Sight::Full).then_some(is_admin),
        }
    }
}
