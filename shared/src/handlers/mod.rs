//! One handler per Lambda function: parse the request, call one use case in [`crate::accounts`], answer.
//!
//! Each public function here always answers with a response: a Lambda `Err` would reach the client as a bodiless
//! 502, so every error becomes a problem response in [`crate::error`].

mod list_users;
mod log_in;
mod register;

use std::future::Future;

use lambda_http::{Body, Request, Response};

use crate::accounts;
use crate::error::ApiError;
use crate::request::{bearer_token, request_id};
use crate::state::AppState;
use crate::users::User;

/// `POST /api/users`: registers a user.
pub async fn register(state: &AppState, request: Request) -> Response<Body> {
    respond(request, |request| register::handle(state, request)).await
}

/// `POST /auth`: exchanges a username and password for an access token.
pub async fn log_in(state: &AppState, request: Request) -> Response<Body> {
    respond(request, |request| log_in::handle(state, request)).await
}

/// `GET /api/users`: lists users, a page at a time, for a holder of a valid token.
pub async fn list_users(state: &AppState, request: Request) -> Response<Body> {
    respond(request, |request| list_users::handle(state, request)).await
}

async fn respond<F, Fut>(request: Request, handle: F) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&request);
    handle(request)
        .await
        .unwrap_or_else(|error| error.into_response(&request_id))
}

/// The user whose access token authorises `request`.
async fn caller(state: &AppState, request: &Request) -> Result<User, ApiError> {
    let token = bearer_token(request.headers())?;
    Ok(accounts::authenticate(&state.tokens, &*state.users, token).await?)
}
