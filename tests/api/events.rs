//! Security events: each route's event line (name, outcome, function, request, address, user) and its CloudWatch
//! EMF block, and that no line holds a password, a token, a hash, a username or an email.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use vimcar::clock::Clock;
use vimcar::config::Config;
use vimcar::handlers::{log_in, log_out};
use vimcar::login_attempts::throttle::FREE_FAILURES;
use vimcar::users::{UserStoreExt, Username};
use vimcar_tests::requests::{from_source, json, post_json, post_json_with_token};
use vimcar_tests::{STRONG_PASSWORD, TestApp, TokenPair, config, user};

use super::Users;

/// The namespace the tests' functions are deployed under, as the template sets it.
const NAMESPACE: &str = "vimcar/events-test";
const ADDRESS: &str = "203.0.113.7";
const WRONG: &str = "wrong wrong wrong wrong";

fn app(users: Users) -> TestApp {
    let config = Config {
        metrics_namespace: NAMESPACE.to_owned(),
        ..config()
    };
    TestApp::with_config(&config, users)
}

/// Every line the application wrote, each parsed as the one JSON object it must be.
fn lines(app: &TestApp) -> Vec<Value> {
    app.events
        .lines()
        .iter()
        .map(|line| {
            assert!(!line.contains('\n'), "one line: {line}");
            let value: Value = serde_json::from_str(line).expect("a JSON line");
            assert!(value.is_object(), "a JSON object: {line}");
            value
        })
        .collect()
}

/// The lines of `event`.
fn named(app: &TestApp, event: &str) -> Vec<Value> {
    lines(app)
        .into_iter()
        .filter(|line| line["event"] == event)
        .collect()
}

/// The one line of `event`.
fn only(app: &TestApp, event: &str) -> Value {
    let mut found = named(app, event);
    assert_eq!(found.len(), 1, "one {event} line in {:#?}", lines(app));
    found.remove(0)
}

/// What one line must say.
struct Expected<'a> {
    event: &'a str,
    outcome: &'a str,
    function: &'a str,
    metric: &'a str,
    user_id: Option<&'a str>,
}

fn assert_line(line: &Value, expected: &Expected) {
    let Expected {
        event,
        outcome,
        function,
        metric,
        user_id,
    } = *expected;
    assert_eq!(line["event"], event, "{line}");
    assert_eq!(line["outcome"], outcome, "{line}");
    assert_eq!(line["function"], function, "{line}");
    assert!(
        vimcar::routes::function(function).is_some(),
        "{function} is a registry function"
    );
    // In-process requests carry no Lambda context: the request id is `local`, as in problem responses.
    assert_eq!(line["request_id"], "local", "{line}");
    let time = line["time"].as_str().expect("a time");
    let parsed = chrono::DateTime::parse_from_rfc3339(time).expect("an RFC 3339 time");
    assert!(time.ends_with('Z'), "UTC: {time}");
    assert!((Utc::now() - parsed.to_utc()).num_seconds().abs() < 3600);
    match user_id {
        Some(id) => assert_eq!(line["user_id"], id, "{line}"),
        None => assert!(line.get("user_id").is_none(), "{line}"),
    }
    // The EMF document: the metric's value and its one dimension's value at the root, `_aws` naming them.
    assert_eq!(line[metric], 1, "{line}");
    assert_eq!(line["Function"], function, "{line}");
    let aws = &line["_aws"];
    assert_eq!(
        aws["Timestamp"].as_i64(),
        Some(parsed.timestamp_millis()),
        "{line}"
    );
    assert_eq!(
        aws["CloudWatchMetrics"],
        json!([{
            "Namespace": NAMESPACE,
            "Dimensions": [["Function"]],
            "Metrics": [{"Name": metric, "Unit": "Count"}],
        }]),
        "{line}"
    );
}

/// That no line the application wrote holds any of `secrets`.
fn assert_no_secret(app: &TestApp, secrets: &[&str]) {
    let lines = app.events.lines();
    assert!(!lines.is_empty());
    for line in &lines {
        for secret in secrets {
            assert!(!line.contains(secret), "{secret:?} in {line}");
        }
    }
}

/// The stored hash of `name`'s password.
async fn hash_of(app: &TestApp, name: &str) -> String {
    app.users
        .credentials(&Username::parse(name).unwrap())
        .await
        .unwrap()
        .and_then(|credentials| credentials.hash)
        .expect("a stored hash")
        .as_str()
        .to_owned()
}

fn login(username: &str, password: &str) -> lambda_http::Request {
    from_source(
        post_json(
            "/auth",
            &json!({"username": username, "password": password}),
        ),
        ADDRESS,
    )
}

