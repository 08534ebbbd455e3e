//! Sessions from the user's side: the pair of tokens a login or a refresh answers, refreshing, and logging out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{Error, SESSION_ENDED, SESSION_EXPIRED};
use crate::sessions::{RefreshToken, Session};
use crate::state::AppState;
use crate::tokens::AccessToken;

/// What a login or a refresh answers: an access token, and the refresh token that gets the next one.
pub struct TokenPair {
    /// The user they belong to.
    pub user_id: Uuid,
    /// The session they belong to.
    pub session_id: Uuid,
    pub access: AccessToken,
    pub refresh: SecretString,
    /// How long the refresh token works if unused: until the session's idle or absolute timeout, whichever is first.
    pub refresh_expires_in: Duration,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("access", &self.access)
            .field("refresh", &"[redacted]")
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish()
    }
}

/// Which sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The session of the token presented.
    #[default]
    Session,
    /// Every session of its user.
    Global,
}

/// Begins a session for `user_id` (whose password was just proved) and answers its first tokens. `false` from the
/// store means the user was deleted a moment ago.
pub(super) async fn begin(state: &AppState, user_id: Uuid) -> Result<TokenPair, Error> {
    let now = state.clock.now();
    let session = Session::begin(user_id, now, &state.session_policy);
    if !state.sessions.create(&session).await? {
        return Err(Error::InvalidCredentials);
    }
    tracing::info!(%user_id, session_id = %session.id, "session begun");
    pair(state, &session, now)
}

/// The tokens of `session`'s current generation.
fn pair(state: &AppState, session: &Session, now: DateTime<Utc>) -> Result<TokenPair, Error> {
    Ok(TokenPair {
        user_id: session.user_id,
        session_id: session.id,
        access: state.tokens.issue(session.user_id, session.id)?,
        refresh: state.refresh_key.sign(&session.current_token()),
        refresh_expires_in: (session.idle_expires_at - now).to_std().unwrap_or_default(),
    })
}

/// Opens a refresh token: one this deployment signed, or [`Error::Unauthenticated`].
fn open(state: &AppState, refresh_token: &SecretString) -> Result<RefreshToken, Error> {
    state
        .refresh_key
        .open(refresh_token.expose_secret())
        .map_err(|_| Error::Unauthenticated("The refresh token is invalid"))
}

/// Tries of a refresh whose session another refresh moved on at the same moment.
const REFRESH_TRIES: u32 = 3;

/// Exchanges the session's current refresh token for the next one and a new access token: one read and one
/// conditional write, no password work.
///
/// A token one generation old, replaced inside the grace window, is a second tab that refreshed at the same moment:
/// it gets the current tokens, and nothing is written. Any other old token is reuse (someone holds a copy), and the
/// session ends for every holder.
pub async fn refresh(state: &AppState, refresh_token: &SecretString) -> Result<TokenPair, Error> {
    let token = open(state, refresh_token)?;
    for _ in 0..REFRESH_TRIES {
        let now = state.clock.now();
        let session = match state.sessions.session(token.session_id).await? {
            Some(session) if session.user_id == token.user_id => session,
            _ => return Err(Error::SessionEnded(SESSION_ENDED)),
        };
        if !session.is_live(now) {
            // Tidying up: the answer is the same whether or not it works, and pruning or TTL removes it otherwise.
            if let Err(error) = state.sessions.end(session.user_id, session.id).await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "could not remove an expired session"
                );
            }
            return Err(Error::SessionEnded(SESSION_EXPIRED));
        }
        if token.generation == session.generation {
            let idle_expires_at = session.idle_expiry_after(now, &state.session_policy);
            if state
                .sessions
                .rotate(session.id, session.generation, now, idle_expires_at)
                .await?
            {
                let rotated = Session {
                    generation: session.generation + 1,
                    refreshed_at: now,
                    idle_expires_at,
                    ..session
                };
                return pair(state, &rotated, now);
            }
            // Another refresh of the same token won: look again, and this one is inside its grace window.
            continue;
        }
        if token.generation + 1 == session.generation
            && state.session_policy.in_grace(session.refreshed_at, now)
        {
            return pair(state, &session, now);
        }
        if token.generation > session.generation {
            // Signed with our key for a generation never issued: not a token this deployment handed out.
            return Err(Error::Unauthenticated("The refresh token is invalid"));
        }
        state.sessions.end(session.user_id, session.id).await?;
        tracing::warn!(
            user_id = %session.user_id,
            session_id = %session.id,
            "refresh token reused; session ended"
        );
        return Err(Error::RefreshTokenReused(session.user_id));
    }
    Err(Error::Unavailable(anyhow::anyhow!(
        "the session kept changing over {REFRESH_TRIES} refreshes"
    )))
}

/// What proves a logout's right to end sessions: a token this deployment signed for the session. Either kind
/// names its user and session, so a logout needs no read before it ends them, and works the same when the session
/// has already ended.
pub enum LogOut {
    /// A refresh token of the session, of any generation: ending a session never harms its owner.
    RefreshToken(SecretString),
    /// An unexpired access token issued in the session.
    AccessToken(SecretString),
}

/// Ends the session, or every session of its user, and answers the user. Ending what has already ended succeeds: a
/// logout can be retried.
pub async fn log_out(state: &AppState, logout: LogOut, scope: Scope) -> Result<Uuid, Error> {
    let (user_id, session_id) = match logout {
        LogOut::RefreshToken(text) => {
            let token = open(state, &text)?;
            (token.user_id, token.session_id)
        }
        LogOut::AccessToken(text) => {
            let claims = state
                .tokens
                .verify(text.expose_secret())
                .map_err(super::authenticate::refused)?;
            (claims.sub, claims.sid)
        }
    };
    match scope {
        Scope::Session => {
            state.sessions.end(user_id, session_id).await?;
            tracing::info!(%user_id, %session_id, "logged out");
        }
        Scope::Global => {
            let ended = state.sessions.end_all(user_id).await?;
            tracing::info!(%user_id, ended, "logged out everywhere");
        }
    }
    Ok(user_id)
}
