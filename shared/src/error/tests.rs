//! Unit tests of `error`.

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
        ApiError::from(StoreError::Conflict(vec![UniqueField::Username])).status(),
        409
    );
    assert_eq!(
        ApiError::from(StoreError::Unavailable(anyhow!("slow"))).status(),
        503
    );
    assert_eq!(
        ApiError::from(StoreError::Internal(anyhow!("bug"))).status(),
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
