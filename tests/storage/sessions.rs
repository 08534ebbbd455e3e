//! The `SessionStore` port on every backend: sessions read back as stored, rotate only from their current
//! generation (of racing rotations exactly one wins), end one at a time or all at once, and never outlive their
//! user.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use tokio::sync::Barrier;
use uuid::Uuid;
use vimcar::config::DEFAULT_SESSION_POLICY;
use vimcar::sessions::{MAX_SESSIONS_PER_USER, Session};
use vimcar::storage::StoreError;
use vimcar::users::{User, UserStoreExt};
use vimcar_tests::{TestStore, Users, user};

/// Now, to the millisecond, as storage keeps times.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

async fn stored_user(users: &Users, name: &str) -> User {
    let user = user(name);
    users.insert(&user, None).await.unwrap();
    user
}

/// A session of `user` begun at `at`, stored.
async fn begun(users: &Users, user: &User, at: DateTime<Utc>) -> Session {
    let session = Session::begin(user.id, at, &DEFAULT_SESSION_POLICY);
    assert!(users.create(&session).await.unwrap());
    session
}

fn ids(sessions: &[Session]) -> Vec<Uuid> {
    sessions.iter().map(|session| session.id).collect()
}

async fn a_stored_session_reads_back_as_it_was_stored(users: Users) {
    let alice = stored_user(&users, "alice").await;
    // Times with milliseconds, and an idle expiry that differs from the absolute one.
    let at = now() + TimeDelta::milliseconds(7);
    let session = begun(&users, &alice, at).await;
    assert_ne!(session.idle_expires_at, session.expires_at);

    assert_eq!(
        users.session(session.id).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), [session]);
    assert_eq!(users.session(Uuid::now_v7()).await.unwrap(), None);
}

async fn a_session_rotates_only_from_its_current_generation(users: Users) {
    let alice = stored_user(&users, "alice").await;
    let session = begun(&users, &alice, now()).await;
    let at = session.created_at + TimeDelta::milliseconds(1_234);
    let idle = at + TimeDelta::days(14);

    assert!(!users.rotate(session.id, 1, at, idle).await.unwrap());
    assert_eq!(
        users.session(session.id).await.unwrap(),
        Some(session.clone())
    );

    assert!(users.rotate(session.id, 0, at, idle).await.unwrap());
    let rotated = Session {
        generation: 1,
        refreshed_at: at,
        idle_expires_at: idle,
        ..session.clone()
    };
    assert_eq!(
        users.session(session.id).await.unwrap(),
        Some(rotated.clone())
    );

    // The spent generation no longer moves it, and neither does one from the future.
    let later = at + TimeDelta::seconds(5);
    assert!(!users.rotate(session.id, 0, later, idle).await.unwrap());
    assert!(!users.rotate(session.id, 2, later, idle).await.unwrap());
    assert_eq!(users.session(session.id).await.unwrap(), Some(rotated));
    assert!(users.rotate(session.id, 1, later, idle).await.unwrap());
    assert_eq!(
        users.session(session.id).await.unwrap().unwrap().generation,
        2
    );

    // An unknown session rotates from nothing.
    assert!(!users.rotate(Uuid::now_v7(), 0, later, idle).await.unwrap());
}

/// Rotations racing from one generation.
const RIVALS: usize = 4;
/// Rounds of racing rotations, one generation each.
const ROUNDS: u64 = 10;

async fn of_concurrent_rotations_from_one_generation_exactly_one_wins(users: Users) {
    let alice = stored_user(&users, "alice").await;
    let session = begun(&users, &alice, now()).await;
    for generation in 0..ROUNDS {
        let start = Arc::new(Barrier::new(RIVALS));
        let rivals: Vec<_> = (0..RIVALS)
            .map(|rival| {
                let (users, start) = (Arc::clone(&users), Arc::clone(&start));
                let at =
                    session.created_at + TimeDelta::seconds(generation as i64 * 10 + rival as i64);
                tokio::spawn(async move {
                    start.wait().await;
                    let won = users
                        .rotate(session.id, generation, at, at + TimeDelta::days(14))
                        .await
                        .unwrap();
                    (won, at)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for rival in rivals {
            let (won, at) = rival.await.unwrap();
            if won {
                winners.push(at);
            }
        }
        assert_eq!(winners.len(), 1, "round {generation}: {winners:?}");
        let stored = users.session(session.id).await.unwrap().unwrap();
        assert_eq!(stored.generation, generation + 1);
        // What is stored is the winner's write whole, not a mix of two.
        assert_eq!(stored.refreshed_at, winners[0]);
        assert_eq!(stored.idle_expires_at, winners[0] + TimeDelta::days(14));
    }
}

async fn ending_a_session_ends_that_one_and_ending_all_ends_the_rest(store: TestStore) {
    let users = &store.users;
    let alice = stored_user(users, "alice").await;
    let bob = stored_user(users, "bob").await;
    let start = now();
    let first = begun(users, &alice, start).await;
    let second = begun(users, &alice, start).await;
    let third = begun(users, &alice, start).await;
    let bobs = begun(users, &bob, start).await;

    users.end(alice.id, second.id).await.unwrap();
    assert_eq!(users.session(second.id).await.unwrap(), None);
    assert_eq!(
        ids(&users.sessions_of(alice.id).await.unwrap()),
        [first.id, third.id]
    );
    // Ending it again, or a session that never was, does nothing.
    users.end(alice.id, second.id).await.unwrap();
    users.end(alice.id, Uuid::now_v7()).await.unwrap();
    // Another user's id does not end alice's session.
    users.end(bob.id, first.id).await.unwrap();
    assert!(users.session(first.id).await.unwrap().is_some());
    if let Some(table) = &store.table {
        table.assert_only_whole_users().await;
    }

    assert_eq!(users.end_all(alice.id).await.unwrap(), 2);
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), []);
    assert_eq!(users.session(first.id).await.unwrap(), None);
    assert_eq!(users.session(third.id).await.unwrap(), None);
    assert_eq!(users.end_all(alice.id).await.unwrap(), 0);
    assert_eq!(users.end_all(Uuid::now_v7()).await.unwrap(), 0);
    assert_eq!(
        users.sessions_of(bob.id).await.unwrap(),
        std::slice::from_ref(&bobs)
    );
    if let Some(table) = &store.table {
        table.assert_only_whole_users().await;
        assert_eq!(
            table.stored_sessions().await,
            BTreeSet::from([bobs.id.to_string()])
        );
    }
    // A user whose sessions all ended begins new ones as before.
    let again = begun(users, &alice, start).await;
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), [again]);
}

