use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::accounts::{self, LogIn};
use crate::error::ApiError;
use crate::login_attempts::throttle::Source;
use crate::request::{json_body, require_method, source_ip};
use crate::response::json_response;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogInBody {
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
    let body: LogInBody = json_body(&request)?;
    let source = Source::parse(source_ip(&request).as_deref());
    let attempt = LogIn::parse(body.username, body.password, source)?;
    let token = accounts::log_in(state, attempt).await?;
    Ok(json_response(
        StatusCode::OK,
        &TokenResponse {
            access_token: token.token.expose_secret(),
            token_type: "JWT",
            expires_in: token.expires_in.as_secs(),
        },
    )?)
}
