//! `GET /api/users`.

use std::collections::HashSet;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;
use vimcar::handlers::list_users;
use vimcar::users::User;
use vimcar_tests::requests::{field_names, get_with_token, header, json, request};
use vimcar_tests::{SECRET, TestApp, user};

use super::Users;
use vimcar::users::UserStoreExt;

async fn seed(users: &Users, count: usize) -> Vec<User> {
    let mut seeded = Vec::new();
    for i in 0..count {
        let u = user(&format!("user{i:04}"));
        users.insert(&u, None).await.unwrap();
        seeded.push(u);
    }
    seeded
}

fn next_link(response: &lambda_http::Response<lambda_http::Body>) -> Option<String> {
    let link = header(response, "link");
    if link.is_empty() {
        return None;
    }
    let target = link
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix(r#">; rel="next""#))
        .unwrap_or_else(|| panic!("not an RFC 8288 next link: {link}"));
    Some(target.to_owned())
}

async fn a_token_holder_sees_every_user_without_secrets(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let response = app.list(&token).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "link"), "");
    let body = json(&response);
    let listed = body.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["username"], "alice");
    assert_eq!(listed[0]["email"], "alice@example.com");
    let keys = field_names(&listed[0]);
    assert_eq!(keys, ["created_at", "email", "id", "username"]);
}

async fn jwt_and_bearer_schemes_work_in_any_case(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    for scheme in ["JWT", "jwt", "Bearer", "bearer", "BEARER"] {
        let value = format!("{scheme} {token}");
        let response = list_users(
            &app,
            request("GET", "/api/users", &[("authorization", &value)]),
        )
        .await;
        assert_eq!(response.status(), 200, "{scheme}");
    }
}

async fn no_token_gets_401_with_a_challenge(app: TestApp) {
    let response = list_users(&app, request("GET", "/api/users", &[])).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        header(&response, "www-authenticate"),
        r#"Bearer realm="vimcar""#
    );
    let problem = json(&response);
    assert_eq!(problem["status"], 401);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization")
    );
}

async fn invalid_and_expired_tokens_get_401(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |exp: u64| json!({"sub": uuid::Uuid::now_v7(), "sid": uuid::Uuid::now_v7(), "iat": now - 600, "nbf": now - 600, "exp": exp, "iss": "vimcar", "aud": "vimcar-api"});
    // Typed as `auth` types its tokens, so that each case fails for its own flaw.
    let typed = Header {
        typ: Some("at+jwt".into()),
        ..Header::default()
    };
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let expired = encode(&typed, &claims(now - 300), &key).unwrap();
    let foreign = encode(
        &typed,
        &claims(now + 300),
        &EncodingKey::from_secret(b"another secret, 32 bytes or more"),
    )
    .unwrap();
    let cases = [
        (
            "expired",
            format!("JWT {expired}"),
            "The token has expired.",
        ),
        (
            "other secret",
            format!("JWT {foreign}"),
            "The token is invalid.",
        ),
        (
            "garbage",
            "JWT not.a.token".to_owned(),
            "The token is invalid.",
        ),
        (
            "truncated",
            format!("JWT {}", &token[..token.len() - 3]),
            "The token is invalid.",
        ),
        (
            "basic",
            "Basic YWxpY2U6cGFzc3dvcmQ=".to_owned(),
            "The Authorization header must be `JWT <token>` or `Bearer <token>`.",
        ),
    ];
    for (name, value, detail) in cases {
        let response = list_users(
            &app,
            request("GET", "/api/users", &[("authorization", &value)]),
        )
        .await;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="vimcar""#,
            "{name}"
        );
        assert_eq!(json(&response)["detail"], detail, "{name}");
    }
}

async fn a_valid_token_of_a_deleted_user_gets_401(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    app.users
        .delete(&vimcar::users::Username::parse("alice").unwrap())
        .await
        .unwrap();
    let response = app.list(&token).await;
    assert_eq!(response.status(), 401);
}

async fn following_next_links_lists_every_user_exactly_once(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let seeded = seed(&app.users, 6).await;
    let mut target = Some("/api/users?limit=3".to_owned());
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(path) = target {
        let response = list_users(&app, get_with_token(&path, &token)).await;
        assert_eq!(response.status(), 200, "{path}");
        seen.extend(
            json(&response)
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        target = next_link(&response);
        if let Some(next) = &target {
            assert!(next.starts_with("/api/users?limit=3&cursor="), "{next}");
        }
        pages += 1;
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = std::iter::once("alice".to_owned())
        .chain(seeded.iter().map(|u| u.username.to_string()))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
}

async fn the_default_page_holds_100_users(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    seed(&app.users, 100).await;
    let response = app.list(&token).await;
    assert_eq!(json(&response).as_array().unwrap().len(), 100);
    let next = next_link(&response).expect("a 101st user remains");
    assert!(next.starts_with("/api/users?limit=100&cursor="));
    let response = list_users(&app, get_with_token(&next, &token)).await;
    assert_eq!(json(&response).as_array().unwrap().len(), 1);
    assert_eq!(next_link(&response), None);
}

async fn a_bad_limit_or_cursor_gets_400_naming_it(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("cursor=bogus", "cursor"),
        ("cursor=eyJwayI6IlVTRVIjMSJ9", "cursor"),
        ("limit=1&limit=2", "limit"),
    ];
    for (query, field) in cases {
        let response =
            list_users(&app, get_with_token(&format!("/api/users?{query}"), &token)).await;
        assert_eq!(response.status(), 400, "{query}");
        let problem = json(&response);
        assert_eq!(problem["type"], "/problems/invalid-query");
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    let response = list_users(&app, get_with_token("/api/users?limit=1000", &token)).await;
    assert_eq!(response.status(), 200);
}

async fn the_token_is_checked_before_the_query(app: TestApp) {
    let response = list_users(&app, request("GET", "/api/users?limit=0", &[])).await;
    assert_eq!(response.status(), 401);
}

async fn another_method_gets_405(app: TestApp) {
    let response = list_users(&app, request("DELETE", "/api/users", &[])).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "GET");
}

for_each_backend!(
    a_token_holder_sees_every_user_without_secrets,
    jwt_and_bearer_schemes_work_in_any_case,
    no_token_gets_401_with_a_challenge,
    invalid_and_expired_tokens_get_401,
    a_valid_token_of_a_deleted_user_gets_401,
    following_next_links_lists_every_user_exactly_once,
    the_default_page_holds_100_users,
    a_bad_limit_or_cursor_gets_400_naming_it,
    the_token_is_checked_before_the_query,
    another_method_gets_405,
);
// The same behaviour with ES256 tokens (tests/api/keys.rs has the whole flow and the keys themselves).
for_each_backend!(es256:
    a_token_holder_sees_every_user_without_secrets,
    jwt_and_bearer_schemes_work_in_any_case,
    no_token_gets_401_with_a_challenge,
    a_valid_token_of_a_deleted_user_gets_401,
    following_next_links_lists_every_user_exactly_once,
    the_token_is_checked_before_the_query,
);
