use chrono::Duration;

use super::*;

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap() + Duration::minutes(minutes)
}

#[test]
fn rfc_7638_thumbprint_of_the_rfcs_own_example_curve_key() {
    // RFC 7638 gives an RSA example only; this is RFC 7517 appendix A.1's EC key, whose thumbprint other
    // implementations (jose, PyJWT's `thumbprint`) compute as below.
    assert_eq!(
        thumbprint(
            "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
        ),
        "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
    );
}

#[test]
fn a_generated_key_is_named_by_its_thumbprint_and_its_public_copy_has_no_private_part() {
    let key = KeyRecord::generate(at(0), at(0));
    assert_eq!(key.kid, thumbprint(&key.x, &key.y));
    assert_eq!(key.private_scalar().unwrap().len(), 32);
    assert!(key.public().d.is_none());
    assert!(!format!("{key:?}").contains(key.d.as_deref().unwrap()));
    let set = KeySet { keys: vec![key] };
    let text = serde_json::to_string(&set.public()).unwrap();
    assert!(!text.contains("\"d\""));
    assert_eq!(KeySet::parse(&text).unwrap(), set.public());
}

#[test]
fn a_set_whose_kid_is_not_the_thumbprint_is_refused() {
    let mut key = KeyRecord::generate(at(0), at(0));
    key.kid = "chosen-by-hand".into();
    let text = serde_json::to_string(&KeySet { keys: vec![key] }).unwrap();
    assert!(KeySet::parse(&text).is_err());
}

#[test]
fn a_rotation_moves_each_key_through_standby_current_previous_retired() {
    let first = KeyRecord::generate(at(0), at(0));
    let mut set = KeySet {
        keys: vec![first.clone()],
    };
    assert_eq!(set.status(&set.keys[0], at(1)), KeyStatus::Current);
    let second = KeyRecord::generate(at(10), at(25));
    set.rotate(second.clone(), at(10), Duration::minutes(15));
    let status = |set: &KeySet, kid: &str, minute| {
        let key = set.keys.iter().find(|key| key.kid == kid).unwrap();
        set.status(key, at(minute))
    };
    // Published before it signs.
    assert_eq!(status(&set, &second.kid, 11), KeyStatus::Standby);
    assert_eq!(status(&set, &first.kid, 11), KeyStatus::Current);
    assert_eq!(set.trusted(at(11)).count(), 2);
    // Switched at its time, the old one still trusted for the tokens it signed.
    assert_eq!(status(&set, &second.kid, 25), KeyStatus::Current);
    assert_eq!(status(&set, &first.kid, 25), KeyStatus::Previous);
    assert_eq!(set.current(at(25)).unwrap().kid, second.kid);
    // Retired once every token it signed has expired, and dropped by the next rotation.
    assert_eq!(status(&set, &first.kid, 40), KeyStatus::Retired);
    assert_eq!(set.trusted(at(40)).count(), 1);
    set.rotate(
        KeyRecord::generate(at(41), at(56)),
        at(41),
        Duration::minutes(15),
    );
    assert!(set.keys.iter().all(|key| key.kid != first.kid));
}

#[test]
fn a_private_part_of_another_key_is_refused() {
    let mut key = KeyRecord::generate(at(0), at(0));
    key.d = KeyRecord::generate(at(0), at(0)).d;
    let text = serde_json::to_string(&KeySet { keys: vec![key] }).unwrap();
    let error = KeySet::parse(&text).unwrap_err().to_string();
    assert!(error.contains("does not belong"), "{error}");
}

#[test]
fn a_set_whose_point_is_not_on_the_curve_is_refused() {
    // A kid can be the thumbprint of anything: the point itself must decode, or no token could verify with it.
    let mut key = KeyRecord::generate(at(0), at(0)).public();
    for (x, y) in [
        (URL_SAFE_NO_PAD.encode([1u8; 32]), key.y.clone()),
        ("not base64url!".to_owned(), key.y.clone()),
        (URL_SAFE_NO_PAD.encode([1u8; 31]), key.y.clone()),
    ] {
        key.x = x;
        key.y = y;
        key.kid = thumbprint(&key.x, &key.y);
        let text = serde_json::to_string(&KeySet {
            keys: vec![key.clone()],
        })
        .unwrap();
        let error = KeySet::parse(&text).unwrap_err().to_string();
        assert!(error.contains("not a point on P-256"), "{error}");
    }
}

#[test]
fn an_empty_set_has_no_current_key_and_trusts_nothing() {
    let set = KeySet::parse(r#"{"keys":[]}"#).unwrap();
    assert!(set.current(at(0)).is_none());
    assert_eq!(set.trusted(at(0)).count(), 0);
    assert!(KeySet::parse("not json").is_err());
    assert!(KeySet::parse(r#"{"keys":[{"kid":"a"}]}"#).is_err());
}

#[test]
fn a_set_of_standby_keys_only_has_no_current_key_but_trusts_them() {
    let set = KeySet {
        keys: vec![KeyRecord::generate(at(0), at(15))],
    };
    assert!(set.current(at(1)).is_none());
    assert_eq!(set.status(&set.keys[0], at(1)), KeyStatus::Standby);
    assert_eq!(set.trusted(at(1)).count(), 1);
}

#[test]
fn a_key_retires_exactly_at_its_time_and_a_rotation_keeps_an_earlier_retirement() {
    let first = KeyRecord::generate(at(0), at(0));
    let mut set = KeySet {
        keys: vec![first.clone()],
    };
    set.rotate(
        KeyRecord::generate(at(1), at(16)),
        at(1),
        Duration::minutes(15),
    );
    assert_eq!(set.keys[0].retires_at, Some(at(31)));
    assert_eq!(set.status(&set.keys[0], at(30)), KeyStatus::Previous);
    assert_eq!(set.status(&set.keys[0], at(31)), KeyStatus::Retired);
    // A second rotation before the first switch: the first key keeps its sooner retirement, the standby key of
    // the first rotation (activating before the new one) is set to retire after the new one activates.
    set.rotate(
        KeyRecord::generate(at(2), at(40)),
        at(2),
        Duration::minutes(15),
    );
    assert_eq!(set.keys[0].retires_at, Some(at(31)));
    assert_eq!(set.keys[1].retires_at, Some(at(55)));
    assert_eq!(set.keys[2].retires_at, None);
    assert_eq!(set.current(at(20)).unwrap().kid, set.keys[1].kid);
    assert_eq!(set.current(at(40)).unwrap().kid, set.keys[2].kid);
}
