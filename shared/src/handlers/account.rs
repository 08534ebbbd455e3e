use http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use super::views::UserView;
use super::{caller, record_refused_proof, tokens_response};
use crate::accounts::{self, PasswordChange, Sight};
use crate::error::{ApiError, NO_SUCH_USER};
use crate::events::{Event, Kind, Origin};
use crate::login_attempts::throttle::Source;
use crate::request::{json_body, require_method, source_ip};
use crate::response::{empty_response, json_response};
use crate::state::AppState;
use crate::users::Invalid;

pub(super) async fn me(state: &AppState, request: Request) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::GET)?;
    let caller = caller(state, &request).await?;
    Ok(json_response(
        StatusCode::OK,
        &UserView::new(&caller.user, caller.is_admin, Sight::Full),
    )?)
}

pub(super) async fn user(state: &AppState, request: Request) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::GET)?;
    let caller = caller(state, &request).await?;
    // A malformed id names no user: the same 404 as an unknown one.
    let id = request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("id"))
        .and_then(|raw| Uuid::try_parse(raw).ok())
        .ok_or(ApiError::NotFound(NO_SUCH_USER))?;
    let (account, sight) = accounts::look_up(state, &caller, id).await?;
    Ok(json_response(
        StatusCode::OK,
        &UserView::new(&account.user, account.is_admin, sight),
    )?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChangeBody {
    current_password: Option<SecretString>,
    new_password: Option<SecretString>,
}

pub(super) async fn change_password(
    state: &AppState,
    request: Request,
    origin: Origin,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let caller = caller(state, &request).await?;
    let body: PasswordChangeBody = json_body(&request)?;
    let (current, new) = match (body.current_password, body.new_password) {
        (Some(current), Some(new)) => (current, new),
        (current, new) => {
            return Err([
                ("current_password", current.is_none()),
                ("new_password", new.is_none()),
            ]
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(field, _)| Invalid::new(field, "is required"))
            .collect::<Vec<_>>()
            .into());
        }
    };
    let change = PasswordChange {
        current,
        new,
        source: Source::parse(source_ip(&request).as_deref()),
    };
    let user_id = caller.user.id;
    let pair = accounts::change_password(state, &caller, change)
        .await
        .inspect_err(|error| record_refused_proof(state, &origin, Some(user_id), error))?;
    state
        .events
        .record(&origin, Event::new(Kind::PasswordChanged).user(user_id));
    tokens_response(&pair)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteAccountBody {
    password: Option<SecretString>,
}

pub(super) async fn delete_account(
    state: &AppState,
    request: Request,
    origin: Origin,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::DELETE)?;
    let caller = caller(state, &request).await?;
    let body: DeleteAccountBody = json_body(&request)?;
    let password = body
        .password
        .ok_or_else(|| vec![Invalid::new("password", "is required")])?;
    let source = Source::parse(source_ip(&request).as_deref());
    let user_id = caller.user.id;
    accounts::delete_account(state, &caller, &password, source)
        .await
        .inspect_err(|error| record_refused_proof(state, &origin, Some(user_id), error))?;
    state
        .events
        .record(&origin, Event::new(Kind::AccountDeleted).user(user_id));
    Ok(empty_response(StatusCode::NO_CONTENT))
}
