//! When DynamoDB refuses connections or hangs, the repository answers `Unavailable` and the API 503 with
//! Retry-After, within a bounded time; nothing is half-written (no user, no session); and once DynamoDB is back,
//! everything works again. A user's deletion whose transaction fails, or whose answer is lost, leaves either the
//! whole user or nothing of it; so does an import, with the record of it.
//!
//! Each test runs a moto server of its own, so that it can break it.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::{Body, Response};
use serde_json::json;
use uuid::Uuid;
use vimcar::login_attempts::Expiry;
use vimcar::login_attempts::throttle::Source;
use vimcar::storage::StoreError;
use vimcar::storage::dynamodb::CALL_BUDGET;
use vimcar::storage::dynamodb::DynamoDb;
use vimcar::users::Username;
use vimcar::users::{ImportStoreExt, Imported, UserStoreExt};
use vimcar_tests::dynamodb::TestTable;
use vimcar_tests::faults::{Fault, Moto, Proxy};
use vimcar_tests::requests::{header, json, post_json};
use vimcar_tests::{STRONG_PASSWORD, TestApp, TokenPair, Users, user};

/// The repository's own budget, plus slack for a busy machine: far below a Lambda's 10 s either way.
const BOUND: Duration = CALL_BUDGET.saturating_add(Duration::from_secs(2));

/// Awaits `work`, asserting it ends within [`BOUND`].
async fn timed<T>(work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let output = work.await;
    let elapsed = started.elapsed();
    assert!(elapsed < BOUND, "took {elapsed:?}, more than {BOUND:?}");
    output
}

fn assert_503_with_retry_after(response: &Response<Body>) {
    assert_eq!(response.status(), 503, "{}", json(response));
    assert_eq!(header(response, "retry-after"), "1");
    assert_eq!(
        header(response, "content-type"),
        vimcar::response::PROBLEM_JSON
    );
}

fn assert_unavailable<T: Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

