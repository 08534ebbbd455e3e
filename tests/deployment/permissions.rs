//! Each function's IAM role in `template.yaml` allows the DynamoDB calls its code makes, and nothing more.
//!
//! No AWS account is needed to check that: the handlers run in-process on moto, whose request recorder captures every
//! call each function makes while it serves a set of requests that goes down every path that touches storage. Each
//! call must be allowed by one of that function's statements (action, the table or index, the `LeadingKeys`
//! prefixes, and the `Attributes` its writes may name), and each statement must be used by some call. A handler that starts making a new call fails here, not
//! with AccessDenied after a deploy; a grant that no code needs any more fails here too.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::Client;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::StatusCode;
use serde_json::{Value as Json, json};
use serde_yaml_ng::Value as Yaml;
use std::sync::Arc;
use vimcar::login_attempts::throttle::Source;
use vimcar::storage::dynamodb::LISTING_INDEX;
use vimcar::storage::dynamodb::items::attempt_item;
use vimcar::users::{PasswordHash, Username};
use vimcar_tests::Users;
use vimcar_tests::dynamodb::{TestTable, endpoint};
use vimcar_tests::imports::import_user;
use vimcar_tests::requests::{json, post_json};

use super::template;

/// What a statement allows, or what a call needs: an action, "table" or "index NAME", and a partition key pattern
/// (`USER#*`, or `*` when a statement sets no `LeadingKeys` or a call names no key).
pub(super) type Access = (String, String, String);

/// What a statement allows of each access: the attributes a request may name (`dynamodb:Attributes`), or `None`
/// when it sets no such condition.
pub(super) type Grants = BTreeMap<Access, Option<BTreeSet<String>>>;

/// A call: what it needs, and every attribute its request names (keys, item attributes, expression names).
type Call = (Access, BTreeSet<String>);

/// `!GetAtt UsersTable.Arn` is "table"; `!Sub ${UsersTable.Arn}/index/NAME` is "index NAME". Anything else is a
/// resource no function should need.
fn resource_name(resource: &Yaml) -> String {
    let Yaml::Tagged(tagged) = resource else {
        panic!("a resource that is not the users table: {resource:?}");
    };
    match (tagged.tag.to_string().as_str(), tagged.value.as_str()) {
        ("!GetAtt", Some("UsersTable.Arn")) => "table".to_owned(),
        ("!Sub", Some(arn)) => match arn.strip_prefix("${UsersTable.Arn}/index/") {
            Some(index) => format!("index {index}"),
            None => panic!("a resource that is not the users table: {arn}"),
        },
        _ => panic!("a resource that is not the users table: {resource:?}"),
    }
}