async fn a_users_sessions_are_listed_oldest_first(users: Users) {
    let alice = stored_user(&users, "alice").await;
    let start = now();
    let sessions: Vec<Session> = (0..3)
        .map(|i| {
            Session::begin(
                alice.id,
                start + TimeDelta::seconds(i),
                &DEFAULT_SESSION_POLICY,
            )
        })
        .collect();
    // Stored newest first: the listing's order is the sessions' age, not the order they were stored in.
    for session in sessions.iter().rev() {
        assert!(users.create(session).await.unwrap());
    }
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), sessions);
    assert_eq!(users.sessions_of(Uuid::now_v7()).await.unwrap(), []);
}

async fn a_session_beyond_the_limit_ends_the_users_oldest(store: TestStore) {
    let users = &store.users;
    let alice = stored_user(users, "alice").await;
    let bob = stored_user(users, "bob").await;
    let bobs = begun(users, &bob, now()).await;
    let mut sessions = Vec::new();
    for _ in 0..=MAX_SESSIONS_PER_USER {
        sessions.push(begun(users, &alice, now()).await);
    }

    let kept = users.sessions_of(alice.id).await.unwrap();
    assert_eq!(kept.len(), MAX_SESSIONS_PER_USER);
    assert_eq!(kept, sessions[1..]);
    assert_eq!(users.session(sessions[0].id).await.unwrap(), None);
    assert_eq!(users.sessions_of(bob.id).await.unwrap(), [bobs]);
    if let Some(table) = &store.table {
        table.assert_only_whole_users().await;
    }
}

async fn deleting_the_user_removes_its_sessions(store: TestStore) {
    let users = &store.users;
    let alice = stored_user(users, "alice").await;
    let bob = stored_user(users, "bob").await;
    let start = now();
    let alices = [
        begun(users, &alice, start).await,
        begun(users, &alice, start).await,
    ];
    let bobs = begun(users, &bob, start).await;

    assert!(users.delete(&alice.username).await.unwrap());

    for session in &alices {
        assert_eq!(users.session(session.id).await.unwrap(), None);
    }
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), []);
    assert_eq!(
        users.sessions_of(bob.id).await.unwrap(),
        std::slice::from_ref(&bobs)
    );
    if let Some(table) = &store.table {
        assert_eq!(table.assert_only_whole_users().await, [bob]);
        assert_eq!(
            table.stored_sessions().await,
            BTreeSet::from([bobs.id.to_string()])
        );
    }
}

async fn a_session_of_an_unknown_user_is_refused_and_nothing_is_stored(store: TestStore) {
    let users = &store.users;
    let ghost = user("ghost");
    let session = Session::begin(ghost.id, now(), &DEFAULT_SESSION_POLICY);

    assert!(!users.create(&session).await.unwrap());

    assert_eq!(users.session(session.id).await.unwrap(), None);
    assert_eq!(users.sessions_of(ghost.id).await.unwrap(), []);
    assert_eq!(users.by_id(ghost.id).await.unwrap(), None);
    if let Some(table) = &store.table {
        assert_eq!(table.stored_keys().await, BTreeSet::new());
    }
}

/// Sessions begun while other tasks end them all.
const BEGUN: usize = 12;
const ENDINGS: usize = 3;