/// Everything a user's lines must never hold, besides its tokens: its password, hash, username and email.
async fn secrets_of(app: &TestApp, name: &str) -> Vec<String> {
    vec![
        STRONG_PASSWORD.to_owned(),
        hash_of(app, name).await,
        format!("\"{name}\""),
        format!("{name}@example.com"),
    ]
}

fn with_tokens(mut secrets: Vec<String>, pairs: &[&TokenPair]) -> Vec<String> {
    for pair in pairs {
        secrets.push(pair.access.clone());
        secrets.push(pair.refresh.clone());
    }
    secrets
}

fn strs(secrets: &[String]) -> Vec<&str> {
    secrets.iter().map(String::as_str).collect()
}

async fn a_registration_records_user_registered_with_the_new_users_id(users: Users) {
    let app = app(users);
    let id = app.registered("alice").await;
    assert_line(
        &only(&app, "user.registered"),
        &Expected {
            event: "user.registered",
            outcome: "success",
            function: "register",
            metric: "Registrations",
            user_id: Some(&id),
        },
    );
    assert_no_secret(&app, &strs(&secrets_of(&app, "alice").await));
}

async fn a_login_records_its_success_and_every_kind_of_failure_from_its_address(users: Users) {
    let app = app(users);
    let id = app.registered("alice").await;
    app.users.insert(&user("carol"), None).await.unwrap();
    let ok = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    let pair = TokenPair::from_response(&ok);
    for (username, password) in [
        ("alice", WRONG),
        ("nobody", STRONG_PASSWORD),
        // The password typed into the username field: it must not reach a log through the username.
        (STRONG_PASSWORD, "alice"),
        // A user without a password.
        ("carol", STRONG_PASSWORD),
    ] {
        let response = log_in(&app, login(username, password)).await;
        assert_eq!(response.status(), 401, "{username}");
    }

    let succeeded = only(&app, "login.succeeded");
    assert_line(
        &succeeded,
        &Expected {
            event: "login.succeeded",
            outcome: "success",
            function: "auth",
            metric: "LoginSuccesses",
            user_id: Some(&id),
        },
    );
    assert_eq!(succeeded["source_ip"], ADDRESS);
    let failed = named(&app, "login.failed");
    assert_eq!(failed.len(), 4, "{failed:#?}");
    for line in &failed {
        assert_line(
            line,
            &Expected {
                event: "login.failed",
                outcome: "failure",
                function: "auth",
                metric: "LoginFailures",
                user_id: None,
            },
        );
        assert_eq!(line["source_ip"], ADDRESS);
        assert_eq!(line["level"], "WARN");
    }
    let mut secrets = with_tokens(secrets_of(&app, "alice").await, &[&pair]);
    secrets.extend([WRONG.to_owned(), "nobody".to_owned(), "carol".to_owned()]);
    assert_no_secret(&app, &strs(&secrets));
}

async fn a_login_the_throttle_refuses_records_login_throttled(users: Users) {
    let mut app = app(users);
    // No lock ends while the test runs.
    app.clock = Clock::manual(Utc::now());
    app.registered("alice").await;
    for _ in 0..FREE_FAILURES {
        assert_eq!(log_in(&app, login("alice", WRONG)).await.status(), 401);
    }
    let refused = log_in(&app, login("alice", STRONG_PASSWORD)).await;
    assert_eq!(refused.status(), 429);

    assert_eq!(named(&app, "login.failed").len(), FREE_FAILURES as usize);
    let throttled = only(&app, "login.throttled");
    assert_line(
        &throttled,
        &Expected {
            event: "login.throttled",
            outcome: "failure",
            function: "auth",
            metric: "LoginsThrottled",
            user_id: None,
        },
    );
    assert_eq!(throttled["source_ip"], ADDRESS);
    assert!(named(&app, "login.succeeded").is_empty());
    let mut secrets = secrets_of(&app, "alice").await;
    secrets.push(WRONG.to_owned());
    assert_no_secret(&app, &strs(&secrets));
}

async fn a_refresh_records_session_refreshed_and_a_reused_token_session_reuse_detected(
    users: Users,
) {
    let mut app = app(users);
    let clock = Clock::manual(Utc::now());
    app.clock = clock.clone();
    let id = app.registered("alice").await;
    let first = app.log_in_pair("alice").await;
    let second = app.refreshed(&first.refresh).await;
    // Past the grace window, the replaced token is a copy in someone else's hands.
    clock.advance(TimeDelta::seconds(11));
    assert_eq!(app.refresh(&first.refresh).await.status(), 401);

    assert_line(
        &only(&app, "session.refreshed"),
        &Expected {
            event: "session.refreshed",
            outcome: "success",
            function: "refresh",
            metric: "Refreshes",
            user_id: Some(&id),
        },
    );
    assert_line(
        &only(&app, "session.reuse_detected"),
        &Expected {
            event: "session.reuse_detected",
            outcome: "failure",
            function: "refresh",
            metric: "RefreshTokenReuse",
            user_id: Some(&id),
        },
    );
    let secrets = with_tokens(secrets_of(&app, "alice").await, &[&first, &second]);
    assert_no_secret(&app, &strs(&secrets));
}

