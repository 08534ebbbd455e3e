//! The repository behaviour suite: written once against the `UserStore` trait and run on every backend.

use std::collections::HashSet;

use vimcar::login_attempts::AttemptKey;
use vimcar::login_attempts::Attempts;
use vimcar::login_attempts::Expiry;
use vimcar::storage::StoreError;
use vimcar::users::UserStoreExt;
use vimcar::users::{Cursor, Email, PageSize, PasswordHash, UniqueField, User, Username};
use vimcar_tests::{Users, user};

fn hash(text: &str) -> PasswordHash {
    PasswordHash::new(format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${text}"))
}

async fn stored_hash(users: &Users, username: &Username) -> Option<PasswordHash> {
    users.credentials(username).await.unwrap().unwrap().hash
}

async fn all_users(users: &Users) -> Vec<User> {
    users
        .list(None, PageSize::new(1000).unwrap())
        .await
        .unwrap()
        .users
}

async fn an_inserted_user_can_be_read_back_every_way(users: Users) {
    let alice = user("alice");
    users.insert(&alice, Some(&hash("a"))).await.unwrap();

    assert_eq!(users.by_id(alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        users.by_username(&alice.username).await.unwrap(),
        Some(alice.clone())
    );
    let credentials = users.credentials(&alice.username).await.unwrap().unwrap();
    assert_eq!(credentials.user_id, alice.id);
    assert_eq!(credentials.hash, Some(hash("a")));
    assert_eq!(all_users(&users).await, vec![alice]);
}

async fn unknown_users_are_absent(users: Users) {
    users.insert(&user("alice"), None).await.unwrap();
    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(users.by_id(user("nobody").id).await.unwrap(), None);
    assert_eq!(users.by_username(&nobody).await.unwrap(), None);
    assert!(users.credentials(&nobody).await.unwrap().is_none());
}

async fn a_taken_username_is_a_conflict_and_writes_nothing(users: Users) {
    let alice = user("alice");
    users.insert(&alice, Some(&hash("a"))).await.unwrap();
    let mut impostor = user("other");
    impostor.username = alice.username.clone();

    let err = users.insert(&impostor, Some(&hash("b"))).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(f) if f == &[UniqueField::Username]),
        "{err:?}"
    );
    assert_eq!(all_users(&users).await, vec![alice.clone()]);
    // The other user's email was not reserved by the failed attempt.
    let mut retry = user("bob");
    retry.email = impostor.email;
    users.insert(&retry, None).await.unwrap();
    // And the original password is untouched.
    assert_eq!(stored_hash(&users, &alice.username).await, Some(hash("a")));
}

async fn a_taken_email_is_a_conflict_and_writes_nothing(users: Users) {
    let alice = user("alice");
    users.insert(&alice, None).await.unwrap();
    let mut impostor = user("mallory");
    impostor.email = alice.email.clone();

    let err = users.insert(&impostor, None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(f) if f == &[UniqueField::Email]),
        "{err:?}"
    );
    assert_eq!(all_users(&users).await, vec![alice]);
    assert!(
        users
            .by_username(&impostor.username)
            .await
            .unwrap()
            .is_none()
    );
    // The username of the failed attempt is still free.
    users.insert(&user("mallory"), None).await.unwrap();
}

async fn a_conflict_on_both_fields_names_both(users: Users) {
    let alice = user("alice");
    users.insert(&alice, None).await.unwrap();
    let mut twin = user("twin");
    twin.username = alice.username.clone();
    twin.email = alice.email.clone();
    let err = users.insert(&twin, None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(f) if f == &[UniqueField::Username, UniqueField::Email]),
        "{err:?}"
    );
}

/// `admin` with a Cyrillic `а`: another username, with the same skeleton.
const CYRILLIC_ADMIN: &str = "\u{430}dmin";

async fn a_look_alike_of_a_taken_username_is_a_conflict_and_writes_nothing(users: Users) {
    let admin = user("admin");
    users.insert(&admin, Some(&hash("a"))).await.unwrap();
    let look_alike = User::new(
        Username::parse(CYRILLIC_ADMIN).unwrap(),
        Email::parse("impostor@example.com").unwrap(),
    );
    assert_ne!(look_alike.username, admin.username);

    let err = users.insert(&look_alike, None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(f) if f == &[UniqueField::Username]),
        "{err:?}"
    );
    assert_eq!(all_users(&users).await, vec![admin.clone()]);
    assert!(
        users
            .by_username(&look_alike.username)
            .await
            .unwrap()
            .is_none()
    );
    assert!(users.by_id(look_alike.id).await.unwrap().is_none());
    // Neither its username nor its email was reserved by the failed attempt.
    let mut retry = user("impostor");
    retry.email = look_alike.email.clone();
    users.insert(&retry, None).await.unwrap();
    assert_eq!(stored_hash(&users, &admin.username).await, Some(hash("a")));
}

