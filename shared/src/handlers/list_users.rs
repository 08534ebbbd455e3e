use http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};

use super::caller;
use super::views::UserView;
use crate::accounts::{self, Sight};
use crate::error::{ApiError, FieldError};
use crate::request::require_method;
use crate::response::json_response;
use crate::state::AppState;
use crate::users::{Cursor, PageSize};

pub(super) async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::GET)?;
    let caller = caller(state, &request).await?;
    let (size, after) = page_query(&request)?;
    let (page, sight) = accounts::list_users(state, &caller, after, size).await?;
    // The caller's own entry always with its email; the admin flag is never listed (it is not in the listing index).
    let users: Vec<UserView> = page
        .users
        .iter()
        .map(|user| {
            let sight = if user.id == caller.user.id {
                Sight::WithEmail
            } else {
                sight
            };
            UserView::new(user, false, sight)
        })
        .collect();
    let mut response = json_response(StatusCode::OK, &users)?;
    if let Some(next) = page.next {
        let link = format!(
            "</api/users?limit={}&cursor={}>; rel=\"next\"",
            size.get(),
            next.encode()
        );
        let link = link
            .parse()
            .map_err(|e: http::header::InvalidHeaderValue| ApiError::Internal(e.into()))?;
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// Reads `limit` and `cursor`, reporting every bad parameter at once.
fn page_query(request: &Request) -> Result<(PageSize, Option<Cursor>), ApiError> {
    let query = request.query_string_parameters();
    let mut errors = Vec::new();
    let mut single = |name: &'static str| match query.all(name).unwrap_or_default().as_slice() {
        [] => None,
        [value] => Some(value.to_string()),
        _ => {
            errors.push(FieldError::new(name, "must be given at most once"));
            None
        }
    };
    let limit = single("limit");
    let cursor = single("cursor");
    let size = match limit.map(|raw| PageSize::parse(&raw)) {
        None => PageSize::default(),
        Some(Ok(size)) => size,
        Some(Err(message)) => {
            errors.push(FieldError::new("limit", message));
            PageSize::default()
        }
    };
    let after = match cursor.map(|raw| Cursor::decode(&raw)) {
        None => None,
        Some(Ok(cursor)) => Some(cursor),
        Some(Err(message)) => {
            errors.push(FieldError::new("cursor", message));
            None
        }
    };
    if errors.is_empty() {
        Ok((size, after))
    } else {
        Err(ApiError::InvalidQuery(errors))
    }
}