/// What the role of the function deployed from `target/lambda/<binary>/` allows. Its `Policies` must be written-out
/// statements: SAM's policy templates (`DynamoDBReadPolicy`, `DynamoDBCrudPolicy`, ...) grant whole groups of
/// actions on the whole table.
///
/// The DynamoDB statements are the same under every `JwtAlgorithm`; the Secrets Manager ones, which depend on it, are
/// left to [`granted_secrets`](super::secrets::granted_secrets).
pub(super) fn allowed(binary: &str) -> Grants {
    let template = template();
    let function = super::secrets::function_resource(&template, binary, super::secrets::MODES[0]);
    let mut allowed = Grants::new();
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{binary} lists no Policies"));
    for policy in policies {
        let statements = policy["Statement"].as_sequence().unwrap_or_else(|| {
            panic!("{binary}: a policy that is not a list of statements: {policy:?}")
        });
        for statement in statements {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{binary}");
            let actions: Vec<&str> = match &statement["Action"] {
                Yaml::String(action) => vec![action.as_str()],
                Yaml::Sequence(actions) => actions.iter().filter_map(Yaml::as_str).collect(),
                other => panic!("{binary}: an Action that is not a name or a list: {other:?}"),
            };
            if actions
                .iter()
                .all(|action| action.starts_with("secretsmanager:"))
            {
                continue;
            }
            let resource = resource_name(&statement["Resource"]);
            let condition = &statement["Condition"];
            let keys: Vec<String> = match &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            {
                Yaml::Null => vec!["*".to_owned()],
                Yaml::Sequence(keys) => keys
                    .iter()
                    .map(|key| key.as_str().expect("a key pattern").to_owned())
                    .collect(),
                other => panic!("{binary}: LeadingKeys is not a list: {other:?}"),
            };
            let attributes: Option<BTreeSet<String>> =
                match &condition["ForAllValues:StringEquals"]["dynamodb:Attributes"] {
                    Yaml::Null => None,
                    Yaml::Sequence(names) => Some(
                        names
                            .iter()
                            .map(|name| name.as_str().expect("an attribute name").to_owned())
                            .collect(),
                    ),
                    other => panic!("{binary}: Attributes is not a list: {other:?}"),
                };
            let understood = [
                ("ForAllValues:StringLike", "dynamodb:LeadingKeys"),
                ("ForAllValues:StringEquals", "dynamodb:Attributes"),
            ];
            for (operator, keys) in condition.as_mapping().into_iter().flatten() {
                for key in keys.as_mapping().into_iter().flatten().map(|(key, _)| key) {
                    assert!(
                        understood.contains(&(
                            operator.as_str().unwrap_or_default(),
                            key.as_str().unwrap_or_default()
                        )),
                        "{binary}: a condition this test does not understand: {operator:?} {key:?}"
                    );
                }
            }
            for action in actions {
                assert!(
                    action.starts_with("dynamodb:") && !action.contains('*'),
                    "{binary}: {action} is not one named DynamoDB action"
                );
                for key in &keys {
                    let access = (action.to_owned(), resource.clone(), key.clone());
                    let merged = match (allowed.remove(&access), &attributes) {
                        (None, attributes) => attributes.clone(),
                        (Some(None), _) | (Some(Some(_)), None) => None,
                        (Some(Some(mut before)), Some(more)) => {
                            before.extend(more.iter().cloned());
                            Some(before)
                        }
                    };
                    allowed.insert(access, merged);
                }
            }
        }
    }
    allowed
}

/// Whether `allowed` covers `needed`: the same action and resource, and a key pattern that matches the call's key
/// (a trailing `*` matches any rest; a call without a key is only covered by a statement without `LeadingKeys`).
fn covers(allowed: &Access, needed: &Access) -> bool {
    let (action, resource, pattern) = allowed;
    let (needed_action, needed_resource, key) = needed;
    action == needed_action
        && resource == needed_resource
        && match pattern.strip_suffix('*') {
            Some("") => true,
            Some(prefix) => key != "*" && key.starts_with(prefix),
            None => pattern == key,
        }
}

/// The moto server's request recorder (`/moto-api/recorder/...`).
struct Recorder {
    base: String,
}

impl Recorder {
    fn new() -> Self {
        Self {
            base: format!("{}/moto-api/recorder", endpoint().trim_end_matches('/')),
        }
    }

    fn call(&self, what: &str) -> String {
        let url = format!("{}/{what}", self.base);
        let response = if what == "download-recording" {
            ureq::get(&url).call()
        } else {
            ureq::post(&url).send_empty()
        };
        response
            .unwrap_or_else(|e| panic!("moto's recorder: {what}: {e}"))
            .body_mut()
            .read_to_string()
            .expect("moto's recorder answers text")
    }

    fn start(&self) {
        self.call("reset-recording");
        self.call("start-recording");
    }

    /// Stops recording and answers every request recorded since `start`.
    fn stop_all(&self) -> Vec<Json> {
        self.call("stop-recording");
        let recording = self.call("download-recording");
        recording
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).expect("a recorded request is JSON"))
            .collect()
    }

    /// Stops recording and answers what each DynamoDB call recorded since `start` needed, on `table`.
    fn stop(&self, table: &str) -> Vec<Call> {
        self.stop_all()
            .iter()
            .flat_map(|entry| needs(entry, table))
            .collect()
    }
}

