//! Who is calling: an access token, checked, in a session that is still open, of a user who still exists.

use uuid::Uuid;

use super::Error;
use crate::state::AppState;
use crate::tokens::TokenError;
use crate::users::User;

/// The holder of a valid access token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// Read from storage with the user on this request, never taken from the token: a demotion counts at once.
    pub is_admin: bool,
    /// The session the token was issued in.
    pub session_id: Uuid,
}

/// The user `token` was issued to, if the token is valid and unexpired, its session still open and its user still
/// there. The session and the user are read at once (two strongly consistent reads on DynamoDB, in parallel; two
/// primary-key lookups on SQLite), so a logout, a detected reuse or a deletion shuts this door at once, without
/// waiting for the token's `exp`.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, Error> {
    let claims = state.tokens.verify(token).map_err(refused)?;
    let (session, account) = tokio::join!(
        state.sessions.session(claims.sid),
        state.users.account(claims.sub)
    );
    let session = match session? {
        Some(session) if session.user_id == claims.sub => session,
        _ => return Err(Error::SessionEnded(super::SESSION_ENDED)),
    };
    if !session.is_live(state.clock.now()) {
        return Err(Error::SessionEnded(super::SESSION_EXPIRED));
    }
    // The user's deletion ends its sessions in the same step, so this is the rare race with a deletion.
    let account = account?.ok_or(Error::SessionEnded(super::SESSION_ENDED))?;
    Ok(Caller {
        user: account.user,
        is_admin: account.is_admin,
        session_id: session.id,
    })
}

/// Why an access token was refused, as the client is told.
pub(super) fn refused(error: TokenError) -> Error {
    match error {
        TokenError::Expired => Error::Unauthenticated("The token has expired"),
        TokenError::Invalid => Error::Unauthenticated("The token is invalid"),
    }
}
