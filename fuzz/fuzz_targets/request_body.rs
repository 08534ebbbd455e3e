//! Arbitrary bytes as a JSON request body, through the register and auth handlers with a real application state
//! (in-memory SQLite, real hashing and throttling): whatever the body, the answer is a documented client error or a
//! success, never a 5xx, and errors are RFC 9457 problems whose `status` is the answer's.

#![no_main]

use std::sync::{Arc, LazyLock};

use lambda_http::{Body, Request, Response};
use libfuzzer_sys::fuzz_target;
use vimcar::AppState;
use vimcar::config::Config;
use vimcar::storage::sqlite::Sqlite;

struct Harness {
    runtime: tokio::runtime::Runtime,
    state: AppState,
}

/// Built once: a runtime, and the state a function builds at start-up, over an empty in-memory database.
static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let config = Config::from_lookup(|name| match name {
        "VIMCAR_SECRET" => Some("fuzz-secret-that-is-at-least-32-bytes-long".to_owned()),
        "USERS_BACKEND" => Some("sqlite".to_owned()),
        "SQLITE_PATH" => Some(":memory:".to_owned()),
        _ => None,
    })
    .expect("the fuzz configuration is valid");
    let users = Arc::new(Sqlite::in_memory().expect("in-memory SQLite opens"));
    let state = AppState::with_storage(&config, users).expect("the state builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    Harness { runtime, state }
});

/// A POST of `data` as JSON, the way lambda_http hands bodies over: text when UTF-8, bytes otherwise.
fn post(path: &str, data: &[u8]) -> Request {
    let body = match std::str::from_utf8(data) {
        Ok(text) => Body::Text(text.to_owned()),
        Err(_) => Body::Binary(data.to_vec()),
    };
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(body)
        .expect("a valid request")
}

fn check(handler: &str, allowed: &[u16], response: &Response<Body>) {
    let status = response.status().as_u16();
    assert!(allowed.contains(&status), "{handler} answered {status}");
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_ref()).expect("every answer is JSON");
    if status >= 400 {
        assert_eq!(body["status"], status, "{handler}: the problem's status");
    }
}

fuzz_target!(|data: &[u8]| {
    let harness = &*HARNESS;
    let state = &harness.state;
    let registered = harness
        .runtime
        .block_on(vimcar::handlers::register(state, post("/api/users", data)));
    check("register", &[201, 400, 409, 413, 422], &registered);
    let logged_in = harness
        .runtime
        .block_on(vimcar::handlers::log_in(state, post("/auth", data)));
    check("auth", &[200, 400, 401, 413, 422, 429], &logged_in);
});
