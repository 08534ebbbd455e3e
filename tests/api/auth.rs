//! `POST /auth`.

use jsonwebtoken::{DecodingKey, Validation, decode};
use serde_json::json;
use vimcar::clock::Clock;
use vimcar::handlers::{log_in, register};
use vimcar::login_attempts::throttle::{
    ACCOUNT_ATTEMPTS_PER_WINDOW, ACCOUNT_WINDOW, FREE_FAILURES,
};
use vimcar::tokens::Claims;
use vimcar_tests::requests::{from_source, header, json, post_json, post_raw, request};
use vimcar_tests::{SECRET, STRONG_PASSWORD, TestApp, user};

use super::Users;
use vimcar::users::UserStoreExt;

fn login(username: &str, password: &str) -> lambda_http::Request {
    post_json(
        "/auth",
        &json!({"username": username, "password": password}),
    )
}

async fn good_credentials_get_a_token_for_that_user(app: TestApp) {
    let id = app.registered("alice").await;
    let response = log_in(&app, login("alice", STRONG_PASSWORD)).await;

    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(
        header(&response, "content-type"),
        "application/json; charset=utf-8"
    );
    let body = json(&response);
    assert_eq!(body["token_type"], "JWT");
    assert_eq!(body["expires_in"], 300);
    // The original's fields, the session's refresh token, and whether the password must change (never, for a
    // password that passed today's rules at registration).
    assert_eq!(body.as_object().unwrap().len(), 6);
    assert_eq!(body["password_change_required"], false);
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with(vimcar::sessions::refresh_token::PREFIX)
    );
    assert_eq!(body["refresh_expires_in"], 14 * 24 * 60 * 60);

    let token = body["access_token"].as_str().unwrap();
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["vimcar"]);
    validation.set_audience(&["vimcar-api"]);
    let claims = decode::<Claims>(
        token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims.sub.to_string(), id);
    assert_eq!(claims.exp - claims.iat, 300);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.aud, "vimcar-api");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
}

async fn the_username_is_normalised_as_at_registration(app: TestApp) {
    app.registered("alice").await;
    let response = log_in(&app, login("ALICE", STRONG_PASSWORD)).await;
    assert_eq!(response.status(), 200);
}

async fn a_wrong_password_and_an_unknown_user_get_identical_answers(app: TestApp) {
    app.registered("alice").await;
    let wrong_password = log_in(&app, login("alice", "correct horse battery stapler")).await;
    let unknown_user = log_in(&app, login("nobody", STRONG_PASSWORD)).await;
    let impossible_user = log_in(&app, login("no body!", STRONG_PASSWORD)).await;

    assert_eq!(wrong_password.status(), 401);
    assert_eq!(
        header(&wrong_password, "www-authenticate"),
        r#"Bearer realm="vimcar""#
    );
    assert_eq!(
        json(&wrong_password)["type"],
        "/problems/invalid-credentials"
    );
    for other in [&unknown_user, &impossible_user] {
        assert_eq!(other.status(), wrong_password.status());
        assert_eq!(other.headers(), wrong_password.headers());
        assert_eq!(other.body().as_ref(), wrong_password.body().as_ref());
    }
}

async fn every_login_attempt_costs_one_full_verification(app: TestApp) {
    app.registered("alice").await;
    app.users.insert(&user("nopass"), None).await.unwrap();
    let attempts = [
        login("alice", STRONG_PASSWORD),
        login("alice", "wrong wrong wrong wrong"),
        login("nobody", STRONG_PASSWORD),
        login("x", STRONG_PASSWORD),
        login("nopass", ""),
    ];
    let count = attempts.len() as u64;
    let before = app.hasher.verifications();
    for attempt in attempts {
        log_in(&app, attempt).await;
    }
    assert_eq!(app.hasher.verifications() - before, count);
}

async fn a_user_created_without_a_password_cannot_log_in(app: TestApp) {
    app.users.insert(&user("nopass"), None).await.unwrap();
    for password in ["", STRONG_PASSWORD] {
        let response = log_in(&app, login("nopass", password)).await;
        assert_eq!(response.status(), 401);
    }
}

