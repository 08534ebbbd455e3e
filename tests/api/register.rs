//! `POST /api/users`.

use serde_json::json;
use uuid::Uuid;
use vimcar::handlers::register;
use vimcar_tests::requests::{field_names, header, json, post_json, post_raw, request};
use vimcar_tests::{STRONG_PASSWORD, TestApp};

use super::Users;

/// What a client hears about a username that is taken, or that looks like one that is.
const TAKEN_USERNAME: &str = "is already taken, or looks like a name that is";

/// Asserts that no user was stored: a refused registration writes nothing.
async fn assert_nothing_stored(users: &Users) {
    let page = users.list(None, Default::default()).await.unwrap();
    assert!(page.users.is_empty(), "{:?}", page.users);
}

fn alice() -> serde_json::Value {
    json!({"username": "alice", "password": STRONG_PASSWORD, "email": "alice@example.com"})
}

async fn a_registration_answers_201_with_the_user_and_its_location(app: TestApp) {
    let response = app.register("alice").await;

    assert_eq!(response.status(), 201);
    assert_eq!(
        header(&response, "content-type"),
        "application/json; charset=utf-8"
    );
    let body = json(&response);
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(header(&response, "location"), format!("/api/users/{id}"));
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "alice@example.com");
    let created =
        chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now() - created.to_utc()).num_seconds().abs() < 60);
    let keys = field_names(&body);
    assert_eq!(keys, ["created_at", "email", "id", "username"]);
}

async fn no_password_or_hash_ever_appears_in_the_answer(app: TestApp) {
    let response = app.register("alice").await;
    let text = String::from_utf8_lossy(response.body().as_ref()).to_string();
    assert!(!text.contains(STRONG_PASSWORD));
    assert!(!text.contains("argon2"));
    assert!(!text.to_lowercase().contains("password"));
}

async fn the_username_is_normalised_and_unique_regardless_of_case(app: TestApp) {
    let body = json!({"username": "Jose\u{301}", "password": STRONG_PASSWORD, "email": "jose@example.com"});
    let response = register(&app, post_json("/api/users", &body)).await;
    assert_eq!(json(&response)["username"], "jos\u{e9}");

    let again =
        json!({"username": "JOS\u{c9}", "password": STRONG_PASSWORD, "email": "other@example.com"});
    let response = register(&app, post_json("/api/users", &again)).await;
    assert_eq!(response.status(), 409);
    let body = json(&response);
    assert_eq!(
        body["errors"],
        json!([{"field": "username", "message": TAKEN_USERNAME}])
    );
}

async fn a_taken_email_in_another_case_is_a_conflict_naming_the_email(app: TestApp) {
    app.register("alice").await;
    let body =
        json!({"username": "alicia", "password": STRONG_PASSWORD, "email": "ALICE@Example.com"});
    let response = register(&app, post_json("/api/users", &body)).await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json; charset=utf-8"
    );
    let problem = json(&response);
    assert_eq!(problem["status"], 409);
    assert_eq!(problem["title"], "Conflict");
    assert_eq!(
        problem["errors"],
        json!([{"field": "email", "message": "is already taken"}])
    );
}

async fn registering_the_same_user_twice_names_both_fields(app: TestApp) {
    app.register("alice").await;
    let response = app.register("alice").await;
    assert_eq!(response.status(), 409);
    let problem = json(&response);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email"]);
}

async fn every_broken_field_rule_is_reported_at_once_with_422(app: TestApp) {
    let body = json!({"username": "a b", "password": "short", "email": "not-an-email"});
    let response = register(&app, post_json("/api/users", &body)).await;
    assert_eq!(response.status(), 422);
    let problem = json(&response);
    assert_eq!(problem["type"], "/problems/validation");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email", "password"]);
    assert!(
        problem["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("at least 12")
    );
}

async fn missing_fields_are_reported_as_required(app: TestApp) {
    let response = register(&app, post_json("/api/users", &json!({"username": "alice"}))).await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        json(&response)["errors"],
        json!([{"field": "email", "message": "is required"}, {"field": "password", "message": "is required"}])
    );
}

async fn field_length_limits_hold(app: TestApp) {
    let cases = [
        (
            json!({"username": "ab", "password": STRONG_PASSWORD, "email": "ab@example.com"}),
            "username",
        ),
        (
            json!({"username": "a".repeat(33), "password": STRONG_PASSWORD, "email": "ab@example.com"}),
            "username",
        ),
        (
            json!({"username": "alice", "password": STRONG_PASSWORD, "email": format!("{}@{}.com", "a".repeat(64), "b".repeat(190))}),
            "email",
        ),
        (
            json!({"username": "alice", "password": "Tr0ub4dor&3-".repeat(11), "email": "a@example.com"}),
            "password",
        ),
    ];
    for (body, field) in cases {
        let response = register(&app, post_json("/api/users", &body)).await;
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(json(&response)["errors"][0]["field"], field, "{body}");
    }
}

async fn a_guessable_password_is_refused_and_the_answer_says_why(app: TestApp) {
    for password in ["password1234", "alicealicealice", "alice@example.com"] {
        let body = json!({"username": "alice", "password": password, "email": "alice@example.com"});
        let response = register(&app, post_json("/api/users", &body)).await;
        assert_eq!(response.status(), 422, "{password}");
        let error = &json(&response)["errors"][0];
        assert_eq!(error["field"], "password");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("is too easy to guess."),
            "{error}"
        );
    }
}

async fn a_password_of_twelve_code_points_is_long_enough(app: TestApp) {
    // 12 code points but 24 bytes: counted as 12.
    let body = json!({"username": "ivan", "password": "щёлкнулфюжяъ", "email": "ivan@example.com"});
    let response = register(&app, post_json("/api/users", &body)).await;
    assert_eq!(response.status(), 201, "{}", json(&response));
}

