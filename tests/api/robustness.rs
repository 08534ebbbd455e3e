//! Whatever a client sends, the answer is a 4xx problem, never a 5xx.

use lambda_http::{Body, Request};
use serde_json::json;
use vimcar::handlers::{list_users, log_in, register};
use vimcar_tests::requests::{header, json, post_raw, request};
use vimcar_tests::{STRONG_PASSWORD, TestApp};

fn binary(path: &str, bytes: &[u8]) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::Binary(bytes.to_vec()))
        .unwrap()
}

fn odd_bodies() -> Vec<Request> {
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let texts = [
        nested,
        r#"{"username": "\u0000\u0000\u0000", "password": "x", "email": "a@b.c"}"#.to_owned(),
        json!({"username": "🦀🦀🦀", "password": STRONG_PASSWORD, "email": "crab@example.com"})
            .to_string(),
        json!({"username": "alice", "password": STRONG_PASSWORD, "email": "a@\u{202e}moc.elpmaxe"})
            .to_string(),
        json!({"username": "alice", "password": "\u{0}".repeat(20), "email": "alice@example.com"})
            .to_string(),
        r#"{"username": "alice", "password": 1e400, "email": "alice@example.com"}"#.to_owned(),
        r#"{"username": "alice", "password": 123456789012345678901234567890, "email": "a@b.c"}"#
            .to_owned(),
        r#"{"username": "alice", "username": "bob", "password": "x", "email": "a@b.c"}"#.to_owned(),
        r#"{"username": "\ud800", "password": "x", "email": "a@b.c"}"#.to_owned(),
        "x".repeat(16 * 1024),
        "{}".to_owned(),
        "true".to_owned(),
    ];
    let mut requests: Vec<Request> = texts
        .iter()
        .map(|text| post_raw("/api/users", Some("application/json"), text.clone()))
        .collect();
    requests.push(binary("/api/users", &[0xff, 0xfe, b'{', b'}']));
    requests
}

async fn no_body_makes_any_function_fail_on_our_side(app: TestApp) {
    for request in odd_bodies() {
        let (parts, body) = request.into_parts();
        for handler in ["register", "auth"] {
            let request = Request::from_parts(parts.clone(), body.clone());
            let response = match handler {
                "register" => register(&app, request).await,
                _ => log_in(&app, request).await,
            };
            let status = response.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{handler}: {status} for {body:?}"
            );
            assert!(header(&response, "content-type").starts_with("application/problem+json"));
            assert_eq!(json(&response)["status"], status);
        }
    }
}

async fn no_header_or_query_makes_listing_fail_on_our_side(app: TestApp) {
    let cases: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            "/api/users".into(),
            vec![("authorization", "JWT ".to_owned() + &"a".repeat(10_000))],
        ),
        (
            "/api/users".into(),
            vec![("authorization", "JWT a.b.c.d.e".into())],
        ),
        (
            "/api/users".into(),
            vec![("authorization", "JWT eyJhbGciOiJub25lIn0.e30.".into())],
        ),
        (
            "/api/users".into(),
            vec![("authorization", "Bearer\ttab.separated.token".into())],
        ),
        ("/api/users?limit=99999999999999999999".into(), vec![]),
        ("/api/users?cursor=%F0%9F%A6%80".into(), vec![]),
    ];
    for (path, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = list_users(&app, request("GET", &path, &headers)).await;
        let status = response.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{status} for {path} {headers:?}"
        );
    }
}

for_each_backend!(
    no_body_makes_any_function_fail_on_our_side,
    no_header_or_query_makes_listing_fail_on_our_side,
);