/// moto has one recorder: the tests that use it take turns.
static RECORDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A recorded request's `X-Amz-Target` header (`DynamoDB_20120810.GetItem`, `secretsmanager.GetSecretValue`).
fn target(entry: &Json) -> &str {
    entry["headers"]
        .as_object()
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
        })
        .and_then(|(_, value)| value.as_str())
        .unwrap_or_default()
}

/// A recorded request's JSON body.
fn body(entry: &Json) -> Json {
    let body = match (entry["body"].as_str(), entry["body_encoded"].as_bool()) {
        (Some(body), Some(true)) => BASE64.decode(body).expect("a base64 body"),
        (Some(body), _) => body.as_bytes().to_vec(),
        (None, _) => vec![],
    };
    serde_json::from_slice(&body).unwrap_or(Json::Null)
}

/// What one recorded request needs from IAM, if it was a DynamoDB call on `table`. A transaction needs, for each
/// of its items, the action of that item (IAM checks a transaction's Put as `dynamodb:PutItem`, and so on).
fn needs(entry: &Json, table: &str) -> Vec<Call> {
    let Some(operation) = target(entry).strip_prefix("DynamoDB_20120810.") else {
        return vec![];
    };
    let body = body(entry);
    let key_of = |item: &Json| item["pk"]["S"].as_str().unwrap_or("*").to_owned();
    let on_table = |request: &Json| request["TableName"].as_str() == Some(table);
    match operation {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| item.as_object().into_iter().flatten())
            .filter(|(_, request)| on_table(request))
            .map(|(kind, request)| {
                let action = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    "Get" => "GetItem",
                    other => panic!("an unknown transaction item {other}"),
                };
                let key = if kind == "Put" {
                    &request["Item"]
                } else {
                    &request["Key"]
                };
                (
                    (
                        format!("dynamodb:{action}"),
                        "table".to_owned(),
                        key_of(key),
                    ),
                    named_attributes(request),
                )
            })
            .collect(),
        _ if !on_table(&body) => vec![],
        "PutItem" => vec![(
            (
                "dynamodb:PutItem".to_owned(),
                "table".to_owned(),
                key_of(&body["Item"]),
            ),
            named_attributes(&body),
        )],
        "GetItem" | "UpdateItem" | "DeleteItem" => vec![(
            (
                format!("dynamodb:{operation}"),
                "table".to_owned(),
                key_of(&body["Key"]),
            ),
            named_attributes(&body),
        )],
        other => {
            let resource = match body["IndexName"].as_str() {
                Some(index) => format!("index {index}"),
                None => "table".to_owned(),
            };
            vec![(
                (format!("dynamodb:{other}"), resource, "*".to_owned()),
                named_attributes(&body),
            )]
        }
    }
}

/// Every attribute a request names, as IAM's `dynamodb:Attributes` sees them: the item's or key's attributes, the
/// expression attribute names, and the names written bare in its expressions.
fn named_attributes(request: &Json) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for part in ["Item", "Key"] {
        names.extend(
            request[part]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, _)| name.clone()),
        );
    }
    names.extend(
        request["ExpressionAttributeNames"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, name)| name.as_str().map(str::to_owned)),
    );
    for expression in [
        "UpdateExpression",
        "ConditionExpression",
        "KeyConditionExpression",
        "ProjectionExpression",
        "FilterExpression",
    ] {
        if let Some(text) = request[expression].as_str() {
            names.extend(bare_names(text));
        }
    }
    names
}

/// The attribute names written without `#` in a DynamoDB expression (`attribute_not_exists(pk)`, `user_id = :id`).
fn bare_names(expression: &str) -> Vec<String> {
    const WORDS: &[&str] = &[
        "SET",
        "ADD",
        "REMOVE",
        "DELETE",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "size",
        "if_not_exists",
        "list_append",
    ];
    let mut names = Vec::new();
    let mut token = String::new();
    // Whether the token being read follows `#` or `:` (a name or value placeholder).
    let mut placeholder = false;
    for c in expression.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' {
            token.push(c);
            continue;
        }
        let bare = !placeholder
            && !WORDS.contains(&token.as_str())
            && token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        if bare {
            names.push(token.clone());
        }
        token.clear();
        placeholder = c == '#' || c == ':';
    }
    names
}

