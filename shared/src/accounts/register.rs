//! Registering a user.

use super::Error;
use crate::passwords::PasswordHasher;
use crate::users::{NewUser, User, UserStore, UserStoreExt};

/// Stores `new_user` whole, with a hash of its password when it has one, or nothing at all: a taken username (or a
/// look-alike of one) or email is [`Error::Taken`].
pub async fn register(
    users: &dyn UserStore,
    hasher: &PasswordHasher,
    new_user: NewUser,
) -> Result<User, Error> {
    let hash = match &new_user.password {
        Some(password) => Some(hasher.hash(password).await?),
        None => None,
    };
    let user = User::new(new_user.username, new_user.email);
    users.insert(&user, hash.as_ref()).await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok(user)
}