async fn missing_fields_get_422_and_malformed_bodies_400(app: TestApp) {
    let response = log_in(&app, post_json("/auth", &json!({"username": "alice"}))).await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        json(&response)["errors"],
        json!([{"field": "password", "message": "is required"}])
    );
    let response = log_in(&app, post_json("/auth", &json!({}))).await;
    assert_eq!(json(&response)["errors"].as_array().unwrap().len(), 2);

    for body in [
        "{",
        r#"{"username": "alice", "password": 12345678901234}"#,
        "null",
    ] {
        let response = log_in(&app, post_raw("/auth", Some("application/json"), body)).await;
        assert_eq!(response.status(), 400, "{body}");
    }
    let response = log_in(
        &app,
        post_raw("/auth", Some("text/plain"), "username=alice"),
    )
    .await;
    assert_eq!(response.status(), 415);
    let response = log_in(
        &app,
        post_raw("/auth", Some("application/json"), "x".repeat(16 * 1024 + 1)),
    )
    .await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        app.hasher.verifications(),
        0,
        "nothing was verified for a malformed request"
    );
}

async fn the_whole_password_counts_and_nothing_is_truncated(app: TestApp) {
    let long = "correct horse battery staple "
        .repeat(4)
        .trim_end()
        .to_owned();
    assert_eq!(long.chars().count(), 115);
    let body = json!({"username": "alice", "password": long, "email": "alice@example.com"});
    assert_eq!(
        register(&app, post_json("/api/users", &body))
            .await
            .status(),
        201
    );
    // bcrypt, the original's hash, ignored everything past byte 72.
    assert_eq!(
        log_in(&app, login("alice", &long[..72])).await.status(),
        401
    );
    assert_eq!(
        log_in(&app, login("alice", &long[..114])).await.status(),
        401
    );
    assert_eq!(log_in(&app, login("alice", &long)).await.status(), 200);
}

async fn the_token_lifetime_follows_the_configuration(users: Users) {
    let mut config = vimcar_tests::config();
    config.tokens.ttl = std::time::Duration::from_secs(60);
    let app = TestApp::with_config(&config, users);
    app.registered("alice").await;
    let response = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(json(&response)["expires_in"], 60);
}

async fn a_login_upgrades_a_hash_made_with_older_parameters(app: TestApp) {
    use argon2::PasswordHasher as _;
    let users = &app.users;
    let old = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8192, 1, 1, None).unwrap(),
    )
    .hash_password(STRONG_PASSWORD.as_bytes())
    .unwrap()
    .to_string();
    let alice = user("alice");
    users
        .insert(&alice, Some(&vimcar::users::PasswordHash::new(old.clone())))
        .await
        .unwrap();

    assert_eq!(
        log_in(&app, login("alice", "wrong wrong wrong wrong"))
            .await
            .status(),
        401
    );
    let stored = users
        .credentials(&alice.username)
        .await
        .unwrap()
        .unwrap()
        .hash
        .unwrap();
    assert_eq!(stored.as_str(), old, "a failed login changes nothing");

    assert_eq!(
        log_in(&app, login("alice", STRONG_PASSWORD)).await.status(),
        200
    );
    let stored = users
        .credentials(&alice.username)
        .await
        .unwrap()
        .unwrap()
        .hash
        .unwrap();
    assert!(
        stored
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored.as_str()
    );
    assert_eq!(
        log_in(&app, login("alice", STRONG_PASSWORD)).await.status(),
        200
    );
}

async fn a_stored_hash_over_the_cost_caps_never_logs_in(app: TestApp) {
    let tampered = "$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    app.users
        .insert(
            &user("alice"),
            Some(&vimcar::users::PasswordHash::new(tampered.into())),
        )
        .await
        .unwrap();
    let response = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(response.status(), 401);
}

const WRONG: &str = "wrong wrong wrong wrong";

/// An application whose clock stands still until the test moves it, so that no lock ends while a test runs.
fn app_at_a_fixed_time(users: Users) -> TestApp {
    let mut app = TestApp::new(users);
    app.clock = Clock::manual(chrono::Utc::now());
    app
}