/// Asserts that every call in `calls` is allowed to `binary`, attributes included, and that every grant of `binary`
/// was used.
fn assert_least_privilege(binary: &str, calls: &[Call]) {
    let allowed = allowed(binary);
    let refused: Vec<&Call> = calls
        .iter()
        .filter(|(access, names)| {
            !allowed.iter().any(|(grant, attributes)| {
                covers(grant, access)
                    && attributes
                        .as_ref()
                        .is_none_or(|attributes| names.is_subset(attributes))
            })
        })
        .collect();
    assert!(
        refused.is_empty(),
        "{binary} makes DynamoDB calls its role in template.yaml does not allow (action, resource, key): \
         {refused:#?}\nallowed: {allowed:#?}"
    );
    let unused: Vec<&Access> = allowed
        .keys()
        .filter(|grant| !calls.iter().any(|(call, _)| covers(grant, call)))
        .collect();
    assert!(
        unused.is_empty(),
        "{binary}'s role in template.yaml allows what none of its calls needs: {unused:#?}\ncalls: {calls:#?}"
    );
}

/// A client that bypasses the repository, to set up states the API cannot make on its own.
fn raw_client() -> Client {
    vimcar_tests::dynamodb::raw_client(&endpoint())
}

/// An Argon2id hash with weaker parameters than the current ones, as an older release stored: a login upgrades it.
fn outdated_hash(password: &str) -> PasswordHash {
    use argon2::PasswordHasher as _;
    let params = argon2::Params::new(8192, 1, 1, None).expect("valid parameters");
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    PasswordHash::new(
        argon2
            .hash_password(password.as_bytes())
            .expect("hashing works")
            .to_string(),
    )
}

/// The password `TestApp::register` gives every user.
const PASSWORD: &str = vimcar_tests::STRONG_PASSWORD;

fn login(username: &str, password: &str) -> lambda_http::Request {
    post_json(
        "/auth",
        &json!({"username": username, "password": password}),
    )
}

/// Logs `username` in with [`PASSWORD`], asserting a 200: the new session's access and refresh tokens.
async fn session(app: &vimcar_tests::TestApp, username: &str) -> (String, String) {
    let response = vimcar::handlers::log_in(app, login(username, PASSWORD)).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", json(&response));
    let body = json(&response);
    let token = |name: &str| {
        body[name]
            .as_str()
            .expect("a login answers tokens")
            .to_owned()
    };
    (token("access_token"), token("refresh_token"))
}

fn refresh(refresh_token: &str) -> lambda_http::Request {
    post_json("/auth/refresh", &json!({"refresh_token": refresh_token}))
}

/// `method path` with a JSON `body` and `Authorization: JWT <token>`.
fn with_token(method: &str, path: &str, body: &Json, token: &str) -> lambda_http::Request {
    let mut request = post_json(path, body);
    *request.method_mut() = method.parse().expect("an HTTP method");
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        format!("JWT {token}").parse().expect("a header value"),
    );
    request
}

/// `GET /api/users/{id}` for `id`, with `token`, its path parameter set as API Gateway sets it.
fn get_user(id: &str, token: &str) -> lambda_http::Request {
    use lambda_http::RequestExt as _;
    vimcar_tests::requests::get_with_token(&format!("/api/users/{id}"), token).with_path_parameters(
        std::collections::HashMap::from([("id".to_owned(), id.to_owned())]),
    )
}

