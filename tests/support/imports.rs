//! Users as `vimcar-admin import flask` stores them: bcrypt hashes, as the Flask original wrote them, through the
//! [`ImportStore`](vimcar::users::ImportStore) port.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use vimcar::users::{
    Account, Email, HashScheme, ImportStoreExt, Imported, PasswordHash, User, Username, imported_id,
};

use crate::Users;

/// The bcrypt cost of the tests' imported hashes: the lowest, since verifying at any cost up to the cap is the same
/// code. The original's own, 13, where the cost itself matters (the timing measurement).
pub const TEST_BCRYPT_COST: u32 = 4;

/// A bcrypt hash of `password` at `cost`, as Flask-Bcrypt writes it (`$2b$`).
pub fn bcrypt_hash(password: &str, cost: u32) -> PasswordHash {
    PasswordHash::new(bcrypt::hash(password, cost).expect("bcrypt hashes"))
}

/// The account the import makes of the original's row for `name`: email `name@example.com`, created `days_ago`
/// days ago (milliseconds, as every backend keeps them), its id built from that time and the name as the import
/// builds one.
pub fn imported_account(name: &str, days_ago: i64, is_admin: bool) -> Account {
    let created_at: DateTime<Utc> = (Utc::now() - TimeDelta::days(days_ago)).trunc_subsecs(3);
    Account {
        user: User {
            id: imported_id(created_at, format!("test {name}").as_bytes()),
            username: Username::parse(name).expect("a valid username"),
            email: Email::parse(&format!("{name}@example.com")).expect("a valid email"),
            created_at,
        },
        is_admin,
    }
}

/// Imports `name` (see [`imported_account`], a year old, not an administrator) with a bcrypt hash of `password` at
/// [`TEST_BCRYPT_COST`], asserting it is new, and answers the account.
pub async fn import_user(users: &Users, name: &str, password: &str) -> Account {
    let account = imported_account(name, 365, false);
    let hash = bcrypt_hash(password, TEST_BCRYPT_COST);
    assert_eq!(
        users
            .import(&account, Some(&hash))
            .await
            .expect("the import stores"),
        Imported::New
    );
    account
}

/// The scheme of `name`'s stored hash, asserting the user and a hash exist.
pub async fn stored_scheme(users: &Users, name: &str) -> HashScheme {
    stored_hash(users, name).await.scheme()
}

/// `name`'s stored hash, asserting the user and a hash exist.
pub async fn stored_hash(users: &Users, name: &str) -> PasswordHash {
    users
        .credentials(&Username::parse(name).expect("a valid username"))
        .await
        .expect("the store answers")
        .expect("the user exists")
        .hash
        .expect("the user has a password")
}
