//! Sessions: `POST /auth/refresh` and `POST /auth/logout`, and how a session's end shuts out its access tokens at
//! once. Expiry and the grace window are moved through with the manual clock, never by sleeping.

use std::time::Duration;
use vimcar::config::TokenConfig;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;
use vimcar::clock::Clock;
use vimcar::handlers::{list_users, log_in, log_out, refresh};
use vimcar::sessions::refresh_token::PREFIX;
use vimcar::sessions::{MAX_SESSIONS_PER_USER, RefreshToken, SessionPolicy};
use vimcar::users::Username;
use vimcar_tests::requests::{
    assert_problem, field_names, get_with_token, header, json, post_json, post_raw,
};
use vimcar_tests::{SECRET, STRONG_PASSWORD, TestApp, TokenPair, config};

const SESSION_ENDED: &str = "/problems/session-ended";
const UNAUTHORIZED: &str = "/problems/unauthorized";
const ENDED: &str = "The session has ended; log in again.";
const EXPIRED: &str = "The session has expired; log in again.";
const REUSED: &str = "The refresh token was used before, so the session has been ended for every holder; log in again.";
const INVALID: &str = "The refresh token is invalid.";

const DAY: i64 = 24 * 60 * 60;

/// Asserts that `access` still lists users.
async fn assert_works(app: &TestApp, access: &str) {
    let response = app.list(access).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
}

/// Asserts that the session of `tokens` is over for both of its tokens, with `detail` for the access token.
async fn assert_ended(app: &TestApp, tokens: &TokenPair, access_detail: &str) {
    assert_problem(
        &app.list(&tokens.access).await,
        401,
        SESSION_ENDED,
        access_detail,
    );
    assert_problem(
        &app.refresh(&tokens.refresh).await,
        401,
        SESSION_ENDED,
        ENDED,
    );
}

/// Puts the app on a manual clock standing at the present, and answers it to move.
fn manual_clock(app: &mut TestApp) -> Clock {
    let clock = Clock::manual(Utc::now());
    app.clock = clock.clone();
    clock
}

/// The bytes a refresh token's text encodes: 40 bytes of claims (user, session, generation), then a 32-byte tag.
fn token_bytes(text: &str) -> Vec<u8> {
    let encoded = text.strip_prefix(PREFIX).expect("a refresh token");
    let bytes = URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    assert_eq!(bytes.len(), 72);
    bytes
}

fn token_text(bytes: &[u8]) -> String {
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

async fn a_refresh_answers_a_new_refresh_token_and_a_working_access_token(app: TestApp) {
    app.registered("alice").await;
    let first = app.log_in_pair("alice").await;
    let response = app.refresh(&first.refresh).await;

    assert_eq!(header(&response, "cache-control"), "no-store");
    let body = json(&response);
    let fields = field_names(&body);
    assert_eq!(
        fields,
        [
            "access_token",
            "expires_in",
            "refresh_expires_in",
            "refresh_token",
            "token_type"
        ]
    );
    assert_eq!(body["token_type"], "JWT");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["refresh_expires_in"], 14 * DAY);
    let second = TokenPair::from_response(&response);
    assert_ne!(second.refresh, first.refresh);
    assert!(second.refresh.starts_with(PREFIX));
    assert_eq!(app.listed_names(&second.access).await, ["alice"]);

    // The new refresh token refreshes again, to yet another one.
    let third = app.refreshed(&second.refresh).await;
    assert_ne!(third.refresh, second.refresh);
    assert_ne!(third.refresh, first.refresh);
    assert_works(&app, &third.access).await;
}

async fn a_rotated_refresh_token_presented_after_the_grace_window_ends_the_session(
    mut app: TestApp,
) {
    let clock = manual_clock(&mut app);
    app.registered("alice").await;
    let other = app.log_in_pair("alice").await;
    let stolen = app.log_in_pair("alice").await;
    let current = app.refreshed(&stolen.refresh).await;
    clock.advance(TimeDelta::seconds(11));

    assert_problem(
        &app.refresh(&stolen.refresh).await,
        401,
        SESSION_ENDED,
        REUSED,
    );
    // Every token of the session is refused from now on: the rotated one's holder must log in again too.
    assert_ended(&app, &current, ENDED).await;
    assert_problem(&app.list(&stolen.access).await, 401, SESSION_ENDED, ENDED);
    // The user's other session is not touched.
    assert_works(&app, &other.access).await;
    assert_works(&app, &app.refreshed(&other.refresh).await.access).await;
}