fn seconds(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

async fn five_failures_lock_the_account_and_a_success_unlocks_it(users: Users) {
    let app = app_at_a_fixed_time(users);
    app.registered("alice").await;
    for _ in 0..FREE_FAILURES {
        assert_eq!(log_in(&app, login("alice", WRONG)).await.status(), 401);
    }
    let before = app.hasher.verifications();
    let locked = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(locked.status(), 429);
    // This attempt counted too, so the lock it brings is the next one: 2 s.
    assert_eq!(header(&locked, "retry-after"), "2");
    assert_eq!(
        header(&locked, "content-type"),
        "application/problem+json; charset=utf-8"
    );
    let problem = json(&locked);
    assert_eq!(problem["type"], "/problems/too-many-attempts");
    assert_eq!(problem["status"], 429);
    assert_eq!(
        app.hasher.verifications(),
        before,
        "a locked attempt costs no Argon2 work"
    );

    app.clock.advance(seconds(2));
    assert_eq!(
        log_in(&app, login("alice", STRONG_PASSWORD)).await.status(),
        200
    );
    // The success reset the count: the next mistakes are free ones again.
    for _ in 0..FREE_FAILURES {
        assert_eq!(log_in(&app, login("alice", WRONG)).await.status(), 401);
    }
}

async fn each_further_attempt_doubles_the_lock(users: Users) {
    let app = app_at_a_fixed_time(users);
    app.registered("alice").await;
    for _ in 0..FREE_FAILURES {
        log_in(&app, login("alice", WRONG)).await;
    }
    app.clock.advance(seconds(1));
    assert_eq!(log_in(&app, login("alice", WRONG)).await.status(), 401);
    let locked = log_in(&app, login("alice", WRONG)).await;
    assert_eq!(locked.status(), 429);
    assert_eq!(header(&locked, "retry-after"), "4");
    // Polling during the lock only lengthens it.
    app.clock.advance(seconds(3));
    let polled = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(header(&polled, "retry-after"), "8");
    app.clock.advance(seconds(8));
    assert_eq!(
        log_in(&app, login("alice", STRONG_PASSWORD)).await.status(),
        200
    );
    // Other accounts are not affected.
    app.registered("bob").await;
    assert_eq!(
        log_in(&app, login("bob", STRONG_PASSWORD)).await.status(),
        200
    );
}

async fn unknown_names_are_throttled_exactly_like_real_users(users: Users) {
    let app = app_at_a_fixed_time(users);
    app.registered("alice").await;
    for attempt in 1..=FREE_FAILURES + 1 {
        let known = log_in(&app, login("alice", WRONG)).await;
        let unknown = log_in(&app, login("nobody", WRONG)).await;
        assert_eq!(
            known.status(),
            if attempt <= FREE_FAILURES { 401 } else { 429 },
            "attempt {attempt}"
        );
        assert_eq!(unknown.status(), known.status(), "attempt {attempt}");
        assert_eq!(unknown.headers(), known.headers(), "attempt {attempt}");
        assert_eq!(
            unknown.body().as_ref(),
            known.body().as_ref(),
            "attempt {attempt}"
        );
    }
}

async fn concurrent_guesses_get_no_more_password_checks_than_the_free_ones(users: Users) {
    let app = app_at_a_fixed_time(users);
    app.registered("alice").await;
    let before = app.hasher.verifications();
    let guesses = (0..20).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            log_in(&app, login("alice", &format!("{WRONG} {i}")))
                .await
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = app.hasher.verifications() - before;
    assert_eq!(
        checked,
        u64::from(FREE_FAILURES),
        "20 guesses at once reached {checked} password checks"
    );
    let refused = statuses.iter().filter(|&&status| status == 429).count();
    let wrong = statuses.iter().filter(|&&status| status == 401).count();
    assert_eq!(
        (wrong, refused),
        (FREE_FAILURES as usize, 20 - FREE_FAILURES as usize),
        "{statuses:?}"
    );
}

async fn guesses_from_one_source_do_not_lock_the_owner_out_from_another(users: Users) {
    let app = app_at_a_fixed_time(users);
    app.registered("alice").await;
    let attacker = "203.0.113.9";
    for attempt in 1..=20 {
        let answer = log_in(&app, from_source(login("alice", WRONG), attacker)).await;
        let expected = if attempt <= FREE_FAILURES { 401 } else { 429 };
        assert_eq!(answer.status(), expected, "attempt {attempt}");
    }
    let owner = log_in(
        &app,
        from_source(login("alice", STRONG_PASSWORD), "198.51.100.20"),
    )
    .await;
    assert_eq!(owner.status(), 200, "the owner logs in from elsewhere");
    let again = log_in(&app, from_source(login("alice", STRONG_PASSWORD), attacker)).await;
    assert_eq!(again.status(), 429, "the attacker's source stays locked");
}

async fn the_account_locks_everywhere_once_its_ceiling_is_reached(users: Users) {
    let app = app_at_a_fixed_time(users);
    app.registered("alice").await;
    // Many sources, each within its free attempts, together reach the account's ceiling.
    let sources = ACCOUNT_ATTEMPTS_PER_WINDOW.div_ceil(FREE_FAILURES);
    for source in 0..sources {
        let ip = format!("192.0.2.{source}");
        for _ in 0..FREE_FAILURES {
            let answer = log_in(&app, from_source(login("alice", WRONG), &ip)).await;
            assert_eq!(answer.status(), 401, "from {ip}");
        }
    }
    let before = app.hasher.verifications();
    let owner = log_in(
        &app,
        from_source(login("alice", STRONG_PASSWORD), "198.51.100.20"),
    )
    .await;
    assert_eq!(owner.status(), 429);
    let wait: i64 = header(&owner, "retry-after").parse().unwrap();
    assert!((1..=ACCOUNT_WINDOW.num_seconds()).contains(&wait), "{wait}");
    assert_eq!(app.hasher.verifications(), before, "no password check");
    // The window ends, and the owner is let in.
    app.clock.advance(seconds(wait));
    let owner = log_in(
        &app,
        from_source(login("alice", STRONG_PASSWORD), "198.51.100.20"),
    )
    .await;
    assert_eq!(owner.status(), 200);
}

async fn names_that_cannot_be_usernames_share_one_throttle(users: Users) {
    let app = app_at_a_fixed_time(users);
    for attempt in 0..FREE_FAILURES {
        // As if a password were typed into the username field: nothing of it is stored, it only counts.
        let name = format!("my password is hunter2! ({attempt})");
        assert_eq!(log_in(&app, login(&name, WRONG)).await.status(), 401);
    }
    let another = log_in(&app, login("another impossible name!", WRONG)).await;
    assert_eq!(another.status(), 429);
    // A name that could be a user's has throttling of its own.
    assert_eq!(log_in(&app, login("carol", WRONG)).await.status(), 401);
}

async fn another_method_gets_405(app: TestApp) {
    let response = log_in(&app, request("GET", "/auth", &[])).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "POST");
}

