//! [`ImportStore`](vimcar::users::ImportStore) on every backend: an imported user and the record of its import in one
//! step, a re-run that writes nothing (even for a user deleted since), conflicts that write nothing, and the
//! password-change flag an upgraded imported password carries until a new password clears it.

use std::collections::BTreeSet;

use chrono::TimeDelta;
use vimcar::storage::StoreError;
use vimcar::users::{
    Account, ImportStoreExt, Imported, PageSize, UniqueField, UserStoreExt, Username,
};
use vimcar_tests::imports::{TEST_BCRYPT_COST, bcrypt_hash, imported_account, stored_hash};
use vimcar_tests::{TestStore, Users, user};

fn name(raw: &str) -> Username {
    Username::parse(raw).unwrap()
}

async fn required(users: &Users, raw: &str) -> bool {
    users
        .credentials(&name(raw))
        .await
        .unwrap()
        .unwrap()
        .password_change_required
}

async fn an_import_is_new_once_and_before_ever_after(store: TestStore) {
    let users = &store.users;
    let account = imported_account("alice", 400, true);
    let hash = bcrypt_hash("alice's old password", TEST_BCRYPT_COST);
    assert!(!users.imported_before(account.user.id).await.unwrap());
    assert_eq!(
        users.import(&account, Some(&hash)).await.unwrap(),
        Imported::New
    );
    assert!(users.imported_before(account.user.id).await.unwrap());

    // The user is stored as it was: id, name, email, creation time, admin flag, and the hash to the byte.
    assert_eq!(
        users.account(account.user.id).await.unwrap(),
        Some(account.clone())
    );
    assert_eq!(
        users.by_username(&account.user.username).await.unwrap(),
        Some(account.user.clone())
    );
    assert_eq!(stored_hash(users, "alice").await, hash);
    assert_eq!(users.admins().await.unwrap(), [account.user.id]);
    assert!(!required(users, "alice").await);

    // A second run, even with another hash and flag, changes nothing.
    let mut again = account.clone();
    again.is_admin = false;
    let other = bcrypt_hash("another password", TEST_BCRYPT_COST);
    assert_eq!(
        users.import(&again, Some(&other)).await.unwrap(),
        Imported::Before
    );
    assert_eq!(
        users.account(account.user.id).await.unwrap(),
        Some(account.clone())
    );
    assert_eq!(stored_hash(users, "alice").await, hash);
    if let Some(table) = &store.table {
        assert_eq!(
            table.assert_only_whole_users().await,
            std::slice::from_ref(&account.user)
        );
        assert_eq!(
            table.import_records().await,
            BTreeSet::from([account.user.id.to_string()])
        );
    }
}

async fn a_user_deleted_after_its_import_is_not_brought_back(store: TestStore) {
    let users = &store.users;
    let account = imported_account("alice", 400, false);
    let hash = bcrypt_hash("alice's old password", TEST_BCRYPT_COST);
    assert_eq!(
        users.import(&account, Some(&hash)).await.unwrap(),
        Imported::New
    );
    assert!(users.delete(&account.user.username).await.unwrap());

    assert_eq!(
        users.import(&account, Some(&hash)).await.unwrap(),
        Imported::Before
    );
    assert!(users.imported_before(account.user.id).await.unwrap());
    assert_eq!(users.account(account.user.id).await.unwrap(), None);
    assert_eq!(
        users.by_username(&account.user.username).await.unwrap(),
        None
    );
    if let Some(table) = &store.table {
        assert_eq!(table.assert_only_whole_users().await, []);
        assert_eq!(
            table.import_records().await,
            BTreeSet::from([account.user.id.to_string()])
        );
    }
}

/// An import whose name, look-alike name or email is taken answers the taken fields and writes nothing: no user, no
/// record, the email still free.
async fn a_conflicting_import_names_the_fields_and_writes_nothing(store: TestStore) {
    let users = &store.users;
    let bob = user("bob");
    users.insert(&bob, None).await.unwrap();

    let conflict = |account: Account, expected: Vec<UniqueField>| {
        let users = users.clone();
        async move {
            let hash = bcrypt_hash("an old password", TEST_BCRYPT_COST);
            match users.import(&account, Some(&hash)).await {
                Err(StoreError::Conflict(fields)) => assert_eq!(fields, expected),
                other => panic!("{other:?}"),
            }
            assert!(!users.imported_before(account.user.id).await.unwrap());
            assert_eq!(users.account(account.user.id).await.unwrap(), None);
            account
        }
    };

    // The same name, and a look-alike of it (a Cyrillic "о").
    let mut same_name = imported_account("bob", 10, false);
    same_name.user.email = vimcar::users::Email::parse("robert@example.com").unwrap();
    conflict(same_name, vec![UniqueField::Username]).await;
    let mut look_alike = imported_account("b\u{43e}b", 10, false);
    look_alike.user.email = vimcar::users::Email::parse("robert@example.com").unwrap();
    conflict(look_alike, vec![UniqueField::Username]).await;
    // The same email.
    let mut same_email = imported_account("robert", 10, false);
    same_email.user.email = bob.email.clone();
    conflict(same_email, vec![UniqueField::Email]).await;
    let both = imported_account("bob", 10, false);
    conflict(both, vec![UniqueField::Username, UniqueField::Email]).await;

    // Nothing of them was written: robert's email and name still register.
    let robert = vimcar::users::User::new(
        name("robert"),
        vimcar::users::Email::parse("robert@example.com").unwrap(),
    );
    users.insert(&robert, None).await.unwrap();
    if let Some(table) = &store.table {
        table.assert_only_whole_users().await;
        assert_eq!(table.import_records().await, BTreeSet::new());
    }
}

