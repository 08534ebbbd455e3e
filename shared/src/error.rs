//! The one API error type, and the one place that turns errors into RFC 9457 problem responses.

use http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::http::{PROBLEM_JSON, secure_headers};
use crate::users::{FieldError, RepoError, UniqueField};

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
    /// A username and password that do not match. Says nothing about which part was wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("no such route")]
    NotFound,
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

impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Conflict(fields) => Self::Conflict(fields),
            RepoError::Unavailable(cause) => Self::Unavailable(cause),
            RepoError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
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
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
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
            Self::Unauthorized(reason) => format!("{reason}."),
            Self::InvalidCredentials => "The username or password is wrong.".to_owned(),
            Self::NotFound => "There is nothing at this path.".to_owned(),
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
                .map(|&field| {
                    // A username conflict may be an exact match or a look-alike (the same skeleton); which one is
                    // left unsaid, as either way the client must pick another name.
                    let message = match field {
                        UniqueField::Username => "is already taken, or looks like a name that is",
                        UniqueField::Email => "is already taken",
                    };
                    FieldError::new(field.name(), message)
                })
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
            Self::Unauthorized(_) | Self::InvalidCredentials => {
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
mod tests {
    use super::*;
    use anyhow::anyhow;

    fn body(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn each_error_maps_to_its_status() {
        let cases = [
            (ApiError::MalformedBody("x".into()), 400),
            (ApiError::InvalidQuery(vec![]), 400),
            (ApiError::Unauthorized("no token"), 401),
            (ApiError::InvalidCredentials, 401),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed(Method::POST), 405),
            (ApiError::Conflict(vec![UniqueField::Email]), 409),
            (ApiError::PayloadTooLarge { limit: 16 }, 413),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::Validation(vec![]), 422),
            (ApiError::TooManyAttempts(3), 429),
            (ApiError::Unavailable(anyhow!("down")), 503),
            (ApiError::Internal(anyhow!("bug")), 500),
        ];
        for (error, status) in cases {
            let response = error.into_response("req-1");
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            assert_eq!(body(&response)["status"], status);
        }
    }

    #[test]
    fn repository_errors_keep_their_meaning() {
        assert_eq!(
            ApiError::from(RepoError::Conflict(vec![UniqueField::Username])).status(),
            409
        );
        assert_eq!(
            ApiError::from(RepoError::Unavailable(anyhow!("slow"))).status(),
            503
        );
        assert_eq!(
            ApiError::from(RepoError::Internal(anyhow!("bug"))).status(),
            500
        );
    }

    #[test]
    fn a_server_error_shows_the_request_id_but_not_the_cause() {
        let response =
            ApiError::Internal(anyhow!("password_hash column corrupt")).into_response("req-42");
        let text = std::str::from_utf8(response.body().as_ref())
            .unwrap()
            .to_owned();
        assert!(!text.contains("corrupt"), "{text}");
        assert_eq!(body(&response)["request_id"], "req-42");
    }

    #[test]
    fn a_client_error_carries_no_request_id() {
        let response = ApiError::InvalidCredentials.into_response("req-42");
        assert!(body(&response).get("request_id").is_none());
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], CHALLENGE);
    }

    #[test]
    fn a_conflict_names_each_taken_field() {
        let response =
            ApiError::Conflict(vec![UniqueField::Username, UniqueField::Email]).into_response("r");
        let body = body(&response);
        assert_eq!(body["errors"][0]["field"], "username");
        assert_eq!(body["errors"][1]["field"], "email");
        assert_eq!(body["detail"], "The username and email are already taken.");
    }

    #[test]
    fn unavailable_tells_when_to_retry_and_405_what_is_allowed() {
        let response = ApiError::Unavailable(anyhow!("timeout")).into_response("r");
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = ApiError::MethodNotAllowed(Method::GET).into_response("r");
        assert_eq!(response.headers()[header::ALLOW], "GET");
    }
}
