//! One handler per Lambda function: parse the request, call one use case in [`crate::accounts`], answer.
//!
//! Each public function here always answers with a response: a Lambda `Err` would reach the client as a bodiless
//! 502, so every error becomes a problem response in [`crate::error`].

mod account;
mod jwks;
mod list_users;
mod log_in;
mod register;
mod sessions;
mod views;

use std::future::Future;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::{self, Caller, TokenPair};
use crate::error::ApiError;
use crate::events::{Event, Kind, Origin};
use crate::request::{bearer_token, request_id, source_ip};
use crate::response::json_response;
use crate::state::AppState;

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens.
pub async fn jwks(state: &AppState, request: Request) -> Response<Body> {
    respond("jwks", request, |request, _| jwks::jwks(state, request)).await
}

/// `GET /.well-known/openid-configuration`: the issuer and the JWKS's address.
pub async fn discovery(state: &AppState, request: Request) -> Response<Body> {
    respond("jwks", request, |request, _| {
        jwks::discovery(state, request)
    })
    .await
}

/// `POST /api/users`: registers a user.
pub async fn register(state: &AppState, request: Request) -> Response<Body> {
    respond("register", request, |request, origin| {
        register::handle(state, request, origin)
    })
    .await
}

/// `POST /auth`: exchanges a username and password for a new session's access and refresh tokens.
pub async fn log_in(state: &AppState, request: Request) -> Response<Body> {
    respond("auth", request, |request, origin| {
        log_in::handle(state, request, origin)
    })
    .await
}

/// `POST /auth/refresh`: exchanges a session's refresh token for the next one and a new access token.
pub async fn refresh(state: &AppState, request: Request) -> Response<Body> {
    respond("refresh", request, |request, origin| {
        sessions::refresh(state, request, origin)
    })
    .await
}

/// `POST /auth/logout`: ends a session, or every session of its user.
pub async fn log_out(state: &AppState, request: Request) -> Response<Body> {
    respond("logout", request, |request, origin| {
        sessions::log_out(state, request, origin)
    })
    .await
}

/// `GET /api/users/me`: the caller's own record.
pub async fn me(state: &AppState, request: Request) -> Response<Body> {
    respond("me", request, |request, _| account::me(state, request)).await
}

/// `GET /api/users/{id}`: one user, as much of it as the listing policy lets the caller see.
pub async fn get_user(state: &AppState, request: Request) -> Response<Body> {
    respond("get-user", request, |request, _| {
        account::user(state, request)
    })
    .await
}

/// `POST /api/users/me/password`: changes the caller's password, ending every other session.
pub async fn change_password(state: &AppState, request: Request) -> Response<Body> {
    respond("change-password", request, |request, origin| {
        account::change_password(state, request, origin)
    })
    .await
}

/// `DELETE /api/users/me`: deletes the caller's account and everything stored for it.
pub async fn delete_account(state: &AppState, request: Request) -> Response<Body> {
    respond("delete-account", request, |request, origin| {
        account::delete_account(state, request, origin)
    })
    .await
}

/// `GET /api/users`: lists users, a page at a time, for a holder of a valid token.
pub async fn list_users(state: &AppState, request: Request) -> Response<Body> {
    respond("list-users", request, |request, _| {
        list_users::handle(state, request)
    })
    .await
}

/// Runs `handle` on `request` for the function named `function` (its name in the registry, `crate::routes`, which
/// `tests/api/events.rs` holds these names to), with the request's [`Origin`] for the events it records, and turns
/// its error into a problem response.
async fn respond<F, Fut>(function: &'static str, request: Request, handle: F) -> Response<Body>
where
    F: FnOnce(Request, Origin) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&request);
    let origin = Origin {
        function,
        request_id: Some(request_id.clone()),
        source_ip: source_ip(&request),
    };
    handle(request, origin)
        .await
        .unwrap_or_else(|error| error.into_response(&request_id))
}

/// Records what a failed proof of a password was, if it was one: a wrong password (or unknown user, or none) or a
/// refusal by the login throttle. `user_id` is the caller's, for the routes that prove a signed-in user's password.
fn record_refused_proof(
    state: &AppState,
    origin: &Origin,
    user_id: Option<Uuid>,
    error: &accounts::Error,
) {
    let kind = match error {
        accounts::Error::InvalidCredentials => Kind::LoginFailed,
        accounts::Error::Throttled(_) => Kind::LoginThrottled,
        _ => return,
    };
    let event = Event::new(kind);
    let event = match user_id {
        Some(user_id) => event.user(user_id),
        None => event,
    };
    state.events.record(origin, event);
}

/// The user (and session) whose access token authorises `request`.
async fn caller(state: &AppState, request: &Request) -> Result<Caller, ApiError> {
    let token = bearer_token(request.headers())?;
    Ok(accounts::authenticate(state, token).await?)
}

/// The answer of a login or a refresh: the original's `access_token` first, then what came since.
#[derive(Serialize)]
struct TokensBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: &'a str,
    refresh_expires_in: u64,
    /// Logins only: whether the password works but must be changed (an imported one that today's rules refuse).
    #[serde(skip_serializing_if = "Option::is_none")]
    password_change_required: Option<bool>,
}

fn tokens_response(pair: &TokenPair) -> Result<Response<Body>, ApiError> {
    tokens_body(pair, None)
}

fn tokens_body(
    pair: &TokenPair,
    password_change_required: Option<bool>,
) -> Result<Response<Body>, ApiError> {
    Ok(json_response(
        StatusCode::OK,
        &TokensBody {
            access_token: pair.access.token.expose_secret(),
            token_type: "JWT",
            expires_in: pair.access.expires_in.as_secs(),
            refresh_token: pair.refresh.expose_secret(),
            refresh_expires_in: pair.refresh_expires_in.as_secs(),
            password_change_required,
        },
    )?)
}