async fn two_concurrent_refreshes_of_one_token_both_succeed_and_revoke_nothing(app: TestApp) {
    app.registered("alice").await;
    let first = app.log_in_pair("alice").await;
    let (one, two) = tokio::join!(app.refresh(&first.refresh), app.refresh(&first.refresh));
    let (one, two) = (
        TokenPair::from_response(&one),
        TokenPair::from_response(&two),
    );
    assert_ne!(one.refresh, first.refresh);
    assert_ne!(two.refresh, first.refresh);
    assert_works(&app, &one.access).await;
    assert_works(&app, &two.access).await;

    // Both tabs go on refreshing with what they got, and the session goes on.
    let after_one = app.refreshed(&one.refresh).await;
    let after_two = app.refreshed(&two.refresh).await;
    assert_works(&app, &after_one.access).await;
    assert_works(&app, &after_two.access).await;
    assert_works(&app, &app.refreshed(&after_two.refresh).await.access).await;
}

async fn two_sequential_refreshes_of_one_token_inside_the_grace_window_both_succeed(
    mut app: TestApp,
) {
    let clock = manual_clock(&mut app);
    app.registered("alice").await;
    let first = app.log_in_pair("alice").await;
    let one = app.refreshed(&first.refresh).await;
    clock.advance(TimeDelta::seconds(9));
    let two = app.refreshed(&first.refresh).await;

    assert_works(&app, &one.access).await;
    assert_works(&app, &two.access).await;
    assert_works(&app, &first.access).await;
    let next = app.refreshed(&two.refresh).await;
    assert_works(&app, &next.access).await;
    assert_works(&app, &app.refreshed(&next.refresh).await.access).await;
}

async fn without_a_grace_window_the_second_refresh_of_one_token_is_reuse(mut app: TestApp) {
    let clock = manual_clock(&mut app);
    app.session_policy = SessionPolicy {
        grace: Duration::ZERO,
        ..app.session_policy
    };
    app.registered("alice").await;
    let first = app.log_in_pair("alice").await;
    let one = app.refreshed(&first.refresh).await;
    clock.advance(TimeDelta::milliseconds(1));

    assert_problem(
        &app.refresh(&first.refresh).await,
        401,
        SESSION_ENDED,
        REUSED,
    );
    assert_ended(&app, &one, ENDED).await;
}

async fn a_refresh_token_two_generations_old_is_reuse_even_inside_the_grace_window(
    mut app: TestApp,
) {
    let clock = manual_clock(&mut app);
    app.registered("alice").await;
    let first = app.log_in_pair("alice").await;
    let second = app.refreshed(&first.refresh).await;
    let third = app.refreshed(&second.refresh).await;
    clock.advance(TimeDelta::seconds(1));

    // Only the token the last refresh replaced counts as a second tab; an older one is a copy.
    assert_problem(
        &app.refresh(&first.refresh).await,
        401,
        SESSION_ENDED,
        REUSED,
    );
    assert_ended(&app, &third, ENDED).await;
}

async fn logging_out_with_the_refresh_token_ends_that_session_only(app: TestApp) {
    app.registered("alice").await;
    let other = app.log_in_pair("alice").await;
    let tokens = app.log_in_pair("alice").await;
    let body = json!({ "refresh_token": tokens.refresh });

    let response = app.log_out(Some(&body), None).await;
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty(), "{:?}", response.body());
    assert_eq!(header(&response, "cache-control"), "no-store");
    // Again: a logout can be retried.
    assert_eq!(app.log_out(Some(&body), None).await.status(), 204);
    let local = json!({ "refresh_token": tokens.refresh, "scope": "local" });
    assert_eq!(app.log_out(Some(&local), None).await.status(), 204);

    assert_ended(&app, &tokens, ENDED).await;
    assert_works(&app, &other.access).await;
    assert_works(&app, &app.refreshed(&other.refresh).await.access).await;
}