async fn a_look_alike_with_a_taken_email_names_both_fields(users: Users) {
    let admin = user("admin");
    users.insert(&admin, None).await.unwrap();
    let twin = User {
        username: Username::parse(CYRILLIC_ADMIN).unwrap(),
        email: admin.email.clone(),
        ..user("twin")
    };
    let err = users.insert(&twin, None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(f) if f == &[UniqueField::Username, UniqueField::Email]),
        "{err:?}"
    );
}

async fn deleting_a_user_frees_its_skeleton(users: Users) {
    let admin = user("admin");
    users.insert(&admin, None).await.unwrap();
    assert!(users.delete(&admin.username).await.unwrap());
    let look_alike = User::new(
        Username::parse(CYRILLIC_ADMIN).unwrap(),
        Email::parse("admin@example.com").unwrap(),
    );
    users.insert(&look_alike, None).await.unwrap();
    assert_eq!(all_users(&users).await, vec![look_alike]);
}

async fn a_user_without_a_password_has_no_hash(users: Users) {
    let alice = user("alice");
    users.insert(&alice, None).await.unwrap();
    let credentials = users.credentials(&alice.username).await.unwrap().unwrap();
    assert_eq!(credentials.user_id, alice.id);
    assert_eq!(credentials.hash, None);
}

async fn setting_a_password_replaces_the_hash(users: Users) {
    let alice = user("alice");
    users.insert(&alice, None).await.unwrap();
    assert!(
        users
            .set_password(&alice.username, &hash("new"))
            .await
            .unwrap()
    );
    assert_eq!(
        stored_hash(&users, &alice.username).await,
        Some(hash("new"))
    );
    assert!(
        users
            .set_password(&alice.username, &hash("newer"))
            .await
            .unwrap()
    );
    assert_eq!(
        stored_hash(&users, &alice.username).await,
        Some(hash("newer"))
    );
    assert_eq!(users.by_id(alice.id).await.unwrap(), Some(alice));
}

async fn setting_the_password_of_an_unknown_user_changes_nothing(users: Users) {
    let nobody = Username::parse("nobody").unwrap();
    assert!(!users.set_password(&nobody, &hash("x")).await.unwrap());
    assert!(users.by_username(&nobody).await.unwrap().is_none());
    assert!(all_users(&users).await.is_empty());
}

async fn deleting_a_user_frees_its_username_and_email(users: Users) {
    let alice = user("alice");
    let bob = user("bob");
    users.insert(&alice, Some(&hash("a"))).await.unwrap();
    users.insert(&bob, None).await.unwrap();

    assert!(users.delete(&alice.username).await.unwrap());
    assert_eq!(users.by_id(alice.id).await.unwrap(), None);
    assert!(users.credentials(&alice.username).await.unwrap().is_none());
    assert_eq!(all_users(&users).await, vec![bob]);
    assert!(!users.delete(&alice.username).await.unwrap());

    let again = user("alice");
    users.insert(&again, None).await.unwrap();
    assert_eq!(
        users.by_username(&again.username).await.unwrap(),
        Some(again)
    );
}

