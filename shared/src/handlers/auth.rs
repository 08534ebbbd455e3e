use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use chrono::Utc;

use crate::auth::{Verification, throttle};
use crate::error::ApiError;
use crate::http::{json_body, json_response, require_method};
use crate::state::AppState;
use crate::users::{Credentials, FieldError, LoginAccount, Password, Username};

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

/// Stores a hash with the current parameters after a login proved the password. A failure here costs the user
/// nothing: the login still succeeds, and the next one tries again.
async fn rehash(state: &AppState, username: &Username, password: SecretString) {
    let result = async {
        let hash = state.hasher.hash(&Password::trusted(password)).await?;
        state.users.set_password(username, &hash).await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => tracing::info!("password hash upgraded to the current parameters"),
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
    // A username that could never have registered has no credentials; it still costs a full verification below.
    // Throttling counts failures per name as typed, for unknown names exactly as for real users, and refuses a
    // locked account before any Argon2 work.
    let account = LoginAccount::from_raw(&username);
    let now = Utc::now();
    let failures = state.users.login_failures(&account, now).await?;
    if let Some(seconds) = throttle::retry_after(&failures, now) {
        return Err(ApiError::TooManyAttempts(seconds));
    }
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
        _ => {
            state.users.record_login_failure(&account, now).await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    if failures.count > 0 {
        state.users.clear_login_failures(&account).await?;
    }
    if state.hasher.needs_rehash(&hash) {
        rehash(state, &username, password).await;
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