async fn logging_out_with_only_the_access_token_ends_its_session(app: TestApp) {
    app.registered("alice").await;
    let other = app.log_in_pair("alice").await;
    let without_body = app.log_in_pair("alice").await;
    let with_local_scope = app.log_in_pair("alice").await;

    let response = app.log_out(None, Some(&without_body.access)).await;
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());
    let response = app
        .log_out(
            Some(&json!({"scope": "local"})),
            Some(&with_local_scope.access),
        )
        .await;
    assert_eq!(response.status(), 204);

    assert_ended(&app, &without_body, ENDED).await;
    assert_ended(&app, &with_local_scope, ENDED).await;
    assert_works(&app, &other.access).await;
    assert_works(&app, &app.refreshed(&other.refresh).await.access).await;
}

async fn a_global_logout_ends_every_session_of_the_user_and_no_other_users(app: TestApp) {
    app.registered("alice").await;
    app.registered("bob").await;
    let bob = app.log_in_pair("bob").await;
    let alice: Vec<TokenPair> = [
        app.log_in_pair("alice").await,
        app.log_in_pair("alice").await,
        app.log_in_pair("alice").await,
    ]
    .into();
    // One of alice's sessions has moved on a generation: its older refresh token still logs out everywhere.
    let refreshed = app.refreshed(&alice[2].refresh).await;

    let body = json!({ "refresh_token": alice[2].refresh, "scope": "global" });
    let response = app.log_out(Some(&body), None).await;
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());
    assert_eq!(app.log_out(Some(&body), None).await.status(), 204);

    for tokens in alice.iter().chain([&refreshed]) {
        assert_ended(&app, tokens, ENDED).await;
    }
    assert_works(&app, &bob.access).await;
    assert_works(&app, &app.refreshed(&bob.refresh).await.access).await;
}

async fn a_global_logout_with_the_access_token_ends_every_session_of_the_user(app: TestApp) {
    app.registered("alice").await;
    app.registered("bob").await;
    let bob = app.log_in_pair("bob").await;
    let first = app.log_in_pair("alice").await;
    let second = app.log_in_pair("alice").await;

    let response = app
        .log_out(Some(&json!({"scope": "global"})), Some(&second.access))
        .await;
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());

    assert_ended(&app, &first, ENDED).await;
    assert_ended(&app, &second, ENDED).await;
    assert_works(&app, &bob.access).await;
    assert_works(&app, &app.refreshed(&bob.refresh).await.access).await;
    // A new login starts afresh.
    assert_works(&app, &app.log_in_pair("alice").await.access).await;
}

async fn a_logout_without_a_refresh_token_or_access_token_is_unauthorized(app: TestApp) {
    app.registered("alice").await;
    let tokens = app.log_in_pair("alice").await;
    let detail = "Send the session's refresh_token, or its access token in Authorization.";
    assert_problem(
        &app.log_out(Some(&json!({})), None).await,
        401,
        UNAUTHORIZED,
        detail,
    );
    assert_problem(
        &app.log_out(Some(&json!({"scope": "global"})), None).await,
        401,
        UNAUTHORIZED,
        detail,
    );
    // No body at all says what to send, not which content type the absent body lacks.
    assert_problem(
        &log_out(&app, post_raw("/auth/logout", None, "")).await,
        401,
        UNAUTHORIZED,
        detail,
    );
    // An explicit null is not taken for an absent token, even with an access token beside it.
    let response = app
        .log_out(Some(&json!({"refresh_token": null})), Some(&tokens.access))
        .await;
    assert_eq!(response.status(), 422, "{}", json(&response));
    assert_eq!(json(&response)["errors"][0]["field"], "refresh_token");
    assert_eq!(json(&response)["errors"][0]["message"], "must be a string");
    // A logout that a forged token asks for ends nothing.
    let mut forged = token_bytes(&tokens.refresh);
    forged[71] ^= 1;
    let body = json!({ "refresh_token": token_text(&forged), "scope": "global" });
    assert_problem(
        &app.log_out(Some(&body), None).await,
        401,
        UNAUTHORIZED,
        INVALID,
    );
    let unknown_scope = json!({ "refresh_token": tokens.refresh, "scope": "everywhere" });
    assert_eq!(app.log_out(Some(&unknown_scope), None).await.status(), 400);
    assert_works(&app, &tokens.access).await;
    assert_works(&app, &app.refreshed(&tokens.refresh).await.access).await;
}