async fn pages_list_every_user_exactly_once_in_registration_order(users: Users) {
    let mut inserted = Vec::new();
    for i in 0..7 {
        let u = user(&format!("user{i}"));
        users.insert(&u, None).await.unwrap();
        inserted.push(u);
    }
    let size = PageSize::new(3).unwrap();
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut after = None;
    loop {
        let page = users.list(after, size).await.unwrap();
        sizes.push(page.users.len());
        seen.extend(page.users);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(seen, inserted);
}

async fn a_page_that_ends_the_listing_has_no_next_cursor(users: Users) {
    for i in 0..3 {
        users
            .insert(&user(&format!("user{i}")), None)
            .await
            .unwrap();
    }
    let page = users.list(None, PageSize::new(3).unwrap()).await.unwrap();
    assert_eq!(page.users.len(), 3);
    assert_eq!(page.next, None);

    let page = users.list(None, PageSize::new(2).unwrap()).await.unwrap();
    assert_eq!(page.next, Some(Cursor::after(page.users[1].id)));
}

async fn an_empty_store_lists_an_empty_page(users: Users) {
    let page = users.list(None, PageSize::default()).await.unwrap();
    assert!(page.users.is_empty());
    assert_eq!(page.next, None);
}

async fn a_cursor_stays_valid_after_its_user_is_deleted(users: Users) {
    let all: Vec<User> = (0..4).map(|i| user(&format!("user{i}"))).collect();
    for u in &all {
        users.insert(u, None).await.unwrap();
    }
    let first = users.list(None, PageSize::new(2).unwrap()).await.unwrap();
    users.delete(&all[1].username).await.unwrap();
    let rest = users
        .list(first.next, PageSize::new(2).unwrap())
        .await
        .unwrap();
    assert_eq!(rest.users, all[2..].to_vec());
}

async fn listing_never_shows_uniqueness_bookkeeping(users: Users) {
    // Many users with distinct emails: a backend that stores extra items per username or email must not list them.
    let mut ids = HashSet::new();
    for i in 0..25 {
        let u = user(&format!("person{i}"));
        ids.insert(u.id);
        users.insert(&u, Some(&hash("x"))).await.unwrap();
    }
    let listed: HashSet<_> = all_users(&users).await.into_iter().map(|u| u.id).collect();
    assert_eq!(listed, ids);
}

async fn upgrading_twice_is_harmless(users: Users) {
    let alice = user("alice");
    users.insert(&alice, None).await.unwrap();
    users.upgrade().await.unwrap();
    users.upgrade().await.unwrap();
    assert_eq!(all_users(&users).await, vec![alice]);
}

async fn stored_values_keep_their_normalised_form(users: Users) {
    let odd = User::new(
        Username::parse("JOSE\u{301}").unwrap(),
        Email::parse("Jose@Example.COM").unwrap(),
    );
    users.insert(&odd, None).await.unwrap();
    let found = users
        .by_username(&Username::parse("jos\u{e9}").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.username.as_str(), "jos\u{e9}");
    assert_eq!(found.email.as_str(), "jose@example.com");
    assert_eq!(found.created_at, odd.created_at);
}

fn key(name: &str) -> AttemptKey {
    // Any lower-case hex will do: the throttle's keyed hashes are lower-case hex.
    AttemptKey::from_hex(name.bytes().map(|b| format!("{b:02x}")).collect())
}

const DAY: Expiry = Expiry::AfterLast(chrono::TimeDelta::hours(24));

async fn counts(users: &Users, key: &AttemptKey, now: chrono::DateTime<chrono::Utc>) -> u32 {
    // Counting once more answers the count so far.
    users.reserve(key, now, DAY).await.unwrap().count
}

async fn login_attempts_count_up_until_cleared(users: Users) {
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let alice = key("alice");
    for expected in 0..3 {
        let before = users.reserve(&alice, now, DAY).await.unwrap();
        assert_eq!(before.count, expected);
        if expected > 0 {
            assert_eq!(before.last_at, Some(now));
            assert_eq!(before.expires_at, Some(DAY.expires_at(now, now)));
        }
    }
    users.clear(&alice).await.unwrap();
    assert_eq!(
        users.reserve(&alice, now, DAY).await.unwrap(),
        Attempts::default()
    );
    users.clear(&alice).await.unwrap();
    users.clear(&alice).await.unwrap();
}

async fn a_release_takes_one_attempt_back_and_never_goes_below_zero(users: Users) {
    let now = chrono::Utc::now();
    let alice = key("alice");
    for _ in 0..3 {
        users.reserve(&alice, now, DAY).await.unwrap();
    }
    users.release(&alice).await.unwrap();
    assert_eq!(counts(&users, &alice, now).await, 2);
    for _ in 0..5 {
        users.release(&alice).await.unwrap();
    }
    assert_eq!(counts(&users, &alice, now).await, 0);
    // Releasing a counter that does not exist creates none.
    users.release(&key("bob")).await.unwrap();
    assert_eq!(counts(&users, &key("bob"), now).await, 0);
}

async fn login_attempts_are_counted_per_key(users: Users) {
    let now = chrono::Utc::now();
    users.insert(&user("alice"), None).await.unwrap();
    users.reserve(&key("a"), now, DAY).await.unwrap();
    users.reserve(&key("b"), now, DAY).await.unwrap();
    users.reserve(&key("b"), now, DAY).await.unwrap();
    assert_eq!(counts(&users, &key("a"), now).await, 1);
    assert_eq!(counts(&users, &key("b"), now).await, 2);
    // Throttling records are no users.
    assert_eq!(all_users(&users).await.len(), 1);
}

async fn a_counter_expires_a_day_after_its_last_attempt(users: Users) {
    let now = chrono::Utc::now();
    let long_ago = now - chrono::TimeDelta::hours(25);
    let alice = key("alice");
    for _ in 0..4 {
        users.reserve(&alice, long_ago, DAY).await.unwrap();
    }
    assert_eq!(counts(&users, &alice, long_ago).await, 4);
    // Counting starts afresh, not from the expired five.
    assert_eq!(
        users.reserve(&alice, now, DAY).await.unwrap(),
        Attempts::default()
    );
    assert_eq!(counts(&users, &alice, now).await, 1);
}

async fn a_window_keeps_the_expiry_its_first_attempt_set(users: Users) {
    let hour = Expiry::AfterFirst(chrono::TimeDelta::hours(1));
    let start = chrono::Utc::now();
    let alice = key("alice");
    users.reserve(&alice, start, hour).await.unwrap();
    let later = start + chrono::TimeDelta::minutes(50);
    let before = users.reserve(&alice, later, hour).await.unwrap();
    assert_eq!(before.count, 1);
    assert_eq!(before.expires_at, Some(hour.expires_at(start, start)));
    let before = users.reserve(&alice, later, hour).await.unwrap();
    assert_eq!(
        before.expires_at,
        Some(hour.expires_at(start, start)),
        "not moved by later attempts"
    );
    // Past the window, a new one starts.
    let next_window = start + chrono::TimeDelta::minutes(61);
    assert_eq!(
        users.reserve(&alice, next_window, hour).await.unwrap(),
        Attempts::default()
    );
}

async fn concurrent_attempts_each_see_a_different_count(users: Users) {
    let now = chrono::Utc::now();
    let attempts = (0..16).map(|_| {
        let users = users.clone();
        tokio::spawn(async move { users.reserve(&key("alice"), now, DAY).await.unwrap().count })
    });
    let mut seen = Vec::new();
    for attempt in attempts {
        seen.push(attempt.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..16).collect::<Vec<u32>>());
    assert_eq!(counts(&users, &key("alice"), now).await, 16);
}

async fn replacing_a_hash_only_replaces_the_one_verified(users: Users) {
    let alice = user("alice");
    let verified = hash("verified at login");
    users.insert(&alice, Some(&verified)).await.unwrap();
    // An administrator sets a new password between the login's verification and its hash upgrade.
    let reset = hash("set by an administrator");
    users.set_password(&alice.username, &reset).await.unwrap();
    let upgraded = hash("the login's upgrade");
    assert!(
        !users
            .replace_password_hash(&alice.username, &verified, &upgraded, false)
            .await
            .unwrap()
    );
    assert_eq!(
        stored_hash(&users, &alice.username).await,
        Some(reset.clone())
    );
    // Without anything in between, it replaces.
    assert!(
        users
            .replace_password_hash(&alice.username, &reset, &upgraded, false)
            .await
            .unwrap()
    );
    assert_eq!(stored_hash(&users, &alice.username).await, Some(upgraded));
    let nobody = Username::parse("nobody").unwrap();
    assert!(
        !users
            .replace_password_hash(&nobody, &reset, &verified, false)
            .await
            .unwrap()
    );
}

// Every check above, on every backend.
for_each_backend!(
    an_inserted_user_can_be_read_back_every_way,
    unknown_users_are_absent,
    a_taken_username_is_a_conflict_and_writes_nothing,
    a_taken_email_is_a_conflict_and_writes_nothing,
    a_conflict_on_both_fields_names_both,
    a_look_alike_of_a_taken_username_is_a_conflict_and_writes_nothing,
    a_look_alike_with_a_taken_email_names_both_fields,
    deleting_a_user_frees_its_skeleton,
    a_user_without_a_password_has_no_hash,
    setting_a_password_replaces_the_hash,
    setting_the_password_of_an_unknown_user_changes_nothing,
    deleting_a_user_frees_its_username_and_email,
    pages_list_every_user_exactly_once_in_registration_order,
    a_page_that_ends_the_listing_has_no_next_cursor,
    an_empty_store_lists_an_empty_page,
    a_cursor_stays_valid_after_its_user_is_deleted,
    listing_never_shows_uniqueness_bookkeeping,
    upgrading_twice_is_harmless,
    stored_values_keep_their_normalised_form,
    login_attempts_count_up_until_cleared,
    a_release_takes_one_attempt_back_and_never_goes_below_zero,
    login_attempts_are_counted_per_key,
    a_counter_expires_a_day_after_its_last_attempt,
    a_window_keeps_the_expiry_its_first_attempt_set,
    concurrent_attempts_each_see_a_different_count,
    replacing_a_hash_only_replaces_the_one_verified,
);

/// DynamoDB tables written before skeletons: `upgrade` (`vimcar-admin db upgrade`) gives their users skeleton items.
mod dynamodb_skeleton_backfill {
    use std::collections::BTreeSet;

    use vimcar::storage::StoreError;
    use vimcar::users::{Email, UniqueField, User, UserStore, UserStoreExt, Username};
    use vimcar_tests::dynamodb::{TestTable, endpoint, keys_of};
    use vimcar_tests::user;

    use super::CYRILLIC_ADMIN;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upgrade_fills_in_skeletons_once_and_leaves_older_look_alikes_alone() {
        let table = TestTable::create(&endpoint()).await;
        let users = &table.users;
        let (admin, bob) = (user("admin"), user("bob"));
        for old in [&admin, &bob] {
            users.insert(old, None).await.unwrap();
            table.forget_skeleton(old).await;
        }
        // Registered before skeletons existed, beside the older `admin` it looks like.
        let look_alike = User::new(
            Username::parse(CYRILLIC_ADMIN).unwrap(),
            Email::parse("impostor@example.com").unwrap(),
        );
        users.insert(&look_alike, None).await.unwrap();
        table.forget_skeleton(&look_alike).await;
        assert!(
            !table
                .stored_keys()
                .await
                .iter()
                .any(|k| k.starts_with("SKELETON#")),
            "the table starts without skeletons"
        );

        users.upgrade().await.unwrap();
        let mut expected: BTreeSet<String> = [&admin, &bob].into_iter().flat_map(keys_of).collect();
        expected.extend(
            keys_of(&look_alike)
                .into_iter()
                .filter(|k| !k.starts_with("SKELETON#")),
        );
        assert_eq!(table.stored_keys().await, expected);
        let skeleton_item = table.raw_item("SKELETON#adrnin").await.unwrap();
        assert_eq!(
            skeleton_item["user_id"].as_s().unwrap(),
            &admin.id.to_string(),
            "the older user holds the skeleton"
        );

        let before = table.all_items().await;
        users.upgrade().await.unwrap();
        assert_eq!(
            table.all_items().await,
            before,
            "a second upgrade changes nothing"
        );

        // Both old users keep working, and look-alikes of the backfilled names are refused.
        let newcomer = User {
            username: Username::parse("b\u{43e}b").unwrap(),
            ..user("newcomer")
        };
        let err = users.insert(&newcomer, None).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(f) if f == &[UniqueField::Username]),
            "{err:?}"
        );
        assert!(users.delete(&look_alike.username).await.unwrap());
        assert!(users.delete(&admin.username).await.unwrap());
        assert_eq!(table.stored_keys().await, keys_of(&bob));
    }
}