async fn json_that_does_not_parse_or_has_wrong_types_gets_400(app: TestApp) {
    let bodies = [
        "{\"username\": ",
        "[]",
        "\"alice\"",
        r#"{"username": 5, "password": "x", "email": "a@b.c"}"#,
        r#"{"username": "alice", "password": null, "email": ["a@b.c"]}"#,
        r#"{"username": "alice", "password": "correct horse battery staple", "email": "a@b.c", "admin": true}"#,
        "",
    ];
    for body in bodies {
        let response = register(&app, post_raw("/api/users", Some("application/json"), body)).await;
        assert_eq!(response.status(), 400, "{body}");
        let problem = json(&response);
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["type"], "/problems/malformed-body");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
}

async fn a_body_that_is_not_json_gets_415(app: TestApp) {
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = register(
            &app,
            post_raw("/api/users", content_type, alice().to_string()),
        )
        .await;
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert_eq!(json(&response)["status"], 415);
    }
}

async fn a_body_over_16_kib_gets_413_before_anything_else(app: TestApp) {
    let padding = "x".repeat(16 * 1024);
    let body = json!({"username": "alice", "password": STRONG_PASSWORD, "email": "alice@example.com", "pad": padding});
    // Too large wins over every other problem the body has: the size is checked first.
    for content_type in [Some("application/json"), Some("text/plain")] {
        let response = register(&app, post_raw("/api/users", content_type, body.to_string())).await;
        assert_eq!(response.status(), 413);
        assert!(
            json(&response)["detail"]
                .as_str()
                .unwrap()
                .contains("16384")
        );
    }
    assert_eq!(app.hasher.verifications(), 0);
    assert_nothing_stored(&app.users).await;
}

async fn another_method_gets_405_with_allow(app: TestApp) {
    let response = register(&app, request("PUT", "/api/users", &[])).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "POST");
    assert_eq!(json(&response)["status"], 405);
}

async fn a_look_alike_of_a_taken_username_gets_409_saying_so(app: TestApp) {
    let admin =
        json!({"username": "admin", "password": STRONG_PASSWORD, "email": "admin@example.com"});
    assert_eq!(
        register(&app, post_json("/api/users", &admin))
            .await
            .status(),
        201
    );

    // Fullwidth letters (the same name once NFKC-folded) and a Cyrillic `а` (another name that looks the same).
    for (i, look_alike) in ["\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}", "\u{430}dmin"]
        .into_iter()
        .enumerate()
    {
        let body = json!({
            "username": look_alike,
            "password": STRONG_PASSWORD,
            "email": format!("impostor{i}@example.com"),
        });
        let response = register(&app, post_json("/api/users", &body)).await;
        assert_eq!(response.status(), 409, "{look_alike:?}");
        assert_eq!(
            header(&response, "content-type"),
            "application/problem+json; charset=utf-8"
        );
        let problem = json(&response);
        assert_eq!(problem["type"], "/problems/conflict");
        assert_eq!(problem["status"], 409);
        assert_eq!(
            problem["errors"],
            json!([{"field": "username", "message": TAKEN_USERNAME}]),
            "{look_alike:?}"
        );
    }
    let listed = app
        .users
        .list(None, Default::default())
        .await
        .unwrap()
        .users;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].username.as_str(), "admin");
}

async fn an_email_that_is_not_a_bare_address_gets_422_saying_why(app: TestApp) {
    for (email, says) in [
        ("Someone <victim@example.com>", "bare address"),
        ("<victim@example.com>", "not a valid email address"),
        ("victim@[127.0.0.1]", "domain name"),
        ("victim@localhost", "top-level domain"),
        ("vic\u{7}tim@example.com", "control"),
        ("vic\u{200b}tim@example.com", "invisible"),
        ("\"vic tim\"@example.com", "whitespace"),
    ] {
        let body = json!({"username": "victim", "password": STRONG_PASSWORD, "email": email});
        let response = register(&app, post_json("/api/users", &body)).await;
        assert_eq!(response.status(), 422, "{email:?}");
        let problem = json(&response);
        assert_eq!(problem["type"], "/problems/validation");
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{email:?}: {errors:?}");
        assert_eq!(errors[0]["field"], "email");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{email:?}: {message}");
    }
    assert_nothing_stored(&app.users).await;
}

async fn a_rejected_registration_stores_nothing(app: TestApp) {
    register(
        &app,
        post_json(
            "/api/users",
            &json!({"username": "alice", "password": "weak", "email": "alice@example.com"}),
        ),
    )
    .await;
    register(
        &app,
        post_raw("/api/users", Some("application/json"), "{oops"),
    )
    .await;
    assert_nothing_stored(&app.users).await;
}

for_each_backend!(
    a_registration_answers_201_with_the_user_and_its_location,
    no_password_or_hash_ever_appears_in_the_answer,
    the_username_is_normalised_and_unique_regardless_of_case,
    a_taken_email_in_another_case_is_a_conflict_naming_the_email,
    registering_the_same_user_twice_names_both_fields,
    every_broken_field_rule_is_reported_at_once_with_422,
    missing_fields_are_reported_as_required,
    field_length_limits_hold,
    a_guessable_password_is_refused_and_the_answer_says_why,
    a_password_of_twelve_code_points_is_long_enough,
    json_that_does_not_parse_or_has_wrong_types_gets_400,
    a_body_that_is_not_json_gets_415,
    a_body_over_16_kib_gets_413_before_anything_else,
    another_method_gets_405_with_allow,
    a_rejected_registration_stores_nothing,
    a_look_alike_of_a_taken_username_gets_409_saying_so,
    an_email_that_is_not_a_bare_address_gets_422_saying_why,
);