async fn imported_users_list_in_their_creation_order_among_registered_ones(users: Users) {
    let oldest = imported_account("oldest", 900, false);
    let middle = imported_account("middle", 300, true);
    users.import(&middle, None).await.unwrap();
    let registered = user("newcomer");
    users.insert(&registered, None).await.unwrap();
    users.import(&oldest, None).await.unwrap();
    // Imported after the newcomer registered, but created before: it lists before.
    let yesterday = imported_account("yesterday", 1, false);
    users.import(&yesterday, None).await.unwrap();

    let page = users
        .list(None, PageSize::new(PageSize::MAX).unwrap())
        .await
        .unwrap();
    let names: Vec<&str> = page.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["oldest", "middle", "yesterday", "newcomer"]);
    assert_eq!(page.users[0].created_at, oldest.user.created_at);
    assert!(oldest.user.created_at < middle.user.created_at - TimeDelta::days(500));
}

async fn an_upgrade_may_flag_the_password_and_a_new_password_clears_it(users: Users) {
    let hasher = vimcar::passwords::PasswordHasher::new().unwrap();
    let argon2 = |password: &'static str| {
        let hasher = &hasher;
        async move {
            hasher
                .hash(&vimcar::users::Password::trusted(
                    password.to_owned().into(),
                ))
                .await
                .unwrap()
        }
    };
    let bcrypt = bcrypt_hash("bar", TEST_BCRYPT_COST);
    users
        .import(&imported_account("foo", 100, false), Some(&bcrypt))
        .await
        .unwrap();
    assert!(!required(&users, "foo").await);

    // A compare-and-swap against another hash writes nothing, flag included.
    let upgraded = argon2("bar").await;
    // Another salt: the same password, another hash.
    let stale = bcrypt_hash("bar", TEST_BCRYPT_COST);
    assert!(
        !users
            .replace_password_hash(&name("foo"), &stale, &upgraded, true)
            .await
            .unwrap()
    );
    assert!(!required(&users, "foo").await);
    assert_eq!(stored_hash(&users, "foo").await, bcrypt);

    assert!(
        users
            .replace_password_hash(&name("foo"), &bcrypt, &upgraded, true)
            .await
            .unwrap()
    );
    assert!(required(&users, "foo").await);
    assert_eq!(stored_hash(&users, "foo").await, upgraded);

    // An operator's reset clears it.
    let reset = argon2("an operator's new password").await;
    assert!(users.set_password(&name("foo"), &reset).await.unwrap());
    assert!(!required(&users, "foo").await);

    // Flagged again, then the user's own change clears it.
    let again = argon2("bar").await;
    assert!(
        users
            .replace_password_hash(&name("foo"), &reset, &again, true)
            .await
            .unwrap()
    );
    assert!(required(&users, "foo").await);
    let changed = argon2("correct horse battery staple").await;
    assert_eq!(
        users
            .change_password(&name("foo"), Some(&again), &changed)
            .await
            .unwrap(),
        Some(0)
    );
    assert!(!required(&users, "foo").await);
    assert_eq!(stored_hash(&users, "foo").await, changed);

    // An unflagged upgrade leaves it clear, and an operator's reset without the current hash clears a flag too.
    let flagged = argon2("bar").await;
    users
        .replace_password_hash(&name("foo"), &changed, &flagged, true)
        .await
        .unwrap();
    let last = argon2("the last password of foo").await;
    assert_eq!(
        users
            .change_password(&name("foo"), None, &last)
            .await
            .unwrap(),
        Some(0)
    );
    assert!(!required(&users, "foo").await);
    let unflagged = argon2("the last password of foo").await;
    assert!(
        users
            .replace_password_hash(&name("foo"), &last, &unflagged, false)
            .await
            .unwrap()
    );
    assert!(!required(&users, "foo").await);
}

for_each_backend!(
    an_import_is_new_once_and_before_ever_after,
    a_user_deleted_after_its_import_is_not_brought_back,
    a_conflicting_import_names_the_fields_and_writes_nothing,
    imported_users_list_in_their_creation_order_among_registered_ones,
    an_upgrade_may_flag_the_password_and_a_new_password_clears_it,
);
