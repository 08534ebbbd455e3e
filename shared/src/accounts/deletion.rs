//! Deleting one's own account: the password proved as a login proves it, then the user and everything stored for it
//! gone in one atomic step.

use secrecy::SecretString;

use super::log_in::{Proved, prove};
use super::{Caller, Error};
use crate::login_attempts::throttle::Source;
use crate::state::AppState;

/// Deletes the caller's account once `password` is proved under the login's counters: the user, its username,
/// email and skeleton reservations, its sessions and the counters this request was counted under, all in one
/// transaction (or none of them). Afterwards its tokens are refused, its login fails, and its name and address
/// can be registered again.
pub async fn delete_account(
    state: &AppState,
    caller: &Caller,
    password: &SecretString,
    source: Source,
) -> Result<(), Error> {
    let Proved {
        user_id,
        username,
        keys,
        ..
    } = prove(state, caller.user.username.as_str(), password, source).await?;
    if user_id != caller.user.id {
        return Err(Error::InvalidCredentials);
    }
    let deleted = state
        .users
        .delete_with(&username, &[keys.account, keys.source])
        .await?;
    // Not there any more is what was asked: a deletion racing another one of the same account.
    tracing::info!(%user_id, deleted, "account deleted by its user");
    Ok(())
}
