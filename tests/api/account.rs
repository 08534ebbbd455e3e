//! The account: `GET /api/users/me`, `GET /api/users/{id}`, who may list whom (`LIST_USERS`), admins (read from
//! storage on every request), `POST /api/users/me/password` and `DELETE /api/users/me`.

use chrono::Utc;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use uuid::Uuid;
use vimcar::clock::Clock;
use vimcar::config::{Config, ListingPolicy};
use vimcar::handlers::{change_password, delete_account, get_user, list_users, log_in, me};
use vimcar::login_attempts::throttle::{FREE_FAILURES, Source};
use vimcar::login_attempts::{AttemptKey, Expiry};
use vimcar::users::Username;
use vimcar_tests::requests::{
    assert_problem, field_names, get_with_token, header, json, json_with_token, post_json,
    post_raw, request,
};
use vimcar_tests::{STRONG_PASSWORD, TestApp, TokenPair, Users, config};

const UNAUTHORIZED: &str = "/problems/unauthorized";
const SESSION_ENDED: &str = "/problems/session-ended";
const FORBIDDEN: &str = "/problems/forbidden";
const NOT_FOUND: &str = "/problems/not-found";
const INVALID_CREDENTIALS: &str = "/problems/invalid-credentials";
const VALIDATION: &str = "/problems/validation";
const MALFORMED: &str = "/problems/malformed-body";
const TOO_MANY: &str = "/problems/too-many-attempts";

const ADMINS_ONLY: &str = "Only administrators may list or look up other users here.";
const NO_SUCH_USER: &str = "There is no user with this id.";
const ENDED: &str = "The session has ended; log in again.";
const WRONG_CREDENTIALS: &str = "The username or password is wrong.";
const NO_TOKEN: &str = "An Authorization header with a token is required.";
const BAD_TOKEN: &str = "The token is invalid.";
const SOME_INVALID: &str = "Some fields are invalid; see errors.";

const WRONG: &str = "wrong wrong wrong wrong";
const NEW_PASSWORD: &str = "purple elephants juggle quietly at dawn";

/// Asserts a 422 listing exactly `errors` (`[{"field", "message"}]`).
fn assert_invalid(response: &Response<Body>, errors: Value) {
    assert_problem(response, 422, VALIDATION, SOME_INVALID);
    assert_eq!(json(response)["errors"], errors);
}

/// Asserts a 200 whose body is exactly `expected`.
fn assert_body(response: &Response<Body>, expected: &Value) {
    let body = json(response);
    assert_eq!(response.status(), 200, "{body}");
    assert_eq!(header(response, "cache-control"), "no-store");
    assert_eq!(&body, expected);
}

/// A registered user as the tests know it: what its registration answered.
struct Known {
    id: String,
    username: String,
    email: String,
    created_at: String,
}

impl Known {
    /// Everything, the admin flag included: what the user itself and administrators see.
    fn full(&self, is_admin: bool) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "created_at": self.created_at,
            "is_admin": is_admin,
        })
    }

    /// What `LIST_USERS=everyone` shows of another user, and every listing entry: no admin flag.
    fn with_email(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "created_at": self.created_at,
        })
    }

    /// What `LIST_USERS=directory` shows a non-administrator of another user: no email either.
    fn directory(&self) -> Value {
        json!({"id": self.id, "username": self.username, "created_at": self.created_at})
    }
}

/// Registers `name` (asserting a 201) and answers what the registration said of it.
async fn known(app: &TestApp, name: &str) -> Known {
    let response = app.register(name).await;
    let body = json(&response);
    assert_eq!(response.status(), 201, "{body}");
    let field = |name: &str| body[name].as_str().unwrap().to_owned();
    Known {
        id: field("id"),
        username: field("username"),
        email: field("email"),
        created_at: field("created_at"),
    }
}

/// The application over `users` under the listing policy `listing`, on a clock that stands still.
fn app_with(users: &Users, listing: ListingPolicy) -> TestApp {
    let config = Config {
        listing,
        ..config()
    };
    let mut app = TestApp::with_config(&config, users.clone());
    app.clock = Clock::manual(Utc::now());
    app
}