async fn an_unused_session_expires_after_the_idle_timeout(mut app: TestApp) {
    let clock = manual_clock(&mut app);
    app.registered("alice").await;
    let tokens = app.log_in_pair("alice").await;
    clock.advance(TimeDelta::seconds(14 * DAY));

    assert_problem(&app.list(&tokens.access).await, 401, SESSION_ENDED, EXPIRED);
    assert_problem(
        &app.refresh(&tokens.refresh).await,
        401,
        SESSION_ENDED,
        EXPIRED,
    );
    // Once refused, it stays ended, and a new login works.
    assert_problem(
        &app.refresh(&tokens.refresh).await,
        401,
        SESSION_ENDED,
        ENDED,
    );
    assert_works(&app, &app.log_in_pair("alice").await.access).await;
}

async fn refreshing_pushes_the_idle_expiry_on_up_to_the_absolute_timeout(mut app: TestApp) {
    let clock = manual_clock(&mut app);
    app.registered("alice").await;
    let login = app.log_in_pair("alice").await;
    // Day 13, inside the 14-day idle timeout: another 14 days from now.
    clock.advance(TimeDelta::seconds(13 * DAY));
    let response = app.refresh(&login.refresh).await;
    assert_eq!(json(&response)["refresh_expires_in"], 14 * DAY);
    let mut tokens = TokenPair::from_response(&response);
    // Day 26: past the login's idle expiry, alive thanks to the refresh; 14 more days would pass the 30-day
    // absolute timeout, so the end comes nearer with each refresh from now on.
    clock.advance(TimeDelta::seconds(13 * DAY));
    for remaining in [4, 3, 2, 1] {
        let response = app.refresh(&tokens.refresh).await;
        assert_eq!(json(&response)["refresh_expires_in"], remaining * DAY);
        tokens = TokenPair::from_response(&response);
        assert_works(&app, &tokens.access).await;
        clock.advance(TimeDelta::seconds(DAY));
    }
    // Day 30: over, however recently it was refreshed.
    assert_problem(&app.list(&tokens.access).await, 401, SESSION_ENDED, EXPIRED);
    assert_problem(
        &app.refresh(&tokens.refresh).await,
        401,
        SESSION_ENDED,
        EXPIRED,
    );
}

async fn a_deleted_users_sessions_refuse_both_tokens(app: TestApp) {
    let id = app.registered("alice").await;
    app.registered("bob").await;
    let bob = app.log_in_pair("bob").await;
    let first = app.log_in_pair("alice").await;
    let second = app.refreshed(&app.log_in_pair("alice").await.refresh).await;

    assert!(
        app.users
            .delete(&Username::parse("alice").unwrap())
            .await
            .unwrap()
    );

    assert_ended(&app, &first, ENDED).await;
    assert_ended(&app, &second, ENDED).await;
    let id: Uuid = id.parse().unwrap();
    assert_eq!(app.sessions.sessions_of(id).await.unwrap(), []);
    assert_eq!(app.listed_names(&bob.access).await, ["bob"]);
}

