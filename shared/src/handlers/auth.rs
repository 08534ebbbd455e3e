use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::Verification;
use crate::error::ApiError;
use crate::http::{json_body, json_response, require_method};
use crate::state::AppState;
use crate::users::{FieldError, Username};

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
    let credentials = match Username::parse(&username) {
        Ok(username) => state.users.credentials(&username).await?,
        Err(_) => None,
    };
    let hash = credentials.as_ref().and_then(|c| c.hash.as_ref());
    let verification = state.hasher.verify(password, hash).await?;
    let user_id = match (verification, credentials) {
        (Verification::Match, Some(credentials)) => credentials.user_id,
        _ => return Err(ApiError::InvalidCredentials),
    };
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
