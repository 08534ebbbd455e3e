//! `POST /auth` for users imported from the Flask original: their bcrypt password logs in once and is replaced by an
//! Argon2id hash; a password today's rules refuse logs in too, with `"password_change_required": true` until it is
//! changed; a bcrypt hash over the cost cap is never computed.

use std::sync::Arc;

use serde_json::{Value, json};
use vimcar::clock::Clock;
use vimcar::handlers::log_in;
use vimcar::login_attempts::throttle::FREE_FAILURES;
use vimcar::users::{HashScheme, ImportStoreExt, Imported, Password, Username};
use vimcar_tests::counting::CountingUsers;
use vimcar_tests::imports::{
    TEST_BCRYPT_COST, bcrypt_hash, import_user, imported_account, stored_hash, stored_scheme,
};
use vimcar_tests::requests::{field_names, json, post_json};
use vimcar_tests::{STRONG_PASSWORD, TestApp, TokenPair};

use super::Users;

const WRONG: &str = "wrong wrong wrong wrong";
/// A password of the original that today's rules refuse: the original README's user's.
const WEAK: &str = "bar";

fn login(username: &str, password: &str) -> lambda_http::Request {
    post_json(
        "/auth",
        &json!({"username": username, "password": password}),
    )
}

/// `POST /auth`, asserting a 200 with the six fields of a login's answer, and answers the body.
async fn logged_in(app: &TestApp, username: &str, password: &str) -> Value {
    let response = log_in(app, login(username, password)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let body = json(&response);
    let fields = field_names(&body);
    assert_eq!(
        fields,
        [
            "access_token",
            "expires_in",
            "password_change_required",
            "refresh_expires_in",
            "refresh_token",
            "token_type"
        ]
    );
    assert_eq!(body["token_type"], "JWT");
    body
}

fn access(body: &Value) -> &str {
    body["access_token"].as_str().expect("an access token")
}

async fn an_imported_user_logs_in_with_its_old_password_and_gets_an_argon2_hash(app: TestApp) {
    let account = import_user(&app.users, "carol", STRONG_PASSWORD).await;
    assert_eq!(
        stored_scheme(&app.users, "carol").await,
        HashScheme::Bcrypt {
            cost: TEST_BCRYPT_COST
        }
    );

    let body = logged_in(&app, "carol", STRONG_PASSWORD).await;
    assert_eq!(body["password_change_required"], false, "{body}");
    let me = app.me(access(&body)).await;
    assert_eq!(me.status(), 200, "{}", json(&me));
    assert_eq!(json(&me)["id"], account.user.id.to_string());
    assert_eq!(stored_scheme(&app.users, "carol").await, HashScheme::Argon2);
    let upgraded = stored_hash(&app.users, "carol").await;

    let body = logged_in(&app, "carol", STRONG_PASSWORD).await;
    assert_eq!(body["password_change_required"], false);
    assert_eq!(
        stored_hash(&app.users, "carol").await,
        upgraded,
        "an Argon2 hash is not replaced again"
    );
}

async fn a_wrong_password_keeps_the_bcrypt_hash(app: TestApp) {
    import_user(&app.users, "carol", STRONG_PASSWORD).await;
    let before = stored_hash(&app.users, "carol").await;
    let response = log_in(&app, login("carol", WRONG)).await;
    assert_eq!(response.status(), 401, "{}", json(&response));
    assert_eq!(json(&response)["type"], "/problems/invalid-credentials");
    assert_eq!(stored_hash(&app.users, "carol").await, before);
}

async fn a_weak_old_password_logs_in_and_must_change_until_it_is_changed(app: TestApp) {
    import_user(&app.users, "foo", WEAK).await;

    let first = logged_in(&app, "foo", WEAK).await;
    assert_eq!(first["password_change_required"], true, "{first}");
    assert_eq!(stored_scheme(&app.users, "foo").await, HashScheme::Argon2);
    // Still flagged, now that the stored hash is Argon2 and the plaintext is no longer checked.
    let second = logged_in(&app, "foo", WEAK).await;
    assert_eq!(second["password_change_required"], true, "{second}");

    // Neither a refresh nor a password change answers the field: it belongs to the login.
    let refresh = app.refresh(second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refresh.status(), 200, "{}", json(&refresh));
    assert!(json(&refresh).get("password_change_required").is_none());
    let changed = app
        .change_password(access(&second), WEAK, STRONG_PASSWORD)
        .await;
    assert_eq!(changed.status(), 200, "{}", json(&changed));
    assert!(json(&changed).get("password_change_required").is_none());
    TokenPair::from_response(&changed);

    let after = logged_in(&app, "foo", STRONG_PASSWORD).await;
    assert_eq!(after["password_change_required"], false, "{after}");
    assert_eq!(log_in(&app, login("foo", WEAK)).await.status(), 401);
}

/// The registration of `username` with `password` (and the email `username@example.com`).
async fn register_with(
    app: &TestApp,
    username: &str,
    password: &str,
) -> lambda_http::Response<lambda_http::Body> {
    let body = json!({"username": username, "email": format!("{username}@example.com"), "password": password});
    vimcar::handlers::register(app, post_json("/api/users", &body)).await
}

async fn an_old_password_made_of_the_username_must_change(app: TestApp) {
    // Random letters: strong on their own, but nothing once the username gives them away.
    let (name, password) = ("xkqzvbwjmtp", "xkqzvbwjmtp!");
    let refused = register_with(&app, name, password).await;
    assert_eq!(refused.status(), 422, "{}", json(&refused));
    assert_eq!(json(&refused)["errors"][0]["field"], "password");
    let accepted = register_with(&app, "someone", password).await;
    assert_eq!(accepted.status(), 201, "the name is what gives it away");

    import_user(&app.users, name, password).await;
    let body = logged_in(&app, name, password).await;
    assert_eq!(body["password_change_required"], true, "{body}");
    let body = logged_in(&app, name, password).await;
    assert_eq!(body["password_change_required"], true, "{body}");
}

async fn a_registered_users_login_never_requires_a_change(app: TestApp) {
    app.registered("erin").await;
    let body = logged_in(&app, "erin", STRONG_PASSWORD).await;
    assert_eq!(body["password_change_required"], false);
}

async fn a_bcrypt_hash_over_the_cost_cap_is_refused_without_computing_it(app: TestApp) {
    // Cost 31 is 2^31 rounds, hours of work: were it computed, this test would hang.
    let over = bcrypt_hash(WEAK, TEST_BCRYPT_COST)
        .as_str()
        .replacen("$04$", "$31$", 1);
    let over = vimcar::users::PasswordHash::new(over);
    assert_eq!(over.scheme(), HashScheme::Bcrypt { cost: 31 });
    let account = imported_account("greedy", 30, false);
    assert_eq!(
        app.users.import(&account, Some(&over)).await.unwrap(),
        Imported::New
    );

    let before = app.hasher.verifications();
    let response = log_in(&app, login("greedy", WEAK)).await;
    assert_eq!(response.status(), 401, "{}", json(&response));
    assert_eq!(json(&response)["type"], "/problems/invalid-credentials");
    assert_eq!(
        app.hasher.verifications() - before,
        1,
        "the Argon2 dummy was verified instead"
    );
    assert_eq!(stored_hash(&app.users, "greedy").await, over);
}

async fn an_unknown_user_still_costs_one_verification(app: TestApp) {
    import_user(&app.users, "carol", STRONG_PASSWORD).await;
    let before = app.hasher.verifications();
    let response = log_in(&app, login("nobody", STRONG_PASSWORD)).await;
    assert_eq!(response.status(), 401, "{}", json(&response));
    assert_eq!(app.hasher.verifications() - before, 1);
}

/// An operator's reset landing while a login checks the old bcrypt password: the upgrade's compare-and-swap finds
/// another hash and writes nothing, so the reset (and its cleared flag) stands, and no session survives.
async fn a_reset_racing_the_upgrade_is_never_undone(users: Users) {
    let counting = Arc::new(CountingUsers::new(users.clone()));
    let app = TestApp::new(counting.clone());
    let account = import_user(&users, "foo", WEAK).await;
    let new_hash = app
        .hasher
        .hash(&Password::trusted(STRONG_PASSWORD.to_owned().into()))
        .await
        .unwrap();
    counting.reset_after_next_read(Username::parse("foo").unwrap(), new_hash.clone());

    let response = log_in(&app, login("foo", WEAK)).await;
    assert_eq!(response.status(), 401, "{}", json(&response));
    assert_eq!(
        stored_hash(&users, "foo").await,
        new_hash,
        "the reset stands"
    );
    assert_eq!(users.sessions_of(account.user.id).await.unwrap(), vec![]);

    assert_eq!(log_in(&app, login("foo", WEAK)).await.status(), 401);
    let body = logged_in(&app, "foo", STRONG_PASSWORD).await;
    assert_eq!(
        body["password_change_required"], false,
        "the upgrade did not flag the reset password"
    );
    assert_eq!(stored_hash(&users, "foo").await, new_hash);
}

async fn the_login_throttle_applies_to_imported_users(users: Users) {
    let mut app = TestApp::new(users);
    app.clock = Clock::manual(chrono::Utc::now());
    import_user(&app.users, "carol", STRONG_PASSWORD).await;
    for _ in 0..FREE_FAILURES {
        assert_eq!(log_in(&app, login("carol", WRONG)).await.status(), 401);
    }
    let before = app.hasher.verifications();
    let locked = log_in(&app, login("carol", STRONG_PASSWORD)).await;
    assert_eq!(locked.status(), 429, "{}", json(&locked));
    assert_eq!(
        app.hasher.verifications(),
        before,
        "no bcrypt work when locked"
    );
    assert_eq!(
        stored_scheme(&app.users, "carol").await,
        HashScheme::Bcrypt {
            cost: TEST_BCRYPT_COST
        }
    );

    app.clock.advance(chrono::TimeDelta::seconds(2));
    logged_in(&app, "carol", STRONG_PASSWORD).await;
    assert_eq!(stored_scheme(&app.users, "carol").await, HashScheme::Argon2);
}

for_each_backend!(
    an_imported_user_logs_in_with_its_old_password_and_gets_an_argon2_hash,
    a_wrong_password_keeps_the_bcrypt_hash,
    a_weak_old_password_logs_in_and_must_change_until_it_is_changed,
    an_old_password_made_of_the_username_must_change,
    a_registered_users_login_never_requires_a_change,
    a_bcrypt_hash_over_the_cost_cap_is_refused_without_computing_it,
    an_unknown_user_still_costs_one_verification,
    a_reset_racing_the_upgrade_is_never_undone,
    the_login_throttle_applies_to_imported_users,
);
