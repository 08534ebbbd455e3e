use http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::accounts;
use crate::error::ApiError;
use crate::events::{Event, Kind, Origin};
use crate::request::{json_body, require_method};
use crate::response::json_response;
use crate::state::AppState;
use crate::users::{NewUser, PasswordRule};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

pub(super) async fn handle(
    state: &AppState,
    request: Request,
    origin: Origin,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let body: RegisterBody = json_body(&request)?;
    let new_user = NewUser::parse(
        body.username.as_deref(),
        body.email.as_deref(),
        body.password.as_deref(),
        PasswordRule::Required,
    )?;
    let user = accounts::register(&*state.users, &state.hasher, new_user).await?;
    state
        .events
        .record(&origin, Event::new(Kind::UserRegistered).user(user.id));
    let mut response = json_response(StatusCode::CREATED, &user)?;
    let location = format!("/api/users/{}", user.id)
        .parse()
        .map_err(|e: http::header::InvalidHeaderValue| ApiError::Internal(e.into()))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}
