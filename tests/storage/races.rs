//! Concurrent registrations of one username, of look-alike usernames, or of one email: exactly one wins, the rest are told which field is
//! taken, and no loser leaves anything behind. Run on SQLite and on DynamoDB (moto).

use std::sync::Arc;

use tokio::sync::Barrier;
use vimcar::users::{Email, PageSize, RepoError, UniqueField, User, UserRepository, Username};
use vimcar_tests::dynamodb::{TestTable, endpoint, keys_of};
use vimcar_tests::{sqlite_users, user};

const CONTENDERS: usize = 32;

type Users = Arc<dyn UserRepository>;

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
            (_, Err(RepoError::Conflict(fields))) => assert_eq!(fields, [field]),
            (_, Err(other)) => panic!("expected a conflict on {}, got {other:?}", field.name()),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = winners.remove(0);
    let all = users.list(None, PageSize::new(100).unwrap()).await.unwrap();
    assert_eq!(all.users, std::slice::from_ref(&winner));
    assert_eq!(
        users.find(&winner.username).await.unwrap(),
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
            assert_eq!(users.find(&loser.username).await.unwrap(), None);
        }
        assert_eq!(users.get(loser.id).await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_username_has_one_owner() {
    let users = sqlite_users().await;
    let contenders = same_username();
    let winner = race(&users, contenders.clone(), UniqueField::Username).await;
    losers_reserved_nothing(&users, &winner, &contenders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_email_has_one_owner() {
    let users = sqlite_users().await;
    let contenders = same_email();
    let winner = race(&users, contenders.clone(), UniqueField::Email).await;
    losers_reserved_nothing(&users, &winner, &contenders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_one_username_has_one_owner() {
    let table = TestTable::create(&endpoint()).await;
    let users: Users = Arc::new(table.users.clone());
    let contenders = same_username();
    let winner = race(&users, contenders.clone(), UniqueField::Username).await;
    assert_eq!(table.stored_keys().await, keys_of(&winner));
    losers_reserved_nothing(&users, &winner, &contenders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_one_email_has_one_owner() {
    let table = TestTable::create(&endpoint()).await;
    let users: Users = Arc::new(table.users.clone());
    let contenders = same_email();
    let winner = race(&users, contenders.clone(), UniqueField::Email).await;
    assert_eq!(table.stored_keys().await, keys_of(&winner));
    losers_reserved_nothing(&users, &winner, &contenders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_look_of_a_username_has_one_owner() {
    let users = sqlite_users().await;
    let contenders = look_alikes();
    let winner = race(&users, contenders.clone(), UniqueField::Username).await;
    losers_reserved_nothing(&users, &winner, &contenders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_one_look_of_a_username_has_one_owner() {
    let table = TestTable::create(&endpoint()).await;
    let users: Users = Arc::new(table.users.clone());
    let contenders = look_alikes();
    let winner = race(&users, contenders.clone(), UniqueField::Username).await;
    assert_eq!(table.stored_keys().await, keys_of(&winner));
    losers_reserved_nothing(&users, &winner, &contenders).await;
}