/// Whatever the interleaving, every session begun is either counted by exactly one `end_all` or still alive and
/// listed afterwards: none survives unlisted, where a later global logout would miss it. The assertion holds for
/// every order the tasks can run in, so the test is deterministic however the race falls out.
async fn sessions_begun_while_all_are_ended_are_each_counted_or_still_listed(store: TestStore) {
    let users = &store.users;
    let alice = stored_user(users, "alice").await;
    let start = Arc::new(Barrier::new(BEGUN + ENDINGS));
    let creates: Vec<_> = (0..BEGUN)
        .map(|_| {
            let (users, start) = (Arc::clone(users), Arc::clone(&start));
            let session = Session::begin(alice.id, now(), &DEFAULT_SESSION_POLICY);
            tokio::spawn(async move {
                start.wait().await;
                assert!(users.create(&session).await.unwrap());
                session.id
            })
        })
        .collect();
    let endings: Vec<_> = (0..ENDINGS)
        .map(|_| {
            let (users, start) = (Arc::clone(users), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                match users.end_all(alice.id).await {
                    Ok(ended) => ended,
                    // DynamoDB gives up when the list keeps changing under it, and then has written nothing:
                    // an answer the caller may retry, which ended no session.
                    Err(StoreError::Unavailable(_)) => 0,
                    Err(other) => panic!("end_all failed: {other:?}"),
                }
            })
        })
        .collect();
    let mut begun = BTreeSet::new();
    for create in creates {
        begun.insert(create.await.unwrap());
    }
    let mut ended = 0;
    for ending in endings {
        ended += ending.await.unwrap();
    }

    let alive: BTreeSet<Uuid> = ids(&users.sessions_of(alice.id).await.unwrap())
        .into_iter()
        .collect();
    assert!(alive.is_subset(&begun));
    assert_eq!(ended + alive.len(), BEGUN, "ended {ended}, alive {alive:?}");
    for id in &begun {
        assert_eq!(
            users.session(*id).await.unwrap().is_some(),
            alive.contains(id),
            "session {id}"
        );
    }
    if let Some(table) = &store.table {
        table.assert_only_whole_users().await;
    }
    // And one more global logout leaves nothing.
    assert_eq!(users.end_all(alice.id).await.unwrap(), alive.len());
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), []);
}

/// A password change writes the new hash and ends every session in one step, or, when the hash proved is no longer
/// the stored one, writes nothing at all.
async fn a_password_change_ends_every_session_with_the_hash_or_writes_nothing(users: Users) {
    use vimcar::users::PasswordHash;
    let old = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$old$old".to_owned());
    let new = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$new$new".to_owned());
    let alice = user("alice");
    users.insert(&alice, Some(&old)).await.unwrap();
    let bob = stored_user(&users, "bob").await;
    let bobs = begun(&users, &bob, now()).await;
    let sessions = [
        begun(&users, &alice, now()).await,
        begun(&users, &alice, now()).await,
    ];
    let hash = || async {
        users
            .credentials(&alice.username)
            .await
            .unwrap()
            .unwrap()
            .hash
    };

    // A stale hash, or an unknown name: nothing is written.
    assert_eq!(
        users
            .change_password(&alice.username, Some(&new), &new)
            .await
            .unwrap(),
        None
    );
    let nobody = vimcar::users::Username::parse("nobody").unwrap();
    assert_eq!(
        users
            .change_password(&nobody, Some(&old), &new)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        users.change_password(&nobody, None, &new).await.unwrap(),
        None
    );
    assert_eq!(hash().await, Some(old.clone()));
    assert_eq!(
        ids(&users.sessions_of(alice.id).await.unwrap()),
        ids(&sessions)
    );

    assert_eq!(
        users
            .change_password(&alice.username, Some(&old), &new)
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(hash().await, Some(new.clone()));
    assert_eq!(users.sessions_of(alice.id).await.unwrap(), vec![]);
    for session in &sessions {
        assert_eq!(users.session(session.id).await.unwrap(), None);
    }
    assert!(
        users.session(bobs.id).await.unwrap().is_some(),
        "bob's session is not alice's"
    );
    // A session begun after the change is untouched by it.
    let after = begun(&users, &alice, now()).await;
    assert_eq!(
        ids(&users.sessions_of(alice.id).await.unwrap()),
        vec![after.id]
    );

    // An operator's reset replaces whatever hash there is, and ends the sessions with it.
    let reset = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$reset$reset".to_owned());
    assert_eq!(
        users
            .change_password(&alice.username, None, &reset)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(hash().await, Some(reset));
    assert_eq!(users.session(after.id).await.unwrap(), None);
}

for_each_backend!(
    worker_threads = 4;
    a_stored_session_reads_back_as_it_was_stored,
    a_session_rotates_only_from_its_current_generation,
    of_concurrent_rotations_from_one_generation_exactly_one_wins,
    ending_a_session_ends_that_one_and_ending_all_ends_the_rest,
    a_users_sessions_are_listed_oldest_first,
    a_session_beyond_the_limit_ends_the_users_oldest,
    deleting_the_user_removes_its_sessions,
    a_session_of_an_unknown_user_is_refused_and_nothing_is_stored,
    sessions_begun_while_all_are_ended_are_each_counted_or_still_listed,
    a_password_change_ends_every_session_with_the_hash_or_writes_nothing,
);