/// Stores an expired login-attempt counter for `username` from an unknown source (the test requests carry none), so
/// that the next failed attempt replaces it with a fresh one (a Put) rather than adding to it.
async fn expire_source_counter(app: &vimcar_tests::TestApp, table: &str, username: &str) {
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let keys = app.throttle.keys(username, Source::Unknown);
    raw_client()
        .put_item()
        .table_name(table)
        .set_item(Some(attempt_item(
            &keys.source,
            3,
            an_hour_ago,
            an_hour_ago.timestamp(),
        )))
        .send()
        .await
        .expect("an expired login-attempt counter is stored");
}

#[tokio::test]
async fn every_dynamodb_call_each_function_makes_is_allowed_and_every_grant_is_used() {
    let _turn = RECORDING.lock().await;
    let table = TestTable::create(&endpoint()).await;
    let name = table.users.table().to_owned();
    let users: Users = Arc::new(table.users.clone());
    let app = vimcar_tests::TestApp::new(users.clone());
    let recorder = Recorder::new();
    let mut checked = BTreeSet::new();

    // register: a new user, and the same one again (a conflict).
    recorder.start();
    let created = app.register("alice").await;
    let conflict = app.register("alice").await;
    let calls = recorder.stop(&name);
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_least_privilege("register", &calls);
    checked.insert("register");

    // auth: a wrong password, an unknown name, then the right password (the counters are reset). Then a failure over
    // an expired counter (replaced by a fresh one), and a success with an outdated hash (upgraded).
    let alice = Username::parse("alice").unwrap();
    recorder.start();
    let wrong = vimcar::handlers::log_in(&app, login("alice", "not the right password")).await;
    let unknown = vimcar::handlers::log_in(&app, login("nobody", PASSWORD)).await;
    let right = vimcar::handlers::log_in(&app, login("alice", PASSWORD)).await;
    let mut calls = recorder.stop(&name);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(right.status(), StatusCode::OK);
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let alice_here = app.throttle.keys("alice", Source::Unknown);
    raw_client()
        .put_item()
        .table_name(&name)
        .set_item(Some(attempt_item(
            &alice_here.source,
            3,
            an_hour_ago,
            an_hour_ago.timestamp(),
        )))
        .send()
        .await
        .expect("an expired login-attempt counter is stored");
    let old = outdated_hash(PASSWORD);
    assert!(users.set_password(&alice, &old).await.unwrap());
    recorder.start();
    let wrong = vimcar::handlers::log_in(&app, login("alice", "not the right password")).await;
    let right = vimcar::handlers::log_in(&app, login("alice", PASSWORD)).await;
    calls.extend(recorder.stop(&name));
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(right.status(), StatusCode::OK);
    let stored = users
        .credentials(&alice)
        .await
        .unwrap()
        .unwrap()
        .hash
        .unwrap();
    assert_ne!(stored.as_str(), old.as_str(), "the login upgraded the hash");
    // Users imported from the Flask original log in with their bcrypt passwords: the user's item is read (its email,
    // for today's password rules), and the hash replaced with password_change_required SET (a password the rules
    // refuse) or REMOVEd.
    for (imported, password, flagged) in [("foo", "bar", true), ("ingrid", PASSWORD, false)] {
        import_user(&users, imported, password).await;
        recorder.start();
        let response = vimcar::handlers::log_in(&app, login(imported, password)).await;
        let upgrade = recorder.stop(&name);
        assert_eq!(response.status(), StatusCode::OK, "{}", json(&response));
        assert_eq!(json(&response)["password_change_required"], flagged);
        assert!(
            upgrade.iter().any(
                |((action, _, key), attributes)| action == "dynamodb:UpdateItem"
                    && key.starts_with("USERNAME#")
                    && attributes.contains("password_change_required")
            ),
            "the upgrade names the flag: {upgrade:?}"
        );
        calls.extend(upgrade);
    }
    // Each success above began a session. Fill alice's up to the limit, then one login more ends the oldest: the user's
    // session list is read, and the evicted session's item deleted in the login's transaction.
    for _ in 2..vimcar::sessions::MAX_SESSIONS_PER_USER {
        session(&app, "alice").await;
    }
    recorder.start();
    let (token, _) = session(&app, "alice").await;
    let evicting = recorder.stop(&name);
    assert!(
        evicting
            .iter()
            .any(|((action, _, key), _)| action == "dynamodb:DeleteItem"
                && key.starts_with(vimcar::storage::dynamodb::items::SESSION_PREFIX)),
        "the login beyond the limit deletes the oldest session: {evicting:?}"
    );
    calls.extend(evicting);
    assert_least_privilege("auth", &calls);
    checked.insert("auth");

    // list-users: a page with a valid token.
    recorder.start();
    let listed = app.list(&token).await;
    let calls = recorder.stop(&name);
    assert_eq!(listed.status(), StatusCode::OK);
    assert!(
        calls.iter().any(|(access, _)| access
            == &(
                "dynamodb:Query".to_owned(),
                format!("index {LISTING_INDEX}"),
                "*".to_owned()
            )),
        "listing reads the listing index: {calls:?}"
    );
    assert_least_privilege("list-users", &calls);
    checked.insert("list-users");

    // refresh: a rotation, the next one, then the first token again (reuse, which ends the session).
    assert_eq!(app.register("bob").await.status(), StatusCode::CREATED);
    let (_, first) = session(&app, "bob").await;
    recorder.start();
    let rotated = vimcar::handlers::refresh(&app, refresh(&first)).await;
    assert_eq!(rotated.status(), StatusCode::OK, "{}", json(&rotated));
    let second = json(&rotated)["refresh_token"].as_str().unwrap().to_owned();
    let again = vimcar::handlers::refresh(&app, refresh(&second)).await;
    assert_eq!(again.status(), StatusCode::OK, "{}", json(&again));
    let reused = vimcar::handlers::refresh(&app, refresh(&first)).await;
    let calls = recorder.stop(&name);
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(&reused)["type"], "/problems/session-ended");
    assert_least_privilege("refresh", &calls);
    checked.insert("refresh");

    // logout: one session by its refresh token, one by its access token (checked first), then every other one.
    let (_, by_refresh) = session(&app, "bob").await;
    let (by_access, _) = session(&app, "bob").await;
    let (_, global) = session(&app, "bob").await;
    let (remaining, _) = session(&app, "bob").await;
    recorder.start();
    let local = vimcar::handlers::log_out(
        &app,
        post_json("/auth/logout", &json!({"refresh_token": by_refresh})),
    )
    .await;
    let with_access = vimcar::handlers::log_out(
        &app,
        vimcar_tests::requests::request(
            "POST",
            "/auth/logout",
            &[("authorization", &format!("JWT {by_access}"))],
        ),
    )
    .await;
    let everywhere = vimcar::handlers::log_out(
        &app,
        post_json(
            "/auth/logout",
            &json!({"refresh_token": global, "scope": "global"}),
        ),
    )
    .await;
    let calls = recorder.stop(&name);
    for response in [&local, &with_access, &everywhere] {
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        app.list(&remaining).await.status(),
        StatusCode::UNAUTHORIZED,
        "the global logout ended bob's other sessions"
    );
    assert_least_privilege("logout", &calls);
    checked.insert("logout");

    // me: who the caller is, with a valid token.
    let (carol_id, carol) = app.signed_up("carol").await;
    recorder.start();
    let answered = vimcar::handlers::me(
        &app,
        vimcar_tests::requests::get_with_token("/api/users/me", &carol),
    )
    .await;
    let calls = recorder.stop(&name);
    assert_eq!(answered.status(), StatusCode::OK, "{}", json(&answered));
    assert_eq!(json(&answered)["id"], carol_id.as_str());
    assert_least_privilege("me", &calls);
    checked.insert("me");

    // get-user: the caller itself, another user, and an id no user has.
    let bob_id = json(&app.list(&carol).await)
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "bob")
        .expect("bob is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    recorder.start();
    let own = vimcar::handlers::get_user(&app, get_user(&carol_id, &carol)).await;
    let other = vimcar::handlers::get_user(&app, get_user(&bob_id, &carol)).await;
    let unknown = vimcar::handlers::get_user(
        &app,
        get_user("0192f4a8-6d1e-7c3b-9a5f-2e8d4c6b1a90", &carol),
    )
    .await;
    let calls = recorder.stop(&name);
    assert_eq!(own.status(), StatusCode::OK, "{}", json(&own));
    assert_eq!(other.status(), StatusCode::OK, "{}", json(&other));
    assert_eq!(json(&other)["username"], "bob");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_least_privilege("get-user", &calls);
    checked.insert("get-user");

    // change-password: a wrong current password over an expired counter (replaced), then the right one: the counters
    // reset, the hash replaced, every session of carol's ended (two of them) and a new one begun.
    let second = app.log_in("carol").await;
    expire_source_counter(&app, &name, "carol").await;
    let new_password = "plum tractor violin harbour seventeen";
    let change = |current: &str, token: &str| {
        with_token(
            "POST",
            "/api/users/me/password",
            &json!({"current_password": current, "new_password": new_password}),
            token,
        )
    };
    recorder.start();
    let wrong =
        vimcar::handlers::change_password(&app, change("not the right password", &carol)).await;
    let changed = vimcar::handlers::change_password(&app, change(PASSWORD, &carol)).await;
    let calls = recorder.stop(&name);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{}", json(&wrong));
    assert_eq!(changed.status(), StatusCode::OK, "{}", json(&changed));
    assert_eq!(
        app.list(&second).await.status(),
        StatusCode::UNAUTHORIZED,
        "the change ended carol's other session"
    );
    assert_least_privilege("change-password", &calls);
    checked.insert("change-password");

    // delete-account: a wrong password over an expired counter, then the right one: the user, its reservations,
    // its sessions and its counters deleted in one transaction.
    let (_, dave) = app.signed_up("dave").await;
    app.log_in("dave").await;
    expire_source_counter(&app, &name, "dave").await;
    let delete = |password: &str| {
        with_token(
            "DELETE",
            "/api/users/me",
            &json!({ "password": password }),
            &dave,
        )
    };
    recorder.start();
    let wrong = vimcar::handlers::delete_account(&app, delete("not the right password")).await;
    let deleted = vimcar::handlers::delete_account(&app, delete(PASSWORD)).await;
    let calls = recorder.stop(&name);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{}", json(&wrong));
    assert_eq!(
        deleted.status(),
        StatusCode::NO_CONTENT,
        "{}",
        json(&deleted)
    );
    assert!(
        calls
            .iter()
            .any(|((action, _, key), _)| action == "dynamodb:DeleteItem"
                && key.starts_with(vimcar::storage::dynamodb::items::SESSION_PREFIX)),
        "the deletion deletes dave's sessions: {calls:?}"
    );
    assert_eq!(
        app.register("dave").await.status(),
        StatusCode::CREATED,
        "dave's name is free again"
    );
    assert_least_privilege("delete-account", &calls);
    checked.insert("delete-account");

    // jwks: a table-less function (its registry entry lists no DynamoDB action), whose role grants none.
    assert!(
        allowed("jwks").is_empty(),
        "jwks reads no table, and its role in template.yaml may not either"
    );
    checked.insert("jwks");

    let registered: BTreeSet<&str> = vimcar::routes::FUNCTIONS
        .iter()
        .map(|function| function.name)
        .collect();
    assert_eq!(
        checked, registered,
        "every function of the registry has its calls checked here (CONTRIBUTING.md, \"Adding a route\")"
    );
}

