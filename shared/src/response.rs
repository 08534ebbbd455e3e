//! Writing responses: JSON answers and the headers every answer carries. Problem answers are [`crate::error`]'s.

use http::StatusCode;
use http::header::{self, HeaderMap, HeaderValue};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Content type of successful JSON answers.
pub const JSON: &str = "application/json; charset=utf-8";
/// Content type of error answers (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json; charset=utf-8";

/// Headers on every answer: never cached, never sniffed.
pub fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A JSON answer with the common headers.
pub fn json_response(
    status: StatusCode,
    value: &impl Serialize,
) -> Result<Response<Body>, serde_json::Error> {
    let mut response = Response::new(Body::Text(serde_json::to_string(value)?));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    secure_headers(headers);
    Ok(response)
}

/// An answer without a body (a 204), with the common headers.
pub fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    secure_headers(response.headers_mut());
    response
}