/// Seeding a DynamoDB table in bulk (the benchmarks): the backend's own items, written in batches, are users the
/// store reads back, lists and refuses to register twice.
mod dynamodb_seeding {
    use vimcar::storage::StoreError;
    use vimcar::storage::dynamodb::{BATCH_WRITE_ITEMS, user_items};
    use vimcar::users::{PageSize, Skeleton, UniqueField, UserStore, UserStoreExt};
    use vimcar_tests::dynamodb::{TestTable, endpoint};
    use vimcar_tests::user;

    #[tokio::test]
    async fn batched_items_are_whole_users() {
        let table = TestTable::create(&endpoint()).await;
        let users: Vec<_> = (0..30).map(|n| user(&format!("seeded{n}"))).collect();
        let items: Vec<_> = users
            .iter()
            .flat_map(|user| user_items(user, None, &Skeleton::of(&user.username)))
            .collect();
        for batch in items.chunks(BATCH_WRITE_ITEMS) {
            table.users.put_batch(batch.to_vec()).await.unwrap();
        }
        let listed = table
            .users
            .list(None, PageSize::new(1000).unwrap())
            .await
            .unwrap()
            .users;
        assert_eq!(listed, users, "every seeded user lists, in id order");
        let found = table.users.by_username(&users[7].username).await.unwrap();
        assert_eq!(found.as_ref(), Some(&users[7]));
        match table.users.insert(&user("seeded7"), None).await {
            Err(StoreError::Conflict(fields)) => {
                assert_eq!(fields, [UniqueField::Username, UniqueField::Email])
            }
            other => panic!("a seeded name must be taken, got {other:?}"),
        }
        table.assert_only_whole_users().await;
    }
}
