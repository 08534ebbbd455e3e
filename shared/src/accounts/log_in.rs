//! Logging in: a username and password, throttled, for a new session's tokens.

use secrecy::{ExposeSecret, SecretString};

use super::Error;
use super::TokenPair;
use uuid::Uuid;

use crate::login_attempts::throttle::{Admission, AttemptKeys, Source};
use crate::passwords::Verification;
use crate::state::AppState;
use crate::users::{Credentials, HashScheme, Invalid, Password, PasswordHash, Username};

/// A log-in attempt as the client sent it. The username is kept raw: a name that could never have registered is
/// still throttled and still costs a full verification.
pub struct LogIn {
    pub username: String,
    pub password: SecretString,
    /// Where the attempt comes from, for throttling.
    pub source: Source,
}

impl LogIn {
    /// The attempt, if both fields are there; otherwise every missing one.
    pub fn parse(
        username: Option<String>,
        password: Option<SecretString>,
        source: Source,
    ) -> Result<Self, Vec<Invalid>> {
        match (username, password) {
            (Some(username), Some(password)) => Ok(Self {
                username,
                password,
                source,
            }),
            (username, password) => Err([
                ("username", username.is_none()),
                ("password", password.is_none()),
            ]
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(field, _)| Invalid::new(field, "is required"))
            .collect()),
        }
    }
}

/// A password proved against its user's stored hash, and the throttle counters the attempt was counted under.
pub(super) struct Proved {
    pub user_id: Uuid,
    pub username: Username,
    pub hash: PasswordHash,
    pub password_change_required: bool,
    pub keys: AttemptKeys,
}

/// Checks `password` against `raw_username`'s stored hash, throttled: the attempt is counted before any Argon2 work,
/// for unknown names exactly as for real users, and the count decides whether it may go on (see
/// [`crate::login_attempts::throttle`]), so concurrent guesses cannot all slip through. A success takes the
/// attempt back. `POST /auth`, a password change and an account's deletion all prove a password this way, under the
/// same counters.
pub(super) async fn prove(
    state: &AppState,
    raw_username: &str,
    password: &SecretString,
    source: Source,
) -> Result<Proved, Error> {
    let keys = state.throttle.keys(raw_username, source);
    let now = state.clock.now();
    if let Admission::Refused(seconds) = state.throttle.admit(&*state.attempts, &keys, now).await? {
        return Err(Error::Throttled(seconds));
    }
    // A username that could never have registered has no credentials; it still costs a full verification.
    let username = Username::parse(raw_username).ok();
    let credentials = match &username {
        Some(username) => state.users.credentials(username).await?,
        None => None,
    };
    let hash = credentials.as_ref().and_then(|c| c.hash.as_ref());
    let verification = state.hasher.verify(password.clone(), hash).await?;
    let (user_id, hash, password_change_required, username) =
        match (verification, credentials, username) {
            (
                Verification::Match,
                Some(Credentials {
                    user_id,
                    hash: Some(hash),
                    password_change_required,
                }),
                Some(username),
            ) => (user_id, hash, password_change_required, username),
            // The attempt was counted already.
            _ => return Err(Error::InvalidCredentials),
        };
    if let Err(error) = state.throttle.succeeded(&*state.attempts, &keys).await {
        // The password stands; the leftover count expires on its own.
        tracing::warn!(
            error = format!("{error:#}"),
            "could not reset the login attempts"
        );
    }
    Ok(Proved {
        user_id,
        username,
        hash,
        password_change_required,
        keys,
    })
}

/// A login's answer: the new session's tokens, and whether the password must be changed.
#[derive(Debug)]
pub struct LoggedIn {
    pub tokens: TokenPair,
    /// The password works but fails today's rules (an imported one): the client should ask for a new one.
    pub password_change_required: bool,
}

/// Checks the password (see [`prove`]), begins a session and answers its first tokens. A hash of an older kind
/// (bcrypt, for a user imported from the Flask original; older Argon2 parameters) is replaced by a current one; a
/// bcrypt password, seen in the clear for the first time, is checked against today's rules, and if they refuse it
/// the login still succeeds but says, now and at every login until it changes, that it must change.
pub async fn log_in(state: &AppState, attempt: LogIn) -> Result<LoggedIn, Error> {
    let LogIn {
        username,
        password,
        source,
    } = attempt;
    let Proved {
        user_id,
        username,
        hash,
        mut password_change_required,
        ..
    } = prove(state, &username, &password, source).await?;
    let hash = if state.hasher.needs_rehash(&hash) {
        if matches!(hash.scheme(), HashScheme::Bcrypt { .. }) {
            password_change_required = fails_todays_rules(state, user_id, &username, &password)
                .await
                .unwrap_or(password_change_required);
        }
        rehash(state, &username, &hash, password, password_change_required)
            .await
            .unwrap_or(hash)
    } else {
        hash
    };
    let pair = super::sessions::begin(state, user_id).await?;
    // A password set while this one was being checked (a change, or an operator's reset: both end every session
    // after writing the new hash) must not leave behind a session begun with the old one. So the session is begun
    // first and the hash read again after: either this read sees the new hash, or the reset's ending of sessions
    // comes after this session exists, and ends it.
    let still = state.users.credentials(&username).await?;
    if still.and_then(|c| c.hash).as_ref() != Some(&hash) {
        state.sessions.end(user_id, pair.session_id).await?;
        tracing::info!(%user_id, "login lost a race with a password change");
        return Err(Error::InvalidCredentials);
    }
    Ok(LoggedIn {
        tokens: pair,
        password_change_required,
    })
}

/// Whether today's password rules (length, and strength with the username and email as hints) refuse `password`, or `None` when
/// the user's email cannot be read (then the stored answer stands).
async fn fails_todays_rules(
    state: &AppState,
    user_id: Uuid,
    username: &Username,
    password: &SecretString,
) -> Option<bool> {
    let user = match state.users.by_id(user_id).await {
        Ok(user) => user?,
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not read the user to check an imported password"
            );
            return None;
        }
    };
    let raw = password.expose_secret();
    Some(Password::parse_for(raw, Some(username.as_str()), Some(user.email.as_str())).is_err())
}

/// Stores a hash with the current parameters after a login proved the password, only if the stored hash is still
/// the one it proved (an administrator may have set a new password in between), and answers it if it stored it. A
/// failure here costs the user nothing: the login still succeeds, and the next one tries again.
async fn rehash(
    state: &AppState,
    username: &Username,
    proved: &PasswordHash,
    password: SecretString,
    change_required: bool,
) -> Option<PasswordHash> {
    let result = async {
        let hash = state.hasher.hash(&Password::trusted(password)).await?;
        let replaced = state
            .users
            .replace_password_hash(username, proved, &hash, change_required)
            .await?;
        anyhow::Ok(replaced.then_some(hash))
    }
    .await;
    match result {
        Ok(Some(hash)) => {
            tracing::info!("password hash upgraded to the current parameters");
            Some(hash)
        }
        Ok(None) => {
            tracing::info!("password hash not upgraded: it changed since it was verified");
            None
        }
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not upgrade a password hash"
            );
            None
        }
    }
}
