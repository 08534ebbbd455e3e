//! The account's storage on every backend: the admin flag read with its user, set by name and listed; and a
//! deletion that takes the user's sessions and the login-attempt counters it is given in the same step.

use std::collections::BTreeSet;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;
use vimcar::config::DEFAULT_SESSION_POLICY;
use vimcar::login_attempts::{AttemptKey, Expiry};
use vimcar::sessions::Session;
use vimcar::users::{Account, User, UserStoreExt, Username};
use vimcar_tests::{TestStore, Users, user};

const DAY: Expiry = Expiry::AfterLast(chrono::TimeDelta::hours(24));

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn name(raw: &str) -> Username {
    Username::parse(raw).unwrap()
}

fn key(name: &str) -> AttemptKey {
    // Any lower-case hex will do: the throttle's keyed hashes are lower-case hex.
    AttemptKey::from_hex(name.bytes().map(|b| format!("{b:02x}")).collect())
}

/// The count under `key` so far (counting once more, which the tests no longer care about).
async fn counts(users: &Users, key: &AttemptKey) -> u32 {
    users.reserve(key, now(), DAY).await.unwrap().count
}

async fn stored_user(users: &Users, name: &str) -> User {
    let user = user(name);
    users.insert(&user, None).await.unwrap();
    user
}

async fn begun(users: &Users, user: &User) -> Session {
    let session = Session::begin(user.id, now(), &DEFAULT_SESSION_POLICY);
    assert!(users.create(&session).await.unwrap());
    session
}

async fn an_account_is_its_user_and_not_an_admin_until_made_one(users: Users) {
    let alice = stored_user(&users, "alice").await;
    let bob = stored_user(&users, "bob").await;
    let account = |user: &User, is_admin| {
        Some(Account {
            user: user.clone(),
            is_admin,
        })
    };
    assert_eq!(
        users.account(alice.id).await.unwrap(),
        account(&alice, false)
    );
    assert_eq!(users.account(Uuid::now_v7()).await.unwrap(), None);

    assert!(users.set_admin(&alice.username, true).await.unwrap());
    assert_eq!(
        users.account(alice.id).await.unwrap(),
        account(&alice, true)
    );
    // Setting it twice is the same as once; bob is untouched.
    assert!(users.set_admin(&alice.username, true).await.unwrap());
    assert_eq!(
        users.account(alice.id).await.unwrap(),
        account(&alice, true)
    );
    assert_eq!(users.account(bob.id).await.unwrap(), account(&bob, false));
    // The user itself reads back the same every other way.
    assert_eq!(users.by_id(alice.id).await.unwrap(), Some(alice.clone()));

    assert!(users.set_admin(&alice.username, false).await.unwrap());
    assert_eq!(
        users.account(alice.id).await.unwrap(),
        account(&alice, false)
    );
}

async fn setting_the_flag_of_an_unknown_user_answers_false_and_stores_nothing(store: TestStore) {
    let users = &store.users;
    assert!(!users.set_admin(&name("ghost"), true).await.unwrap());
    assert!(!users.set_admin(&name("ghost"), false).await.unwrap());
    assert_eq!(users.admins().await.unwrap(), Vec::<Uuid>::new());
    assert_eq!(users.by_username(&name("ghost")).await.unwrap(), None);
    if let Some(table) = &store.table {
        assert_eq!(table.stored_keys().await, BTreeSet::new());
    }
}

async fn admins_lists_exactly_the_administrators(store: TestStore) {
    let users = &store.users;
    assert_eq!(users.admins().await.unwrap(), Vec::<Uuid>::new());
    let alice = stored_user(users, "alice").await;
    let bob = stored_user(users, "bob").await;
    let carol = stored_user(users, "carol").await;
    assert_eq!(users.admins().await.unwrap(), Vec::<Uuid>::new());

    users.set_admin(&carol.username, true).await.unwrap();
    users.set_admin(&alice.username, true).await.unwrap();
    let mut expected = vec![alice.id, carol.id];
    expected.sort();
    assert_eq!(users.admins().await.unwrap(), expected);

    users.set_admin(&alice.username, false).await.unwrap();
    assert_eq!(users.admins().await.unwrap(), [carol.id]);
    // A deleted administrator is no longer one.
    assert!(users.delete(&carol.username).await.unwrap());
    assert_eq!(users.admins().await.unwrap(), Vec::<Uuid>::new());
    assert!(!users.account(bob.id).await.unwrap().unwrap().is_admin);
    if let Some(table) = &store.table {
        table.assert_only_whole_users().await;
    }
}

async fn delete_with_removes_the_user_its_sessions_and_the_counters_given(store: TestStore) {
    let users = &store.users;
    let alice = stored_user(users, "alice").await;
    let bob = stored_user(users, "bob").await;
    users.set_admin(&alice.username, true).await.unwrap();
    begun(users, &alice).await;
    begun(users, &alice).await;
    let bobs = begun(users, &bob).await;
    let (account, source, unrelated) = (key("account"), key("source"), key("unrelated"));
    for key in [&account, &source, &source, &unrelated] {
        users.reserve(key, now(), DAY).await.unwrap();
    }

    assert!(
        users
            .delete_with(&alice.username, &[account.clone(), source.clone()])
            .await
            .unwrap()
    );

    assert_eq!(users.account(alice.id).await.unwrap(), None);
    assert_eq!(users.by_username(&alice.username).await.unwrap(), None);
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), []);
    assert_eq!(users.admins().await.unwrap(), Vec::<Uuid>::new());
    assert_eq!(counts(users, &account).await, 0);
    assert_eq!(counts(users, &source).await, 0);
    // What was not given is left: another counter, another user and its session.
    assert_eq!(counts(users, &unrelated).await, 1);
    assert_eq!(users.sessions_of(bob.id).await.unwrap(), [bobs]);
    if let Some(table) = &store.table {
        assert_eq!(
            table.assert_only_whole_users().await,
            std::slice::from_ref(&bob)
        );
    }
    // The name and the address are free again.
    users.insert(&user("alice"), None).await.unwrap();
}

async fn delete_with_of_an_unknown_user_answers_false_and_keeps_the_counters(users: Users) {
    let counter = key("account");
    users.reserve(&counter, now(), DAY).await.unwrap();
    assert!(
        !users
            .delete_with(&name("ghost"), std::slice::from_ref(&counter))
            .await
            .unwrap()
    );
    assert_eq!(counts(&users, &counter).await, 1);
}

async fn delete_with_no_counters_and_counters_never_stored_both_delete(users: Users) {
    let alice = stored_user(&users, "alice").await;
    let bob = stored_user(&users, "bob").await;
    assert!(users.delete_with(&alice.username, &[]).await.unwrap());
    assert!(
        users
            .delete_with(&bob.username, &[key("never"), key("stored")])
            .await
            .unwrap()
    );
    assert_eq!(users.account(alice.id).await.unwrap(), None);
    assert_eq!(users.account(bob.id).await.unwrap(), None);
    assert!(!users.delete(&alice.username).await.unwrap());
}

for_each_backend!(
    an_account_is_its_user_and_not_an_admin_until_made_one,
    setting_the_flag_of_an_unknown_user_answers_false_and_stores_nothing,
    admins_lists_exactly_the_administrators,
    delete_with_removes_the_user_its_sessions_and_the_counters_given,
    delete_with_of_an_unknown_user_answers_false_and_keeps_the_counters,
    delete_with_no_counters_and_counters_never_stored_both_delete,
);