async fn make_admin(users: &Users, name: &str, is_admin: bool) {
    let username = Username::parse(name).unwrap();
    assert!(users.set_admin(&username, is_admin).await.unwrap());
}

fn login(username: &str, password: &str) -> Request {
    post_json(
        "/auth",
        &json!({"username": username, "password": password}),
    )
}

/// How many attempts the counter under `key` holds (counting one more, which a test no longer cares about).
async fn counted(users: &Users, key: &AttemptKey) -> u32 {
    let expiry = Expiry::AfterLast(chrono::TimeDelta::days(1));
    users.reserve(key, Utc::now(), expiry).await.unwrap().count
}

// GET /api/users/me

async fn me_shows_the_caller_in_full_and_the_admin_flag_as_stored_now(users: Users) {
    let app = TestApp::new(users.clone());
    let alice = known(&app, "alice").await;
    known(&app, "bob").await;
    let token = app.log_in("alice").await;

    assert_body(&app.me(&token).await, &alice.full(false));
    make_admin(&users, "alice", true).await;
    // The same token: the flag is read from storage, not from the token.
    assert_body(&app.me(&token).await, &alice.full(true));
    make_admin(&users, "alice", false).await;
    assert_body(&app.me(&token).await, &alice.full(false));
}

async fn every_account_route_refuses_a_missing_or_invalid_token(app: TestApp) {
    app.registered("alice").await;
    let bodies = [
        ("GET", "/api/users/me", None),
        (
            "GET",
            "/api/users/00000000-0000-0000-0000-000000000000",
            None,
        ),
        (
            "POST",
            "/api/users/me/password",
            Some(json!({"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD})),
        ),
        (
            "DELETE",
            "/api/users/me",
            Some(json!({"password": STRONG_PASSWORD})),
        ),
    ];
    for (method, path, body) in bodies {
        for (authorization, detail) in [(None, NO_TOKEN), (Some("JWT not.a.token"), BAD_TOKEN)] {
            let mut headers = vec![];
            if let Some(authorization) = authorization {
                headers.push(("authorization", authorization));
            }
            let mut built = request(method, path, &headers);
            if let Some(body) = &body {
                built
                    .headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                *built.body_mut() = Body::Text(body.to_string());
            }
            let response = match (method, path) {
                ("GET", "/api/users/me") => me(&app, built).await,
                ("GET", _) => get_user(&app, built).await,
                ("POST", _) => change_password(&app, built).await,
                _ => delete_account(&app, built).await,
            };
            assert_problem(&response, 401, UNAUTHORIZED, detail);
        }
    }
    // Nothing was deleted or changed by any of them.
    app.log_in("alice").await;
}

async fn every_account_route_answers_405_to_another_method(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let auth = format!("JWT {token}");
    let headers = [("authorization", auth.as_str())];
    let response = me(&app, request("POST", "/api/users/me", &headers)).await;
    assert_eq!(response.status(), 405, "{}", json(&response));
    assert_eq!(header(&response, "allow"), "GET");
    let response = get_user(&app, request("DELETE", "/api/users/x", &headers)).await;
    assert_eq!(response.status(), 405, "{}", json(&response));
    assert_eq!(header(&response, "allow"), "GET");
    let response = change_password(&app, request("GET", "/api/users/me/password", &headers)).await;
    assert_eq!(response.status(), 405, "{}", json(&response));
    assert_eq!(header(&response, "allow"), "POST");
    let response = delete_account(&app, request("GET", "/api/users/me", &headers)).await;
    assert_eq!(response.status(), 405, "{}", json(&response));
    assert_eq!(header(&response, "allow"), "DELETE");
    // Still there.
    assert_eq!(app.me(&token).await.status(), 200);
}

// GET /api/users/{id}

async fn a_user_by_id_shows_what_each_policy_lets_the_caller_see(users: Users) {
    let app = TestApp::new(users.clone());
    let alice = known(&app, "alice").await;
    let bob = known(&app, "bob").await;
    let carol = known(&app, "carol").await;
    make_admin(&users, "carol", true).await;
    let alice_token = app.log_in("alice").await;
    let carol_token = app.log_in("carol").await;
    let unknown = Uuid::now_v7().to_string();

    for policy in [
        ListingPolicy::Everyone,
        ListingPolicy::Directory,
        ListingPolicy::Admins,
    ] {
        let app = app_with(&users, policy);
        // Oneself, in full, under every policy.
        assert_body(
            &app.get_user(&alice.id, &alice_token).await,
            &alice.full(false),
        );
        // An administrator sees anyone in full, the flag included, under every policy.
        assert_body(&app.get_user(&bob.id, &carol_token).await, &bob.full(false));
        assert_body(
            &app.get_user(&carol.id, &carol_token).await,
            &carol.full(true),
        );
        assert_problem(
            &app.get_user(&unknown, &carol_token).await,
            404,
            NOT_FOUND,
            NO_SUCH_USER,
        );
        let others = app.get_user(&bob.id, &alice_token).await;
        let others_admin = app.get_user(&carol.id, &alice_token).await;
        let nobody = app.get_user(&unknown, &alice_token).await;
        match policy {
            ListingPolicy::Everyone => {
                assert_body(&others, &bob.with_email());
                assert_body(&others_admin, &carol.with_email());
                assert_problem(&nobody, 404, NOT_FOUND, NO_SUCH_USER);
            }
            ListingPolicy::Directory => {
                assert_body(&others, &bob.directory());
                assert_body(&others_admin, &carol.directory());
                assert_problem(&nobody, 404, NOT_FOUND, NO_SUCH_USER);
            }
            ListingPolicy::Admins => {
                assert_problem(&others, 403, FORBIDDEN, ADMINS_ONLY);
                assert_problem(&others_admin, 403, FORBIDDEN, ADMINS_ONLY);
                // Not even whether the id exists.
                assert_problem(&nobody, 403, FORBIDDEN, ADMINS_ONLY);
            }
        }
    }
}

async fn a_malformed_id_is_a_404_like_an_unknown_one(app: TestApp) {
    let (id, token) = app.signed_up("alice").await;
    for malformed in ["not-a-uuid", "12345", &id[..id.len() - 1], "me", ""] {
        assert_problem(
            &app.get_user(malformed, &token).await,
            404,
            NOT_FOUND,
            NO_SUCH_USER,
        );
    }
    // No path parameter at all (a misrouted request) is the same 404.
    let response = get_user(&app, get_with_token("/api/users/", &token)).await;
    assert_problem(&response, 404, NOT_FOUND, NO_SUCH_USER);
}

async fn the_location_of_a_registration_resolves_to_the_user(app: TestApp) {
    let response = app.register("alice").await;
    let location = header(&response, "location").to_owned();
    let alice = json(&response);
    let token = app.log_in("alice").await;
    let id = location
        .strip_prefix("/api/users/")
        .unwrap_or_else(|| panic!("a location under /api/users/: {location:?}"));
    let found = json(&app.get_user(id, &token).await);
    assert_eq!(found["id"], alice["id"]);
    assert_eq!(found["username"], "alice");
}

// GET /api/users

/// The entries of the first page, asserting a 200.
async fn listed(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.list(token).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    json(&response).as_array().unwrap().clone()
}

async fn the_listing_follows_each_policy(users: Users) {
    let app = TestApp::new(users.clone());
    let alice = known(&app, "alice").await;
    let bob = known(&app, "bob").await;
    let carol = known(&app, "carol").await;
    make_admin(&users, "carol", true).await;
    let alice_token = app.log_in("alice").await;
    let carol_token = app.log_in("carol").await;
    let everyone_with_email = vec![alice.with_email(), bob.with_email(), carol.with_email()];

    let app = app_with(&users, ListingPolicy::Everyone);
    assert_eq!(listed(&app, &alice_token).await, everyone_with_email);
    assert_eq!(listed(&app, &carol_token).await, everyone_with_email);

    let app = app_with(&users, ListingPolicy::Directory);
    // Others without their email, one's own entry with it; never the admin flag.
    assert_eq!(
        listed(&app, &alice_token).await,
        [alice.with_email(), bob.directory(), carol.directory()]
    );
    assert_eq!(listed(&app, &carol_token).await, everyone_with_email);

    let app = app_with(&users, ListingPolicy::Admins);
    assert_problem(&app.list(&alice_token).await, 403, FORBIDDEN, ADMINS_ONLY);
    assert_eq!(listed(&app, &carol_token).await, everyone_with_email);
}

async fn a_demoted_admin_loses_access_on_the_very_next_request(users: Users) {
    let app = app_with(&users, ListingPolicy::Admins);
    known(&app, "alice").await;
    let bob = known(&app, "bob").await;
    make_admin(&users, "alice", true).await;
    let token = app.log_in("alice").await;
    assert_eq!(listed(&app, &token).await.len(), 2);
    assert_body(&app.get_user(&bob.id, &token).await, &bob.full(false));

    make_admin(&users, "alice", false).await;
    // The same token, the next request.
    assert_problem(&app.list(&token).await, 403, FORBIDDEN, ADMINS_ONLY);
    assert_problem(
        &app.get_user(&bob.id, &token).await,
        403,
        FORBIDDEN,
        ADMINS_ONLY,
    );
    assert_eq!(json(&app.me(&token).await)["is_admin"], false);

    // Under `directory`, the demotion hides others' emails at once.
    let directory = app_with(&users, ListingPolicy::Directory);
    assert_body(&directory.get_user(&bob.id, &token).await, &bob.directory());

    // And a promotion counts at once too.
    make_admin(&users, "alice", true).await;
    assert_eq!(listed(&app, &token).await.len(), 2);
}

// POST /api/users/me/password

async fn a_password_change_answers_a_new_pair_and_ends_every_session_before_it(users: Users) {
    let app = TestApp::new(users.clone());
    let alice: Uuid = app.registered("alice").await.parse().unwrap();
    app.registered("bob").await;
    let caller = app.log_in_pair("alice").await;
    let other = app.log_in_pair("alice").await;
    let bobs = app.log_in_pair("bob").await;

    let response = app
        .change_password(&caller.access, STRONG_PASSWORD, NEW_PASSWORD)
        .await;
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
    let fresh = TokenPair::from_response(&response);
    // Exactly one session is left: the new one.
    assert_eq!(users.sessions_of(alice).await.unwrap().len(), 1);

    // Every token issued before the change is refused at once, the caller's own access token too.
    for old in [&caller, &other] {
        assert_problem(&app.me(&old.access).await, 401, SESSION_ENDED, ENDED);
        assert_problem(&app.refresh(&old.refresh).await, 401, SESSION_ENDED, ENDED);
    }
    // The new pair works, and its refresh token refreshes.
    assert_eq!(json(&app.me(&fresh.access).await)["username"], "alice");
    let next = app.refreshed(&fresh.refresh).await;
    assert_eq!(app.me(&next.access).await.status(), 200);

    // The old password no longer logs in; the new one does.
    assert_problem(
        &log_in(&app, login("alice", STRONG_PASSWORD)).await,
        401,
        INVALID_CREDENTIALS,
        WRONG_CREDENTIALS,
    );
    let response = log_in(&app, login("alice", NEW_PASSWORD)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));

    // Another user is untouched.
    assert_eq!(app.me(&bobs.access).await.status(), 200);
    app.refreshed(&bobs.refresh).await;
}

async fn a_wrong_current_password_is_401_and_changes_nothing(users: Users) {
    let app = app_with(&users, ListingPolicy::Everyone);
    app.registered("alice").await;
    let tokens = app.log_in_pair("alice").await;

    assert_problem(
        &app.change_password(&tokens.access, WRONG, NEW_PASSWORD)
            .await,
        401,
        INVALID_CREDENTIALS,
        WRONG_CREDENTIALS,
    );
    assert_eq!(app.me(&tokens.access).await.status(), 200);
    app.refreshed(&tokens.refresh).await;
    app.log_in("alice").await;
    assert_eq!(
        log_in(&app, login("alice", NEW_PASSWORD)).await.status(),
        401
    );
}

async fn wrong_current_passwords_count_under_the_logins_throttle(users: Users) {
    let app = app_with(&users, ListingPolicy::Everyone);
    app.registered("alice").await;
    app.registered("bob").await;

    // Wrong current passwords, through a password change, lock `POST /auth`.
    let alice = app.log_in("alice").await;
    for _ in 0..FREE_FAILURES {
        assert_problem(
            &app.change_password(&alice, WRONG, NEW_PASSWORD).await,
            401,
            INVALID_CREDENTIALS,
            WRONG_CREDENTIALS,
        );
    }
    let locked = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(locked.status(), 429, "{}", json(&locked));
    assert_eq!(json(&locked)["type"], TOO_MANY);
    // ... and a password change with the right current password as well.
    let locked = app
        .change_password(&alice, STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(locked.status(), 429, "{}", json(&locked));

    // Failed logins lock the password change (and the deletion).
    let bob = app.log_in("bob").await;
    for _ in 0..FREE_FAILURES {
        assert_eq!(log_in(&app, login("bob", WRONG)).await.status(), 401);
    }
    let before = app.hasher.verifications();
    let locked = app
        .change_password(&bob, STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(locked.status(), 429, "{}", json(&locked));
    assert_eq!(json(&locked)["type"], TOO_MANY);
    assert_ne!(header(&locked, "retry-after"), "");
    let locked = app.delete_account(&bob, STRONG_PASSWORD).await;
    assert_eq!(locked.status(), 429, "{}", json(&locked));
    assert_eq!(
        app.hasher.verifications(),
        before,
        "a locked attempt costs no Argon2 work"
    );

    // Neither password changed, and both still log in once the locks are over.
    app.clock.advance(chrono::TimeDelta::hours(1));
    app.log_in("alice").await;
    app.log_in("bob").await;
}

async fn a_weak_or_unchanged_new_password_or_missing_fields_get_422(app: TestApp) {
    app.registered("alice").await;
    let tokens = app.log_in_pair("alice").await;
    let before = app.hasher.verifications();
    assert_invalid(
        &app.change_password(&tokens.access, STRONG_PASSWORD, "short")
            .await,
        json!([{"field": "new_password", "message": "must be at least 12 characters long, not 5"}]),
    );
    let response = app
        .change_password(&tokens.access, STRONG_PASSWORD, "alice@example.com")
        .await;
    assert_problem(&response, 422, VALIDATION, SOME_INVALID);
    let errors = json(&response)["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
    assert_eq!(errors[0]["field"], "new_password");
    assert_invalid(
        &app.change_password(&tokens.access, STRONG_PASSWORD, STRONG_PASSWORD)
            .await,
        json!([{"field": "new_password", "message": "must differ from the current password"}]),
    );
    // A weak new password costs no password check, and no throttle attempt.
    assert_eq!(app.hasher.verifications(), before);

    let send = |body: Value| {
        let request = json_with_token("POST", "/api/users/me/password", &body, &tokens.access);
        change_password(&app, request)
    };
    assert_invalid(
        &send(json!({})).await,
        json!([
            {"field": "current_password", "message": "is required"},
            {"field": "new_password", "message": "is required"},
        ]),
    );
    assert_invalid(
        &send(json!({"new_password": NEW_PASSWORD})).await,
        json!([{"field": "current_password", "message": "is required"}]),
    );
    assert_invalid(
        &send(json!({"current_password": STRONG_PASSWORD})).await,
        json!([{"field": "new_password", "message": "is required"}]),
    );

    // Nothing was changed and nothing ended.
    assert_eq!(app.me(&tokens.access).await.status(), 200);
    app.log_in("alice").await;
}

async fn malformed_password_change_bodies_get_400_413_and_415(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let with_token = |mut request: Request| {
        request
            .headers_mut()
            .insert("authorization", format!("JWT {token}").parse().unwrap());
        request
    };
    for body in [
        "{",
        "null",
        "[]",
        r#"{"current_password": 1, "new_password": "purple elephants juggle quietly"}"#,
    ] {
        let request = with_token(post_raw(
            "/api/users/me/password",
            Some("application/json"),
            body,
        ));
        let response = change_password(&app, request).await;
        assert_eq!(response.status(), 400, "{body}: {}", json(&response));
        assert_eq!(json(&response)["type"], MALFORMED, "{body}");
    }
    let request = with_token(post_raw(
        "/api/users/me/password",
        Some("text/plain"),
        "current_password=x",
    ));
    assert_eq!(change_password(&app, request).await.status(), 415);
    let request = with_token(post_raw(
        "/api/users/me/password",
        Some("application/json"),
        "x".repeat(16 * 1024 + 1),
    ));
    assert_eq!(change_password(&app, request).await.status(), 413);
    app.log_in("alice").await;
}

// DELETE /api/users/me

async fn a_deletion_removes_the_user_its_sessions_and_its_counters(users: Users) {
    let app = app_with(&users, ListingPolicy::Everyone);
    let alice: Uuid = app.registered("alice").await.parse().unwrap();
    app.registered("bob").await;
    // Failures leave the account's counter above zero after a success: a success takes back only its own attempt.
    for name in ["alice", "bob"] {
        for _ in 0..2 {
            assert_eq!(log_in(&app, login(name, WRONG)).await.status(), 401);
        }
    }
    let caller = app.log_in_pair("alice").await;
    let other = app.log_in_pair("alice").await;
    let bobs = app.log_in_pair("bob").await;
    assert_eq!(
        delete_account(
            &app,
            json_with_token(
                "DELETE",
                "/api/users/me",
                &json!({"password": WRONG}),
                &caller.access
            )
        )
        .await
        .status(),
        401
    );

    let response = app.delete_account(&caller.access, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 204, "{:?}", response.body());
    assert!(response.body().is_empty());

    // Storage: no user, no session, no counter of the account.
    let username = Username::parse("alice").unwrap();
    assert_eq!(users.by_username(&username).await.unwrap(), None);
    assert_eq!(users.account(alice).await.unwrap(), None);
    assert_eq!(users.sessions_of(alice).await.unwrap(), []);
    let keys = app.throttle.keys("alice", Source::Unknown);
    assert_eq!(counted(&users, &keys.account).await, 0);
    assert_eq!(counted(&users, &keys.source).await, 0);
    // The same check on bob, who was not deleted, finds his counter: the check above can fail.
    let bob_keys = app.throttle.keys("bob", Source::Unknown);
    assert_eq!(counted(&users, &bob_keys.account).await, 2);

    // Its tokens are refused, and its login fails.
    for tokens in [&caller, &other] {
        assert_problem(&app.me(&tokens.access).await, 401, SESSION_ENDED, ENDED);
        assert_problem(
            &app.refresh(&tokens.refresh).await,
            401,
            SESSION_ENDED,
            ENDED,
        );
    }
    assert_problem(
        &log_in(&app, login("alice", STRONG_PASSWORD)).await,
        401,
        INVALID_CREDENTIALS,
        WRONG_CREDENTIALS,
    );

    // Bob is untouched.
    assert_eq!(json(&app.me(&bobs.access).await)["username"], "bob");
    assert_eq!(app.listed_names(&bobs.access).await, ["bob"]);
    app.refreshed(&bobs.refresh).await;

    // Its username and email register again, as a new user.
    let again: Uuid = app.registered("alice").await.parse().unwrap();
    assert_ne!(again, alice);
    let token = app.log_in("alice").await;
    assert_eq!(json(&app.me(&token).await)["id"], again.to_string());
}

async fn a_deletion_with_a_wrong_password_is_401_and_deletes_nothing(users: Users) {
    let app = app_with(&users, ListingPolicy::Everyone);
    let alice: Uuid = app.registered("alice").await.parse().unwrap();
    let tokens = app.log_in_pair("alice").await;

    assert_problem(
        &app.delete_account(&tokens.access, WRONG).await,
        401,
        INVALID_CREDENTIALS,
        WRONG_CREDENTIALS,
    );
    assert!(users.account(alice).await.unwrap().is_some());
    assert_eq!(users.sessions_of(alice).await.unwrap().len(), 1);
    assert_eq!(app.me(&tokens.access).await.status(), 200);
    app.refreshed(&tokens.refresh).await;
    app.log_in("alice").await;
    assert_eq!(app.register("alice").await.status(), 409);
}

async fn a_deletion_without_a_password_or_with_a_malformed_body_deletes_nothing(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let send = |body: &str, content_type: &str| {
        let mut request = post_raw("/api/users/me", Some(content_type), body);
        *request.method_mut() = http::Method::DELETE;
        request
            .headers_mut()
            .insert("authorization", format!("JWT {token}").parse().unwrap());
        delete_account(&app, request)
    };
    assert_invalid(
        &send("{}", "application/json").await,
        json!([{"field": "password", "message": "is required"}]),
    );
    for body in ["{", "null", r#"{"password": 12}"#, ""] {
        let response = send(body, "application/json").await;
        assert_eq!(response.status(), 400, "{body:?}: {}", json(&response));
        assert_eq!(json(&response)["type"], MALFORMED, "{body:?}");
    }
    assert_eq!(send("password=x", "text/plain").await.status(), 415);
    assert_eq!(
        send(&"x".repeat(16 * 1024 + 1), "application/json")
            .await
            .status(),
        413
    );
    assert_eq!(app.me(&token).await.status(), 200);
    app.log_in("alice").await;
}

async fn a_listing_token_of_a_deleted_user_no_longer_lists(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let (_, bob) = app.signed_up("bob").await;
    assert_eq!(
        app.delete_account(&token, STRONG_PASSWORD).await.status(),
        204
    );
    let response = list_users(&app, get_with_token("/api/users", &token)).await;
    assert_problem(&response, 401, SESSION_ENDED, ENDED);
    assert_eq!(app.listed_names(&bob).await, ["bob"]);
}

for_each_backend!(
    me_shows_the_caller_in_full_and_the_admin_flag_as_stored_now,
    every_account_route_refuses_a_missing_or_invalid_token,
    every_account_route_answers_405_to_another_method,
    a_user_by_id_shows_what_each_policy_lets_the_caller_see,
    a_malformed_id_is_a_404_like_an_unknown_one,
    the_location_of_a_registration_resolves_to_the_user,
    the_listing_follows_each_policy,
    a_demoted_admin_loses_access_on_the_very_next_request,
    a_password_change_answers_a_new_pair_and_ends_every_session_before_it,
    a_wrong_current_password_is_401_and_changes_nothing,
    wrong_current_passwords_count_under_the_logins_throttle,
    a_weak_or_unchanged_new_password_or_missing_fields_get_422,
    malformed_password_change_bodies_get_400_413_and_415,
    a_deletion_removes_the_user_its_sessions_and_its_counters,
    a_deletion_with_a_wrong_password_is_401_and_deletes_nothing,
    a_deletion_without_a_password_or_with_a_malformed_body_deletes_nothing,
    a_listing_token_of_a_deleted_user_no_longer_lists,
);
// The same behaviour with ES256 tokens (tests/api/keys.rs has the whole flow and the keys themselves).
for_each_backend!(es256:
    every_account_route_refuses_a_missing_or_invalid_token,
    every_account_route_answers_405_to_another_method,
    a_malformed_id_is_a_404_like_an_unknown_one,
    the_location_of_a_registration_resolves_to_the_user,
    a_weak_or_unchanged_new_password_or_missing_fields_get_422,
    a_deletion_without_a_password_or_with_a_malformed_body_deletes_nothing,
    a_listing_token_of_a_deleted_user_no_longer_lists,
);
