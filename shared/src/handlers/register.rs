use http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::{json_body, json_response, require_method};
use crate::state::AppState;
use crate::users::{NewUser, PasswordRule, User};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

pub(super) async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let body: RegisterBody = json_body(&request)?;
    let new_user = NewUser::parse(
        body.username.as_deref(),
        body.email.as_deref(),
        body.password.as_deref(),
        PasswordRule::Required,
    )
    .map_err(ApiError::Validation)?;
    let hash = match &new_user.password {
        Some(password) => Some(state.hasher.hash(password).await?),
        None => None,
    };
    let user = User::new(new_user.username, new_user.email);
    state.users.insert(&user, hash.as_ref()).await?;
    tracing::info!(user_id = %user.id, "user registered");
    let mut response = json_response(StatusCode::CREATED, &user)?;
    let location = format!("/api/users/{}", user.id)
        .parse()
        .map_err(|e: http::header::InvalidHeaderValue| ApiError::Internal(e.into()))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}
