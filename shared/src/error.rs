//! The one API error type, and the one place that turns errors into RFC 9457 problem responses.

use http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::accounts;
use crate::response::{PROBLEM_JSON, secure_headers};
use crate::storage::StoreError;
use crate::users::{Invalid, UniqueField};

/// The detail of a 404 for a user id: unknown and malformed ids get the same answer.
pub const NO_SUCH_USER: &str = "There is no user with this id";

/// How long a client should wait before retrying when storage is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// The challenge sent with every 401 (RFC 6750 style; the `JWT` scheme of the original is accepted too).
const CHALLENGE: &str = r#"Bearer realm="vimcar""#;

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, or a value has the wrong type.
    #[error("malformed request: {0}")]
    MalformedBody(String),
    /// A query parameter is wrong.
    #[error("invalid query parameters")]
    InvalidQuery(Vec<FieldError>),
    /// A token is missing, malformed, invalid or expired.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The token's session is over; only a new login helps.
    #[error("session ended: {0}")]
    SessionEnded(&'static str),
    /// A username and password that do not match. Says nothing about which part was wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The caller may not see or do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Nothing is at this path (an unknown or malformed user id).
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed(Method),
    #[error("conflict")]
    Conflict(Vec<UniqueField>),
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Too many consecutive failed logins for this account: retry after this many seconds.
    #[error("too many attempts")]
    TooManyAttempts(u64),
    /// Fields that break their rules.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Storage is down, slow or throttled; the client may retry.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or a broken dependency. The client learns nothing of the cause.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<accounts::Error> for ApiError {
    fn from(error: accounts::Error) -> Self {
        match error {
            accounts::Error::Taken(fields) => Self::Conflict(fields),
            accounts::Error::InvalidCredentials => Self::InvalidCredentials,
            accounts::Error::Throttled(seconds) => Self::TooManyAttempts(seconds),
            accounts::Error::Unauthenticated(reason) => Self::Unauthorized(reason),
            accounts::Error::SessionEnded(reason) => Self::SessionEnded(reason),
            accounts::Error::RefreshTokenReused(_) => {
                Self::SessionEnded(accounts::REFRESH_TOKEN_REUSED)
            }
            accounts::Error::Invalid(fields) => fields.into(),
            accounts::Error::NotFound => Self::NotFound(NO_SUCH_USER),
            accounts::Error::Forbidden(reason) => Self::Forbidden(reason),
            accounts::Error::Unavailable(cause) => Self::Unavailable(cause),
            accounts::Error::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(fields) => Self::Conflict(fields),
            StoreError::Unavailable(cause) => Self::Unavailable(cause),
            StoreError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

/// One field's problem, as it appears in a problem response's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<Invalid> for FieldError {
    fn from(invalid: Invalid) -> Self {
        Self::new(invalid.field, invalid.reason)
    }
}

impl From<Vec<Invalid>> for ApiError {
    fn from(fields: Vec<Invalid>) -> Self {
        Self::Validation(fields.into_iter().map(FieldError::from).collect())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    /// Only on 5xx, so that support can find the logs; 4xx answers stay byte-identical across requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_) | Self::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::SessionEnded(_) | Self::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type: a stable identifier clients can branch on. `about:blank` where the status says it all.
    fn kind(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "/problems/malformed-body",
            Self::InvalidQuery(_) => "/problems/invalid-query",
            Self::Unauthorized(_) => "/problems/unauthorized",
            Self::SessionEnded(_) => "/problems/session-ended",
            Self::Forbidden(_) => "/problems/forbidden",
            Self::NotFound(_) => "/problems/not-found",
            Self::InvalidCredentials => "/problems/invalid-credentials",
            Self::Conflict(_) => "/problems/conflict",
            Self::Validation(_) => "/problems/validation",
            Self::TooManyAttempts(_) => "/problems/too-many-attempts",
            _ => "about:blank",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::MalformedBody(reason) => format!("The request body could not be read: {reason}."),
            Self::InvalidQuery(_) => "A query parameter is invalid; see errors.".to_owned(),
            Self::Unauthorized(reason)
            | Self::SessionEnded(reason)
            | Self::Forbidden(reason)
            | Self::NotFound(reason) => format!("{reason}."),
            Self::InvalidCredentials => "The username or password is wrong.".to_owned(),
            Self::MethodNotAllowed(allowed) => format!("Only {allowed} is allowed here."),
            Self::Conflict(fields) => format!(
                "The {} {} already taken.",
                fields
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(" and "),
                if fields.len() > 1 { "are" } else { "is" }
            ),
            Self::PayloadTooLarge { limit } => {
                format!("The request body is larger than {limit} bytes.")
            }
            Self::UnsupportedMediaType => {
                "The request body must be JSON, sent with Content-Type: application/json."
                    .to_owned()
            }
            Self::Validation(_) => "Some fields are invalid; see errors.".to_owned(),
            Self::TooManyAttempts(seconds) => format!(
                "Too many login attempts for this account; try again in {seconds} second{}.",
                if *seconds == 1 { "" } else { "s" }
            ),
            Self::Unavailable(_) => {
                "The service is temporarily unavailable; retry shortly.".to_owned()
            }
            Self::Internal(_) => "Something went wrong on our side.".to_owned(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::InvalidQuery(errors) | Self::Validation(errors) => errors.clone(),
            Self::Conflict(fields) => fields
                .iter()
                .map(|&field| FieldError::from(field.taken()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The problem response. Server errors log their whole cause chain here, under `request_id`; the client sees
    /// only a generic message and that id.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let status = self.status();
        let server_error = status.is_server_error();
        match &self {
            Self::Internal(cause) | Self::Unavailable(cause) => {
                tracing::error!(
                    request_id,
                    status = status.as_u16(),
                    error = format!("{cause:#}"),
                    "request failed"
                );
            }
            _ => tracing::info!(
                request_id,
                status = status.as_u16(),
                problem = self.kind(),
                "client error"
            ),
        }
        let problem = Problem {
            kind: self.kind(),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            errors: self.field_errors(),
            request_id: server_error.then_some(request_id),
        };
        let body = serde_json::to_string(&problem).expect("a problem always serialises");
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, PROBLEM_JSON)
            .body(Body::Text(body))
            .expect("static headers are valid");
        let headers = response.headers_mut();
        secure_headers(headers);
        match self {
            Self::Unauthorized(_) | Self::SessionEnded(_) | Self::InvalidCredentials => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(CHALLENGE),
                );
            }
            Self::MethodNotAllowed(allowed) => {
                headers.insert(
                    header::ALLOW,
                    HeaderValue::from_str(allowed.as_str()).expect("methods are valid headers"),
                );
            }
            Self::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            Self::TooManyAttempts(seconds) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests;