async fn refresh_tokens_that_this_deployment_did_not_issue_are_refused_with_401(app: TestApp) {
    let id = app.registered("alice").await;
    let tokens = app.log_in_pair("alice").await;
    let genuine = token_bytes(&tokens.refresh);

    let mut other_deployment = config();
    other_deployment.tokens = TokenConfig::hs256("another-deployments-secret-of-32-bytes-or-more");
    // The same store and user: only the key tells the tokens apart.
    let other = TestApp::with_config(&other_deployment, app.users.clone());
    let foreign = other.log_in_pair("alice").await.refresh;

    let mut wrong_tag = genuine.clone();
    wrong_tag[40..].copy_from_slice(&[0x42; 32]);
    let mut bumped = genuine.clone();
    bumped[39] += 1;
    let mut other_user = genuine.clone();
    other_user[..16].copy_from_slice(Uuid::now_v7().as_bytes());
    let noise: Vec<u8> = (0..72u32).map(|i| (i * 151 + 7) as u8).collect();
    let session_id = Uuid::from_slice(&genuine[16..32]).unwrap();
    // Signed with this deployment's key, but for a generation never issued.
    let unissued = app
        .refresh_key
        .sign(&RefreshToken {
            user_id: id.parse::<Uuid>().unwrap(),
            session_id,
            generation: 5,
        })
        .expose_secret()
        .to_owned();

    let cases = [
        ("empty", String::new()),
        ("garbage", "not a refresh token".to_owned()),
        ("no prefix", tokens.refresh[PREFIX.len()..].to_owned()),
        (
            "another prefix",
            format!("vrt2_{}", &tokens.refresh[PREFIX.len()..]),
        ),
        (
            "truncated",
            tokens.refresh[..tokens.refresh.len() - 1].to_owned(),
        ),
        (
            "half",
            tokens.refresh[..tokens.refresh.len() / 2].to_owned(),
        ),
        ("extended", format!("{}A", tokens.refresh)),
        ("padded", format!("{}=", tokens.refresh)),
        (
            "not base64url",
            format!("{}+", &tokens.refresh[..tokens.refresh.len() - 1]),
        ),
        ("the access token", tokens.access.clone()),
        ("another deployment's key", foreign),
        ("a wrong tag", token_text(&wrong_tag)),
        ("the generation bumped", token_text(&bumped)),
        ("another user", token_text(&other_user)),
        ("random bytes", token_text(&noise)),
        ("an unissued generation", unissued),
        ("a long text", "A".repeat(1_000)),
    ];
    for (case, text) in cases {
        let response = app.refresh(&text).await;
        assert_eq!(response.status(), 401, "{case}: {}", json(&response));
        assert_problem(&response, 401, UNAUTHORIZED, INVALID);
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="vimcar""#,
            "{case}"
        );
    }
    // None of them ended (or moved on) the genuine session.
    assert_works(&app, &tokens.access).await;
    assert_works(&app, &app.refreshed(&tokens.refresh).await.access).await;
}

async fn refresh_bodies_of_the_wrong_shape_are_client_errors(app: TestApp) {
    app.registered("alice").await;
    let tokens = app.log_in_pair("alice").await;
    let malformed: [(&str, Value); 5] = [
        ("a number", json!({"refresh_token": 5})),
        ("an array", json!({"refresh_token": [tokens.refresh]})),
        (
            "an object",
            json!({"refresh_token": {"token": tokens.refresh}}),
        ),
        ("not an object", json!([tokens.refresh])),
        (
            "an unknown field",
            json!({"refresh_token": tokens.refresh, "scope": "global"}),
        ),
    ];
    for (case, body) in malformed {
        let response = refresh(&app, post_json("/auth/refresh", &body)).await;
        let problem = json(&response);
        assert_eq!(response.status(), 400, "{case}: {problem}");
        assert_eq!(problem["type"], "/problems/malformed-body", "{case}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("The request body could not be read"),
            "{case}: {problem}"
        );
    }
    let not_json = refresh(
        &app,
        post_raw("/auth/refresh", Some("application/json"), "{"),
    )
    .await;
    assert_eq!(not_json.status(), 400, "{}", json(&not_json));
    for body in [json!({}), json!({"refresh_token": null})] {
        let response = refresh(&app, post_json("/auth/refresh", &body)).await;
        let problem = json(&response);
        assert_eq!(response.status(), 422, "{body}: {problem}");
        assert_eq!(problem["type"], "/problems/validation");
        assert_eq!(problem["errors"][0]["field"], "refresh_token", "{problem}");
    }
    // None of the refused requests touched the session.
    assert_works(&app, &app.refreshed(&tokens.refresh).await.access).await;
}

