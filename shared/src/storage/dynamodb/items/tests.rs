//! Unit tests of `items`.

use super::*;

fn alice() -> User {
    User::new(
        Username::parse("alice").unwrap(),
        Email::parse("alice@example.com").unwrap(),
    )
}

fn alice_skeleton() -> Skeleton {
    Skeleton::of(&alice().username)
}

fn hash() -> PasswordHash {
    PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned())
}

#[test]
fn a_user_survives_its_round_trip_through_an_item() {
    let user = alice();
    let item = user_item(&user, &alice_skeleton());
    assert_eq!(item[PK], string_value(format!("USER#{}", user.id)));
    assert_eq!(item[LISTING], string_value("USERS"));
    assert!(!item.contains_key(PASSWORD_HASH));
    assert_eq!(read_user(&item).unwrap(), user);
    assert_eq!(read_user_skeleton(&item).unwrap(), Some(alice_skeleton()));
}

#[test]
fn a_skeleton_item_names_its_holder() {
    let user = alice();
    let item = skeleton_item(&alice_skeleton(), user.id);
    assert_eq!(item[PK], string_value("SKELETON#alice"));
    assert!(!item.contains_key(LISTING));
    assert_eq!(read_skeleton(&item).unwrap(), (alice_skeleton(), user.id));
}

#[test]
fn a_user_item_stored_before_skeletons_reads_as_holding_none() {
    let mut item = user_item(&alice(), &alice_skeleton());
    item.remove(SKELETON);
    assert_eq!(read_user_skeleton(&item).unwrap(), None);
    item.insert(SKELETON.to_owned(), number_value(1));
    assert!(read_user_skeleton(&item).is_err());
}

#[test]
fn a_username_item_carries_the_holder_and_the_hash() {
    let user = alice();
    let item = username_item(&user.username, user.id, Some(&hash()));
    assert_eq!(item[PK], string_value("USERNAME#alice"));
    assert!(!item.contains_key(LISTING));
    let credentials = read_username(&item).unwrap();
    assert_eq!(credentials.user_id, user.id);
    assert_eq!(credentials.hash, Some(hash()));
}

#[test]
fn a_username_item_without_a_hash_reads_as_no_password() {
    let user = alice();
    let item = username_item(&user.username, user.id, None);
    assert!(!item.contains_key(PASSWORD_HASH));
    assert_eq!(read_username(&item).unwrap().hash, None);
}

#[test]
fn an_email_item_names_its_holder() {
    let user = alice();
    let item = email_item(&user.email, user.id);
    assert_eq!(item[PK], string_value("EMAIL#alice@example.com"));
    assert!(!item.contains_key(LISTING));
    assert_eq!(read_email(&item).unwrap(), (user.email, user.id));
}

#[test]
fn a_malformed_user_item_is_an_error_not_a_panic() {
    let good = user_item(&alice(), &alice_skeleton());
    let mut cases: Vec<(Item, &str)> = Vec::new();
    for name in [PK, ID, USERNAME, EMAIL, CREATED_AT] {
        let mut missing = good.clone();
        missing.remove(name);
        cases.push((missing, name));
        let mut wrong_type = good.clone();
        wrong_type.insert(name.to_owned(), AttributeValue::N("1".into()));
        cases.push((wrong_type, name));
    }
    for (name, bad) in [(ID, "not-a-uuid"), (CREATED_AT, "yesterday")] {
        let mut invalid = good.clone();
        invalid.insert(name.to_owned(), string_value(bad));
        cases.push((invalid, name));
    }
    let mut foreign = good.clone();
    foreign.insert(
        PK.to_owned(),
        string_value(format!("USERNAME#{}", alice().id)),
    );
    cases.push((foreign, PK));
    for (item, name) in cases {
        let error = read_user(&item).unwrap_err();
        assert!(error.to_string().contains(name), "{name}: {error}");
    }
}

#[test]
fn a_malformed_username_item_is_an_error_that_never_shows_the_hash() {
    let good = username_item(&alice().username, alice().id, Some(&hash()));
    let mut numeric_hash = good.clone();
    numeric_hash.insert(PASSWORD_HASH.to_owned(), AttributeValue::N("1".into()));
    let mut bad_id = good.clone();
    bad_id.insert(USER_ID.to_owned(), string_value("42"));
    let mut email_key_item = good.clone();
    email_key_item.extend(email_key(&alice().email));
    let mut no_id = good.clone();
    no_id.remove(USER_ID);
    for item in [numeric_hash, bad_id, email_key_item, no_id, Item::new()] {
        let error = read_username(&item).unwrap_err().to_string();
        assert!(!error.contains("argon2"), "{error}");
    }
}

#[test]
fn a_malformed_email_item_is_an_error() {
    let good = email_item(&alice().email, alice().id);
    let mut user_kind = good.clone();
    user_kind.extend(user_key(alice().id));
    let mut bad_id = good.clone();
    bad_id.insert(USER_ID.to_owned(), AttributeValue::Bool(true));
    for item in [user_kind, bad_id, Item::new()] {
        assert!(read_email(&item).is_err());
    }
}

fn attempt_key_of(n: u8) -> AttemptKey {
    AttemptKey::from_hex(format!("{n:032x}"))
}

#[test]
fn a_login_attempt_counter_survives_its_round_trip() {
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let key = attempt_key_of(7);
    let item = attempt_item(&key, 7, now, now.timestamp() + 60);
    assert_eq!(item[PK], string_value(format!("LOGIN#{}", key.as_str())));
    assert_eq!(
        read_attempts(&item).unwrap(),
        Attempts {
            count: 7,
            last_at: Some(now),
            expires_at: DateTime::from_timestamp(now.timestamp() + 60, 0),
        }
    );
    assert_eq!(read_attempts(&Item::new()).unwrap(), Attempts::default());
}

#[test]
fn a_malformed_login_attempt_counter_is_an_error() {
    let now = chrono::Utc::now();
    let good = attempt_item(&attempt_key_of(1), 1, now, now.timestamp() + 60);
    let mut text_count = good.clone();
    text_count.insert(ATTEMPTS.to_owned(), string_value("1"));
    let mut negative = good.clone();
    negative.insert(ATTEMPTS.to_owned(), number_value(-1));
    let mut no_expiry = good.clone();
    no_expiry.remove(EXPIRES_AT);
    let mut no_last = good.clone();
    no_last.remove(LAST_ATTEMPT_AT);
    for item in [text_count, negative, no_expiry, no_last] {
        assert!(read_attempts(&item).is_err(), "{item:?}");
    }
}