/// An operator's reset (or a password change) that lands while a login checks the old password: the login must not
/// leave a session begun with the old password behind it.
async fn a_password_reset_during_a_login_leaves_it_no_session(users: Users) {
    let counting = std::sync::Arc::new(vimcar_tests::counting::CountingUsers::new(users.clone()));
    let app = TestApp::new(counting.clone());
    let id = app.registered("alice").await;
    let new_password = "a brand new passphrase for alice";
    let new_hash = app
        .hasher
        .hash(&vimcar::users::Password::trusted(
            new_password.to_owned().into(),
        ))
        .await
        .unwrap();
    counting.reset_after_next_read(vimcar::users::Username::parse("alice").unwrap(), new_hash);

    let response = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(response.status(), 401, "{}", json(&response));
    assert_eq!(json(&response)["type"], "/problems/invalid-credentials");
    let id = id.parse().unwrap();
    assert_eq!(
        users.sessions_of(id).await.unwrap(),
        vec![],
        "no session survives the reset"
    );

    let response = log_in(&app, login("alice", new_password)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(users.sessions_of(id).await.unwrap().len(), 1);
}

for_each_backend!(
    a_password_reset_during_a_login_leaves_it_no_session,
    good_credentials_get_a_token_for_that_user,
    the_username_is_normalised_as_at_registration,
    a_wrong_password_and_an_unknown_user_get_identical_answers,
    every_login_attempt_costs_one_full_verification,
    a_user_created_without_a_password_cannot_log_in,
    missing_fields_get_422_and_malformed_bodies_400,
    the_whole_password_counts_and_nothing_is_truncated,
    the_token_lifetime_follows_the_configuration,
    a_login_upgrades_a_hash_made_with_older_parameters,
    a_stored_hash_over_the_cost_caps_never_logs_in,
    five_failures_lock_the_account_and_a_success_unlocks_it,
    each_further_attempt_doubles_the_lock,
    unknown_names_are_throttled_exactly_like_real_users,
    concurrent_guesses_get_no_more_password_checks_than_the_free_ones,
    guesses_from_one_source_do_not_lock_the_owner_out_from_another,
    the_account_locks_everywhere_once_its_ceiling_is_reached,
    names_that_cannot_be_usernames_share_one_throttle,
    another_method_gets_405,
);
// The same behaviour with ES256 tokens (tests/api/keys.rs has the whole flow and the keys themselves).
for_each_backend!(es256:
    the_username_is_normalised_as_at_registration,
    a_wrong_password_and_an_unknown_user_get_identical_answers,
    a_user_created_without_a_password_cannot_log_in,
);
