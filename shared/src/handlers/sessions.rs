use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::tokens_response;
use crate::accounts::Error;
use crate::accounts::{self, LogOut, Scope};
use crate::error::ApiError;
use crate::events::{Event, Kind, Origin};
use crate::request::{bearer_token, json_body, require_method};
use crate::response::empty_response;
use crate::state::AppState;
use crate::users::Invalid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: Option<SecretString>,
}

pub(super) async fn refresh(
    state: &AppState,
    request: Request,
    origin: Origin,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let body: RefreshBody = json_body(&request)?;
    let refresh_token = body
        .refresh_token
        .ok_or_else(|| vec![Invalid::new("refresh_token", "is required")])?;
    let pair = accounts::refresh(state, &refresh_token)
        .await
        .inspect_err(|error| {
            if let Error::RefreshTokenReused(user_id) = error {
                state.events.record(
                    &origin,
                    Event::new(Kind::SessionReuseDetected).user(*user_id),
                );
            }
        })?;
    state.events.record(
        &origin,
        Event::new(Kind::SessionRefreshed).user(pair.user_id),
    );
    tokens_response(&pair)
}

const NO_TOKEN: &str = "Send the session's refresh_token, or its access token in Authorization";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogOutBody {
    /// `Some(None)` is an explicit `null`: refused, not taken for "no refresh token, use `Authorization`".
    #[serde(default, deserialize_with = "present")]
    refresh_token: Option<Option<SecretString>>,
    #[serde(default)]
    scope: ScopeField,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ScopeField {
    #[default]
    Local,
    Global,
}

pub(super) async fn log_out(
    state: &AppState,
    request: Request,
    origin: Origin,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let has_token = request.headers().contains_key(http::header::AUTHORIZATION);
    // With an access token the body may be left out: `Authorization` says whose session it is. Without either,
    // the answer says what to send rather than what content type an absent body lacks.
    let body: LogOutBody = match (is_empty(request.body()), has_token) {
        (true, true) => LogOutBody::default(),
        (true, false) => return Err(ApiError::Unauthorized(NO_TOKEN)),
        (false, _) => json_body(&request)?,
    };
    let scope = match body.scope {
        ScopeField::Local => Scope::Session,
        ScopeField::Global => Scope::Global,
    };
    let logout = match body.refresh_token {
        Some(Some(refresh_token)) => LogOut::RefreshToken(refresh_token),
        Some(None) => return Err(vec![Invalid::new("refresh_token", "must be a string")].into()),
        None if has_token => LogOut::AccessToken(SecretString::from(
            bearer_token(request.headers())?.to_owned(),
        )),
        None => {
            return Err(ApiError::Unauthorized(NO_TOKEN));
        }
    };
    let user_id = accounts::log_out(state, logout, scope).await?;
    let scope = match scope {
        Scope::Session => "session",
        Scope::Global => "global",
    };
    state.events.record(
        &origin,
        Event::new(Kind::SessionLoggedOut)
            .user(user_id)
            .with("scope", scope),
    );
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// A field that is there, even as `null`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::deserialize(deserializer).map(Some)
}

fn is_empty(body: &Body) -> bool {
    match body {
        Body::Empty => true,
        Body::Text(text) => text.is_empty(),
        Body::Binary(bytes) => bytes.is_empty(),
        _ => true,
    }
}
