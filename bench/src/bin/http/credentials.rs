//! The credentials the routes that spend one (refresh, logout, password change, delete) take per request, made
//! before their run in-process, through the application's own state (`vimcar::AppState`): users stored as the seeding
//! stores them, with one Argon2 hash of the benchmark's password shared by all, and sessions begun and their tokens
//! issued as a login does, without a login's Argon2 verification per session.

use std::io::Write;
use std::path::Path;

use secrecy::ExposeSecret;
use vimcar::AppState;
use vimcar::config::Config;
use vimcar::sessions::Session;
use vimcar::storage::Storage;
use vimcar::users::{Password, User};

use crate::Result;
use crate::seed::Store;

/// Sessions per user for logout and refresh (a user may hold 25: `MAX_SESSIONS_PER_USER`).
const SESSIONS_PER_USER: usize = 20;

/// Tries of each session's creation: moto now and then stalls past the SDK's timeouts, and a transaction that landed
/// before its answer was lost fails its retry's conditions (moto ignores the idempotency token).
const ATTEMPTS: u32 = 3;

/// Which token of each session a file holds.
#[derive(Clone, Copy)]
pub enum Token {
    Access,
    Refresh,
}

/// The application's state over the store the functions use, configured as they are.
pub struct Issuer {
    state: AppState,
}

impl Issuer {
    pub fn open(store: &Store, env: &[(String, String)]) -> Result<Self> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let config = Config::from_lookup(lookup)?;
        let state = store.runtime().block_on(async {
            let storage = Storage::open(&config.storage)
                .await
                .map_err(|e| e.to_string())?;
            AppState::with_storage(&config, storage).map_err(|e| e.to_string())
        })?;
        Ok(Self { state })
    }

    /// Writes `sessions` sessions' tokens of kind `token` to `file`, one a line: `per_user` sessions for each of
    /// users named `PREFIX-N`, stored first with `password`.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        store: &Store,
        file: &Path,
        prefix: &str,
        sessions: usize,
        per_user: usize,
        password: &str,
        token: Token,
    ) -> Result<()> {
        let per_user = per_user.clamp(1, SESSIONS_PER_USER);
        let users = sessions.div_ceil(per_user);
        let state = &self.state;
        let hash = store.runtime().block_on(async {
            state
                .hasher
                .hash(&Password::parse(password, &[])?)
                .await
                .map_err(|e| e.to_string())
        })?;
        let users: Vec<User> = store.seed_with(users, prefix, Some(&hash))?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
        store.runtime().block_on(async {
            let mut written = 0;
            'users: for user in &users {
                for _ in 0..per_user {
                    if written == sessions {
                        break 'users;
                    }
                    let session = begin_session(state, user).await?;
                    let secret = match token {
                        Token::Access => state.tokens.issue(user.id, session.id)?.token,
                        Token::Refresh => state.refresh_key.sign(&session.current_token()),
                    };
                    writeln!(out, "{}", secret.expose_secret())?;
                    written += 1;
                }
            }
            Result::Ok(())
        })?;
        out.flush()?;
        Ok(())
    }
}

/// Begins a session for `user` (stored just before), a fresh one per try: one whose creation failed may still have
/// landed, and is then left behind, unused (a user holds 20 of the 25 it may have).
async fn begin_session(state: &AppState, user: &User) -> Result<Session> {
    let mut attempt = 1;
    loop {
        let session = Session::begin(user.id, state.clock.now(), &state.session_policy);
        let failure = match state.sessions.create(&session).await {
            Ok(true) => return Ok(session),
            Ok(false) => "the user is missing or its sessions kept changing".to_owned(),
            Err(error) => error.to_string(),
        };
        if attempt == ATTEMPTS {
            return Err(format!(
                "no session for {} after {ATTEMPTS} tries: {failure}",
                user.id
            )
            .into());
        }
        attempt += 1;
    }
}