/// The secrets each function reads from Secrets Manager at start-up (`keys::load`, as `routes::serve` calls it),
/// configured from its environment in template.yaml under each algorithm, are exactly what its role there may read.
/// moto serves the template's three secrets under fresh names; the recorder sees every GetSecretValue.
#[tokio::test]
async fn every_secret_each_function_reads_at_start_up_is_granted_and_every_grant_is_read() {
    use super::secrets::{MODES, environment, granted_secrets, secret_resources};
    use vimcar::keys::{KeyRecord, KeySet, Secrets};

    let _turn = RECORDING.lock().await;
    let secrets = Secrets::connect(Some(&endpoint()))
        .await
        .expect("a Secrets Manager client for moto");
    let now = chrono::Utc::now();
    let signers = KeySet {
        keys: vec![KeyRecord::generate(now, now)],
    };
    let run = uuid::Uuid::now_v7();
    // The template's secrets by logical id, each with the name it gets on moto and its value.
    let values = [
        (
            "SigningSecret",
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01".to_owned(),
        ),
        (
            "JwtSigningKeys",
            serde_json::to_string(&signers).expect("a key set is JSON"),
        ),
        (
            "JwtPublicKeys",
            serde_json::to_string(&signers.public()).expect("a key set is JSON"),
        ),
    ];
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (logical, value) in values {
        let name = format!("{logical}-{run}");
        secrets
            .create(&name, &value)
            .await
            .unwrap_or_else(|e| panic!("storing {name} on moto: {e:#}"));
        names.insert(logical.to_owned(), name);
    }
    assert_eq!(
        names.keys().cloned().collect::<BTreeSet<_>>(),
        secret_resources(),
        "the template's secrets are the three this test stores"
    );
    let logical_of = |name: &str| {
        names
            .iter()
            .find(|(_, stored)| stored.as_str() == name)
            .map(|(logical, _)| logical.clone())
    };

    for mode in MODES {
        for function in vimcar::routes::FUNCTIONS {
            let binary = function.name;
            // The token variables as the template sets them: each !Ref to a secret replaced by its name on moto, to
            // JwtAlgorithm and JwtAcceptHs256 by the mode's values.
            let variables: BTreeMap<String, String> = environment(binary, mode)
                .into_iter()
                .filter_map(|(variable, value)| {
                    let value = match &value {
                        Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
                            let target = tagged.value.as_str()?;
                            match mode.parameter(target) {
                                Some(parameter) => parameter.as_str()?.to_owned(),
                                None => names.get(target)?.clone(),
                            }
                        }
                        Yaml::String(text) => text.clone(),
                        Yaml::Number(number) => number.to_string(),
                        _ => return None,
                    };
                    Some((variable, value))
                })
                .chain([("SECRETS_MANAGER_ENDPOINT".to_owned(), endpoint())])
                .collect();
            let config =
                vimcar::config::TokenConfig::from_lookup(|name| variables.get(name).cloned())
                    .unwrap_or_else(|e| {
                        panic!("{binary} ({mode:?}): its environment is refused: {e}")
                    });

            recorder_start();
            let loaded = vimcar::keys::load(&config, function.keys).await;
            let recorded = Recorder::new().stop_all();
            if let Err(e) = loaded {
                panic!(
                    "{binary} ({mode:?}) does not start with its environment in template.yaml: {e:#}"
                );
            }
            let read: BTreeSet<String> = recorded
                .iter()
                .filter(|entry| target(entry).starts_with("secretsmanager."))
                .map(|entry| {
                    assert_eq!(
                        target(entry),
                        "secretsmanager.GetSecretValue",
                        "{binary} ({mode:?}) only reads secrets at start-up"
                    );
                    let id = body(entry)["SecretId"]
                        .as_str()
                        .expect("GetSecretValue names a SecretId")
                        .to_owned();
                    logical_of(&id).unwrap_or_else(|| {
                        panic!("{binary} ({mode:?}) read {id}, which is none of the stack's")
                    })
                })
                .collect();
            assert_eq!(
                read,
                granted_secrets(binary, mode),
                "{binary} ({mode:?}): the secrets it reads at start-up (left) are not the ones its role in \
                 template.yaml may read (right, secretsmanager:GetSecretValue)"
            );
        }
    }
}

/// Starts a fresh recording.
fn recorder_start() {
    Recorder::new().start();
}
