//! Who is calling: an access token, checked, and its user, still there.

use super::Error;
use crate::tokens::{TokenError, Tokens};
use crate::users::{User, UserStore};

/// The user `token` was issued to, if the token is valid and unexpired and its user still exists: a token outlives
/// nothing, so once its user is deleted it opens no door.
pub async fn authenticate(
    tokens: &Tokens,
    users: &dyn UserStore,
    token: &str,
) -> Result<User, Error> {
    let claims = tokens.verify(token).map_err(|error| match error {
        TokenError::Expired => Error::Unauthenticated("The token has expired"),
        TokenError::Invalid => Error::Unauthenticated("The token is invalid"),
    })?;
    users
        .by_id(claims.sub)
        .await?
        .ok_or(Error::Unauthenticated("The token is invalid"))
}