fn username(name: &str) -> Username {
    Username::parse(name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_unavailable_and_write_nothing() {
    let moto = Moto::start();
    let mut proxy = Proxy::start(moto.addr()).await;
    let table = TestTable::create(&proxy.url()).await;
    let users: Users = Arc::new(table.users.clone());
    let app = TestApp::new(Arc::clone(&users));
    assert_eq!(app.register("alice").await.status(), 201);
    let token = app.log_in("alice").await;

    proxy.cut();
    assert_unavailable(timed(users.insert(&user("bob"), None)).await);
    assert_unavailable(timed(users.credentials(&username("alice"))).await);
    assert_unavailable(timed(users.delete(&username("alice"))).await);
    assert_503_with_retry_after(&timed(app.register("carol")).await);
    let listing = app.list(&token);
    assert_503_with_retry_after(&timed(listing).await);

    proxy.restore().await;
    let stored = table.assert_only_whole_users().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].username, username("alice"));
    assert_eq!(app.register("bob").await.status(), 201);
    assert_eq!(app.listed_names(&token).await, ["alice", "bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_is_unavailable_within_the_budget_and_leaves_whole_users_only() {
    let moto = Moto::start();
    let table = TestTable::create(&moto.url()).await;
    let users: Users = Arc::new(table.users.clone());
    let app = TestApp::new(Arc::clone(&users));
    assert_eq!(app.register("alice").await.status(), 201);
    let token = app.log_in("alice").await;

    let (bob, alice) = (user("bob"), username("alice"));
    moto.pause();
    let listing = app.list(&token);
    let (inserted, registered, listed, found) = tokio::join!(
        timed(users.insert(&bob, None)),
        timed(app.register("carol")),
        timed(listing),
        timed(users.by_username(&alice)),
    );
    moto.resume();
    assert_unavailable(inserted);
    assert_503_with_retry_after(&registered);
    assert_503_with_retry_after(&listed);
    assert_unavailable(found);

    // The frozen server had received bob's and carol's writes and may apply them now that it runs again; a
    // transaction lands whole or not at all, so whatever is stored must be whole users.
    let stored = table.assert_only_whole_users().await;
    assert!(stored.iter().any(|u| u.username == username("alice")));
    assert_eq!(app.register("dave").await.status(), 201);
    assert!(app.listed_names(&token).await.contains(&"dave".to_owned()));
    assert!(users.delete(&username("alice")).await.unwrap());
    let stored = table.assert_only_whole_users().await;
    assert!(stored.iter().all(|u| u.username != username("alice")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_whose_session_cannot_be_written_stores_no_session() {
    let moto = Moto::start();
    let mut proxy = Proxy::start(moto.addr()).await;
    let table = TestTable::create(&moto.url()).await;
    let users: Users = Arc::new(table.users.clone());
    let mut app = TestApp::new(Arc::clone(&users));
    // The same table, with only the session port behind the proxy: the password check and the throttle's
    // counters work, and the session's write is the step that fails.
    let sessions = DynamoDb::connect(table.users.table().to_owned(), Some(&proxy.url()))
        .await
        .expect("the DynamoDB client builds");
    app.sessions = Arc::new(sessions);
    let alice: Uuid = app.registered("alice").await.parse().unwrap();
    let login = || {
        let body = json!({"username": "alice", "password": STRONG_PASSWORD});
        vimcar::handlers::log_in(&app, post_json("/auth", &body))
    };

    proxy.cut();
    assert_503_with_retry_after(&timed(login()).await);

    proxy.restore().await;
    table.assert_only_whole_users().await;
    assert_eq!(table.stored_sessions().await, BTreeSet::new());
    assert_eq!(table.listed_sessions(alice).await, BTreeSet::new());
    assert_eq!(users.sessions_of(alice).await.unwrap(), []);
    // Once DynamoDB is reachable again, the next login begins a session, whole.
    let response = login().await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    table.assert_only_whole_users().await;
    assert_eq!(users.sessions_of(alice).await.unwrap().len(), 1);
}

/// The operation name a TransactWriteItems request carries (`X-Amz-Target`): a user's deletion is one.
const TRANSACTION: &str = "DynamoDB_20120810.TransactWriteItems";

/// An app on a table behind `proxy`, with alice (two sessions) and bob (one), and one failed login of alice's.
async fn two_users_behind(proxy: &Proxy) -> (TestTable, TestApp, Vec<TokenPair>, TokenPair) {
    let table = TestTable::create(&proxy.url()).await;
    let app = TestApp::new(Arc::new(table.users.clone()));
    app.registered("alice").await;
    app.registered("bob").await;
    let wrong = json!({"username": "alice", "password": "wrong wrong wrong wrong"});
    let response = vimcar::handlers::log_in(&app, post_json("/auth", &wrong)).await;
    assert_eq!(response.status(), 401);
    let alice = vec![
        app.log_in_pair("alice").await,
        app.log_in_pair("alice").await,
    ];
    let bob = app.log_in_pair("bob").await;
    (table, app, alice, bob)
}

/// The count of `name`'s account-wide login counter (counting once more, which the tests no longer care about).
async fn counted(app: &TestApp, users: &Users, name: &str) -> u32 {
    let key = app.throttle.keys(name, Source::Unknown).account;
    let expiry = Expiry::AfterLast(chrono::TimeDelta::hours(1));
    users
        .reserve(&key, chrono::Utc::now(), expiry)
        .await
        .unwrap()
        .count
}

async fn session_ids(users: &Users, user: &vimcar::users::User) -> BTreeSet<String> {
    users
        .sessions_of(user.id)
        .await
        .unwrap()
        .iter()
        .map(|session| session.id.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_whose_transaction_fails_leaves_the_whole_user() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.addr()).await;
    let (table, app, alice_tokens, bob_tokens) = two_users_behind(&proxy).await;
    let users = Arc::clone(&app.users);

    proxy.fail(Fault::Refuse, TRANSACTION);
    assert_unavailable(timed(users.delete(&username("alice"))).await);
    let response = timed(app.delete_account(&alice_tokens[0].access, STRONG_PASSWORD)).await;
    assert_503_with_retry_after(&response);
    assert!(
        proxy.hits() >= 2,
        "the deletions' transactions were what failed"
    );

    proxy.heal();
    // Everything of alice is still there: the user, its reservations, both sessions, its password, and the
    // counter its failed login left.
    assert_eq!(counted(&app, &users, "alice").await, 1);
    let stored = table.assert_only_whole_users().await;
    let names: Vec<&str> = stored.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let alice = stored[0].clone();
    assert_eq!(session_ids(&users, &alice).await.len(), 2);
    for tokens in &alice_tokens {
        assert_eq!(app.me(&tokens.access).await.status(), 200);
    }
    app.log_in("alice").await;

    // Once DynamoDB answers again, the deletion goes through, whole.
    let bob = stored[1].clone();
    let bobs_sessions = session_ids(&users, &bob).await;
    let response = app
        .delete_account(&alice_tokens[1].access, STRONG_PASSWORD)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(table.assert_only_whole_users().await, [bob]);
    assert_eq!(table.stored_sessions().await, bobs_sessions);
    assert_eq!(table.listed_sessions(alice.id).await, BTreeSet::new());
    assert_eq!(app.me(&bob_tokens.access).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_whose_answer_is_lost_has_deleted_the_whole_user() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.addr()).await;
    let (table, app, alice_tokens, bob_tokens) = two_users_behind(&proxy).await;
    let users = Arc::clone(&app.users);
    let before = table.assert_only_whole_users().await;
    let (alice, bob) = (before[0].clone(), before[1].clone());
    let bobs_sessions = session_ids(&users, &bob).await;

    // DynamoDB commits the transaction, and the function never hears back.
    proxy.fail(Fault::LoseAnswer, TRANSACTION);
    let response = timed(app.delete_account(&alice_tokens[0].access, STRONG_PASSWORD)).await;
    assert!(proxy.hits() >= 1, "the deletion's transaction was sent");
    assert_503_with_retry_after(&response);

    proxy.heal();
    // Nothing of alice is left: no user, no reservation, no session.
    assert_eq!(table.assert_only_whole_users().await, [bob]);
    assert_eq!(table.stored_sessions().await, bobs_sessions);
    assert_eq!(session_ids(&users, &alice).await, BTreeSet::new());
    assert_eq!(counted(&app, &users, "alice").await, 0);
    for tokens in &alice_tokens {
        assert_eq!(app.me(&tokens.access).await.status(), 401);
    }
    // The client's retry finds the account gone; its name and address register again.
    assert_eq!(app.register("alice").await.status(), 201);
    assert_eq!(app.me(&bob_tokens.access).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_whose_first_answer_is_lost_is_retried_and_stored_once() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.addr()).await;
    let table = TestTable::create(&proxy.url()).await;
    let app = TestApp::new(Arc::new(table.users.clone()));

    // The transaction lands and its answer is lost; the SDK sends it again with the same ClientRequestToken, which
    // DynamoDB (and infra/moto-server) answers as it answered the first: not a conflict with the user just stored.
    proxy.fail(Fault::LoseFirstAnswer, TRANSACTION);
    let response = timed(app.register("alice")).await;
    assert_eq!(proxy.hits(), 1, "the registration's first answer was lost");
    assert_eq!(response.status(), 201, "{}", json(&response));
    let stored = table.assert_only_whole_users().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].username.as_str(), "alice");
    app.log_in_pair("alice").await;
    // Another registration of the same name is still a conflict: only the retry was answered as before.
    assert_eq!(app.register("alice").await.status(), 409);
}

/// What an import left: the users stored (whole, or the check fails) and the ids whose import is recorded.
async fn imported_state(table: &TestTable) -> (Vec<String>, BTreeSet<String>) {
    let users = table.assert_only_whole_users().await;
    let names = users
        .iter()
        .map(|u| u.username.as_str().to_owned())
        .collect();
    (names, table.import_records().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_whose_transaction_fails_writes_nothing_and_a_retry_imports_it_whole() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.addr()).await;
    let table = TestTable::create(&proxy.url()).await;
    let users: Users = Arc::new(table.users.clone());
    let account = vimcar_tests::imports::imported_account("alice", 400, true);
    let hash = vimcar_tests::imports::bcrypt_hash("alice's old password", 4);

    proxy.fail(Fault::Refuse, TRANSACTION);
    assert_unavailable(timed(users.import(&account, Some(&hash))).await);
    assert!(
        proxy.hits() >= 1,
        "the import's transaction was what failed"
    );

    proxy.heal();
    assert_eq!(imported_state(&table).await, (vec![], BTreeSet::new()));
    assert!(!users.imported_before(account.user.id).await.unwrap());
    assert_eq!(
        users.import(&account, Some(&hash)).await.unwrap(),
        Imported::New
    );
    assert_eq!(
        imported_state(&table).await,
        (
            vec!["alice".to_owned()],
            BTreeSet::from([account.user.id.to_string()])
        )
    );
    assert_eq!(users.account(account.user.id).await.unwrap(), Some(account));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_whose_answer_is_lost_has_stored_it_whole_and_a_rerun_changes_nothing() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.addr()).await;
    let table = TestTable::create(&proxy.url()).await;
    let users: Users = Arc::new(table.users.clone());
    let account = vimcar_tests::imports::imported_account("alice", 400, false);
    let hash = vimcar_tests::imports::bcrypt_hash("alice's old password", 4);

    // DynamoDB commits the transaction, and the command never hears back.
    proxy.fail(Fault::LoseAnswer, TRANSACTION);
    assert_unavailable(timed(users.import(&account, Some(&hash))).await);
    assert!(proxy.hits() >= 1, "the import's transaction was sent");

    proxy.heal();
    let whole = (
        vec!["alice".to_owned()],
        BTreeSet::from([account.user.id.to_string()]),
    );
    assert_eq!(imported_state(&table).await, whole);
    // The operator's re-run finds the record: nothing is written twice.
    assert_eq!(
        users.import(&account, Some(&hash)).await.unwrap(),
        Imported::Before
    );
    assert_eq!(imported_state(&table).await, whole);
    assert_eq!(users.account(account.user.id).await.unwrap(), Some(account));
}