async fn a_logout_records_session_logged_out_with_its_scope(users: Users) {
    let app = app(users);
    let id = app.registered("alice").await;
    let one = app.log_in_pair("alice").await;
    let two = app.log_in_pair("alice").await;
    let by_refresh_token = log_out(
        &app,
        post_json("/auth/logout", &json!({"refresh_token": one.refresh})),
    )
    .await;
    assert_eq!(by_refresh_token.status(), 204);
    let everywhere = log_out(
        &app,
        post_json_with_token("/auth/logout", &json!({"scope": "global"}), &two.access),
    )
    .await;
    assert_eq!(everywhere.status(), 204);

    let logouts = named(&app, "session.logged_out");
    assert_eq!(logouts.len(), 2, "{logouts:#?}");
    for (line, scope) in logouts.iter().zip(["session", "global"]) {
        assert_line(
            line,
            &Expected {
                event: "session.logged_out",
                outcome: "success",
                function: "logout",
                metric: "Logouts",
                user_id: Some(&id),
            },
        );
        assert_eq!(line["scope"], scope, "{line}");
    }
    let secrets = with_tokens(secrets_of(&app, "alice").await, &[&one, &two]);
    assert_no_secret(&app, &strs(&secrets));
}

async fn a_password_change_records_password_changed_and_a_wrong_current_password_login_failed(
    users: Users,
) {
    let app = app(users);
    let id = app.registered("alice").await;
    let pair = app.log_in_pair("alice").await;
    let old_hash = hash_of(&app, "alice").await;
    const NEW: &str = "a completely different passphrase";
    let refused = app.change_password(&pair.access, WRONG, NEW).await;
    assert_eq!(refused.status(), 401, "{}", json(&refused));
    let changed = app
        .change_password(&pair.access, STRONG_PASSWORD, NEW)
        .await;
    let next = TokenPair::from_response(&changed);

    assert_line(
        &only(&app, "login.failed"),
        &Expected {
            event: "login.failed",
            outcome: "failure",
            function: "change-password",
            metric: "LoginFailures",
            user_id: Some(&id),
        },
    );
    assert_line(
        &only(&app, "password.changed"),
        &Expected {
            event: "password.changed",
            outcome: "success",
            function: "change-password",
            metric: "PasswordChanges",
            user_id: Some(&id),
        },
    );
    let mut secrets = with_tokens(secrets_of(&app, "alice").await, &[&pair, &next]);
    secrets.extend([old_hash, NEW.to_owned(), WRONG.to_owned()]);
    assert_no_secret(&app, &strs(&secrets));
}

async fn deleting_the_account_records_account_deleted(users: Users) {
    let app = app(users);
    let id = app.registered("alice").await;
    let pair = app.log_in_pair("alice").await;
    let secrets = with_tokens(secrets_of(&app, "alice").await, &[&pair]);
    let deleted = app.delete_account(&pair.access, STRONG_PASSWORD).await;
    assert_eq!(deleted.status(), 204, "{}", json(&deleted));

    assert_line(
        &only(&app, "account.deleted"),
        &Expected {
            event: "account.deleted",
            outcome: "success",
            function: "delete-account",
            metric: "AccountDeletions",
            user_id: Some(&id),
        },
    );
    assert_no_secret(&app, &strs(&secrets));
}

async fn routes_that_change_nothing_record_nothing(users: Users) {
    let app = app(users);
    let (id, token) = app.signed_up("alice").await;
    let before = app.events.lines().len();
    assert_eq!(app.me(&token).await.status(), 200);
    assert_eq!(app.list(&token).await.status(), 200);
    assert_eq!(app.get_user(&id, &token).await.status(), 200);
    assert_eq!(app.events.lines().len(), before);
}

for_each_backend!(
    a_registration_records_user_registered_with_the_new_users_id,
    a_login_records_its_success_and_every_kind_of_failure_from_its_address,
    a_login_the_throttle_refuses_records_login_throttled,
    a_refresh_records_session_refreshed_and_a_reused_token_session_reuse_detected,
    a_logout_records_session_logged_out_with_its_scope,
    a_password_change_records_password_changed_and_a_wrong_current_password_login_failed,
    deleting_the_account_records_account_deleted,
    routes_that_change_nothing_record_nothing,
);
