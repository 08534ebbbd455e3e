//! Concurrent registrations of one username, of look-alike usernames, or of one email: exactly one wins, the rest are told which field is
//! taken, and no loser leaves anything behind. Run on SQLite and on DynamoDB (moto).

use std::sync::Arc;

use tokio::sync::Barrier;
use vimcar::storage::StoreError;
use vimcar::users::UserStoreExt;
use vimcar::users::{Email, PageSize, UniqueField, User, Username};
use vimcar_tests::dynamodb::keys_of;
use vimcar_tests::{TestStore, Users, user};

const CONTENDERS: usize = 32;

/// Inserts every user at once (as far as a barrier can make it) and answers who won. Asserts that exactly one
/// insert succeeded and every other one was a conflict on `field` alone.
async fn race(users: &Users, contenders: Vec<User>, field: UniqueField) -> User {
    let start = Arc::new(Barrier::new(contenders.len()));
    let tasks: Vec<_> = contenders
        .into_iter()
        .map(|contender| {
            let users = Arc::clone(users);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                let result = users.insert(&contender, None).await;
                (contender, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("an insert task panicked") {
            (contender, Ok(())) => winners.push(contender),
            (_, Err(StoreError::Conflict(fields))) => assert_eq!(fields, [field]),
            (_, Err(other)) => panic!("expected a conflict on {}, got {other:?}", field.name()),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = winners.remove(0);
    let all = users.list(None, PageSize::new(100).unwrap()).await.unwrap();
    assert_eq!(all.users, std::slice::from_ref(&winner));
    assert_eq!(
        users.by_username(&winner.username).await.unwrap(),
        Some(winner.clone())
    );
    winner
}

/// Users who all want one username, each with an email of their own.
fn same_username() -> Vec<User> {
    (0..CONTENDERS)
        .map(|i| User {
            username: Username::parse("racer").unwrap(),
            ..user(&format!("racer{i}"))
        })
        .collect()
}

/// Users who all want one email, each with a username of their own.
fn same_email() -> Vec<User> {
    (0..CONTENDERS)
        .map(|i| User {
            email: Email::parse("racer@example.com").unwrap(),
            ..user(&format!("racer{i}"))
        })
        .collect()
}

/// Users who all want a different username that looks like `pacex`: each of its five letters Latin or Cyrillic
/// (`р`, `а`, `с`, `е`, `х`), so 32 names with one skeleton.
fn look_alikes() -> Vec<User> {
    const TWINS: [(char, char); 5] = [
        ('p', '\u{440}'),
        ('a', '\u{430}'),
        ('c', '\u{441}'),
        ('e', '\u{435}'),
        ('x', '\u{445}'),
    ];
    assert_eq!(CONTENDERS, 1 << TWINS.len());
    (0..CONTENDERS)
        .map(|i| {
            let name: String = TWINS
                .iter()
                .enumerate()
                .map(|(bit, &(latin, cyrillic))| if i >> bit & 1 == 0 { latin } else { cyrillic })
                .collect();
            User {
                username: Username::parse(&name).unwrap(),
                ..user(&format!("racer{i}"))
            }
        })
        .collect()
}

/// After a race, the losers' free fields are still free: nothing of theirs was reserved.
async fn losers_reserved_nothing(users: &Users, winner: &User, contenders: &[User]) {
    for loser in contenders.iter().filter(|c| c.id != winner.id) {
        if loser.username != winner.username {
            assert_eq!(users.by_username(&loser.username).await.unwrap(), None);
        }
        assert_eq!(users.by_id(loser.id).await.unwrap(), None);
    }
}

/// Runs a race of `contenders` for `field` on `store`, then checks that the losers left nothing behind: on
/// DynamoDB, that the table holds the winner's items and nothing else.
async fn one_owner(store: TestStore, contenders: Vec<User>, field: UniqueField) {
    let winner = race(&store.users, contenders.clone(), field).await;
    if let Some(table) = &store.table {
        assert_eq!(table.stored_keys().await, keys_of(&winner));
    }
    losers_reserved_nothing(&store.users, &winner, &contenders).await;
}

async fn one_username_has_one_owner(store: TestStore) {
    one_owner(store, same_username(), UniqueField::Username).await;
}

async fn one_email_has_one_owner(store: TestStore) {
    one_owner(store, same_email(), UniqueField::Email).await;
}

async fn one_look_of_a_username_has_one_owner(store: TestStore) {
    one_owner(store, look_alikes(), UniqueField::Username).await;
}

for_each_backend!(
    worker_threads = 4;
    one_username_has_one_owner,
    one_email_has_one_owner,
    one_look_of_a_username_has_one_owner,
);