async fn a_login_beyond_the_limit_ends_the_oldest_session(app: TestApp) {
    app.registered("alice").await;
    let oldest = app.log_in_pair("alice").await;
    let mut newest = Vec::new();
    for _ in 0..MAX_SESSIONS_PER_USER {
        newest.push(app.log_in_pair("alice").await);
    }

    assert_ended(&app, &oldest, ENDED).await;
    for tokens in &newest {
        assert_works(&app, &tokens.access).await;
        assert_works(&app, &app.refreshed(&tokens.refresh).await.access).await;
    }
}

async fn an_access_token_without_a_session_is_refused(app: TestApp) {
    let id = app.registered("alice").await;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"sub": id, "iat": now, "nbf": now, "exp": now + 300, "iss": "vimcar", "aud": "vimcar-api"});
    let header = Header {
        typ: Some("at+jwt".into()),
        ..Header::default()
    };
    let token = encode(
        &header,
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_problem(
        &app.list(&token).await,
        401,
        UNAUTHORIZED,
        "The token is invalid.",
    );
    assert_problem(
        &app.log_out(None, Some(&token)).await,
        401,
        UNAUTHORIZED,
        "The token is invalid.",
    );

    // A session id that was never begun: the signature is right, the session is not there.
    let claims = json!({"sub": id, "sid": Uuid::now_v7(), "iat": now, "nbf": now, "exp": now + 300, "iss": "vimcar", "aud": "vimcar-api"});
    let token = encode(
        &header,
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_problem(&app.list(&token).await, 401, SESSION_ENDED, ENDED);
    // The login's own token works, through the handler as a client calls it.
    let response = log_in(
        &app,
        post_json(
            "/auth",
            &json!({"username": "alice", "password": STRONG_PASSWORD}),
        ),
    )
    .await;
    let access = TokenPair::from_response(&response).access;
    assert_eq!(
        list_users(&app, get_with_token("/api/users", &access))
            .await
            .status(),
        200
    );
}

for_each_backend!(
    a_refresh_answers_a_new_refresh_token_and_a_working_access_token,
    a_rotated_refresh_token_presented_after_the_grace_window_ends_the_session,
    two_concurrent_refreshes_of_one_token_both_succeed_and_revoke_nothing,
    two_sequential_refreshes_of_one_token_inside_the_grace_window_both_succeed,
    without_a_grace_window_the_second_refresh_of_one_token_is_reuse,
    a_refresh_token_two_generations_old_is_reuse_even_inside_the_grace_window,
    logging_out_with_the_refresh_token_ends_that_session_only,
    logging_out_with_only_the_access_token_ends_its_session,
    a_global_logout_ends_every_session_of_the_user_and_no_other_users,
    a_global_logout_with_the_access_token_ends_every_session_of_the_user,
    a_logout_without_a_refresh_token_or_access_token_is_unauthorized,
    an_unused_session_expires_after_the_idle_timeout,
    refreshing_pushes_the_idle_expiry_on_up_to_the_absolute_timeout,
    a_deleted_users_sessions_refuse_both_tokens,
    refresh_tokens_that_this_deployment_did_not_issue_are_refused_with_401,
    refresh_bodies_of_the_wrong_shape_are_client_errors,
    a_login_beyond_the_limit_ends_the_oldest_session,
    an_access_token_without_a_session_is_refused,
);
// The same behaviour with ES256 tokens (tests/api/keys.rs has the whole flow and the keys themselves).
for_each_backend!(es256:
    a_refresh_answers_a_new_refresh_token_and_a_working_access_token,
    two_concurrent_refreshes_of_one_token_both_succeed_and_revoke_nothing,
    logging_out_with_the_refresh_token_ends_that_session_only,
    logging_out_with_only_the_access_token_ends_its_session,
    a_global_logout_with_the_access_token_ends_every_session_of_the_user,
    a_logout_without_a_refresh_token_or_access_token_is_unauthorized,
    a_deleted_users_sessions_refuse_both_tokens,
    a_login_beyond_the_limit_ends_the_oldest_session,
);
