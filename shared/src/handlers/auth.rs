use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::Verification;
use crate::auth::throttle::{Admission, Source};
use crate::error::ApiError;
use crate::http::{json_body, json_response, require_method, source_ip};
use crate::state::AppState;
use crate::users::{Credentials, FieldError, Password, PasswordHash, Username};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthBody {
    username: Option<String>,
    password: Option<SecretString>,
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
}

/// Stores a hash with the current parameters after a login proved the password, only if the stored hash is still
/// the one it proved (an administrator may have set a new password in between). A failure here costs the user
/// nothing: the login still succeeds, and the next one tries again.
async fn rehash(
    state: &AppState,
    username: &Username,
    proved: &PasswordHash,
    password: SecretString,
) {
    let result = async {
        let hash = state.hasher.hash(&Password::trusted(password)).await?;
        anyhow::Ok(
            state
                .users
                .replace_password_hash(username, proved, &hash)
                .await?,
        )
    }
    .await;
    match result {
        Ok(true) => tracing::info!("password hash upgraded to the current parameters"),
        Ok(false) => tracing::info!("password hash not upgraded: it changed since it was verified"),
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "could not upgrade a password hash"
        ),
    }
}

pub(super) async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let body: AuthBody = json_body(&request)?;
    let (username, password) = match (body.username, body.password) {
        (Some(username), Some(password)) => (username, password),
        (username, password) => {
            let missing = [
                ("username", username.is_none()),
                ("password", password.is_none()),
            ];
            return Err(ApiError::Validation(
                missing
                    .into_iter()
                    .filter(|(_, missing)| *missing)
                    .map(|(field, _)| FieldError::new(field, "is required"))
                    .collect(),
            ));
        }
    };
    // The attempt is counted before any Argon2 work, for unknown names exactly as for real users, and the count
    // decides whether it may go on (see `throttle`): concurrent guesses cannot all slip through.
    let source = Source::parse(source_ip(&request).as_deref());
    let keys = state.throttle.keys(&username, source);
    let now = state.clock.now();
    if let Admission::Refused(seconds) = state.throttle.admit(&*state.users, &keys, now).await? {
        return Err(ApiError::TooManyAttempts(seconds));
    }
    // A username that could never have registered has no credentials; it still costs a full verification.
    let username = Username::parse(&username).ok();
    let credentials = match &username {
        Some(username) => state.users.credentials(username).await?,
        None => None,
    };
    let hash = credentials.as_ref().and_then(|c| c.hash.as_ref());
    let verification = state.hasher.verify(password.clone(), hash).await?;
    let (user_id, hash, username) = match (verification, credentials, username) {
        (
            Verification::Match,
            Some(Credentials {
                user_id,
                hash: Some(hash),
            }),
            Some(username),
        ) => (user_id, hash, username),
        // The attempt was counted already.
        _ => return Err(ApiError::InvalidCredentials),
    };
    if let Err(error) = state.throttle.succeeded(&*state.users, &keys).await {
        // The login stands; the leftover count expires on its own.
        tracing::warn!(
            error = format!("{error:#}"),
            "could not reset the login attempts"
        );
    }
    if state.hasher.needs_rehash(&hash) {
        rehash(state, &username, &hash, password).await;
    }
    let token = state.tokens.issue(user_id)?;
    tracing::info!(%user_id, "token issued");
    json_response(
        StatusCode::OK,
        &TokenResponse {
            access_token: token.token.expose_secret(),
            token_type: "JWT",
            expires_in: token.expires_in.as_secs(),
        },
    )
}
