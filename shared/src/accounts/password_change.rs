//! Changing one's password: the current one proved as a login proves it, the new one held to the registration rules,
//! and every session ended but a new one for the caller.

use secrecy::{ExposeSecret, SecretString};

use super::log_in::{Proved, prove};
use super::{Caller, Error, TokenPair};
use crate::login_attempts::throttle::Source;
use crate::state::AppState;
use crate::users::{Invalid, Password};

/// A password change as the client asked for it.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    /// Where the request comes from, for throttling.
    pub source: Source,
}

/// Checks the new password first (cheap, and a weak one costs no attempt), then the current one under the login's
/// counters; in one atomic step stores the new hash, only if the stored one is still the one proved, and ends every
/// session of the user (the caller's too: every access token issued before the change is refused from now on); then
/// begins a new session for the caller.
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    change: PasswordChange,
) -> Result<TokenPair, Error> {
    let PasswordChange {
        current,
        new,
        source,
    } = change;
    let user = &caller.user;
    let new = Password::parse_for(
        new.expose_secret(),
        Some(user.username.as_str()),
        Some(user.email.as_str()),
    )
    .map_err(|reason| Error::Invalid(vec![Invalid::new("new_password", reason)]))?;
    if new.expose() == current.expose_secret() {
        return Err(Error::Invalid(vec![Invalid::new(
            "new_password",
            "must differ from the current password",
        )]));
    }
    let Proved {
        user_id,
        username,
        hash,
        ..
    } = prove(state, user.username.as_str(), &current, source).await?;
    if user_id != user.id {
        // The name changed hands since the token was issued: not this caller's password.
        return Err(Error::InvalidCredentials);
    }
    let new_hash = state.hasher.hash(&new).await?;
    // The hash and the end of every session in one step: no failure leaves the new password beside old sessions.
    if state
        .users
        .change_password(&username, Some(&hash), &new_hash)
        .await?
        .is_none()
    {
        // Another change won in between: the password proved is no longer the current one.
        return Err(Error::InvalidCredentials);
    }
    tracing::info!(%user_id, "password changed; every session ended");
    super::sessions::begin(state, user_id).await
}
