//! Login-attempt counters on DynamoDB carry the table's TTL attribute, and the table deletes by it: throttling state
//! never grows without bound.

use vimcar::login_attempts::Expiry;
use vimcar::login_attempts::LoginAttempts;
use vimcar::login_attempts::throttle::{LoginThrottle, SOURCE_RECORD_EXPIRES_AFTER, Source};
use vimcar::storage::dynamodb::items::{LOGIN_PREFIX, attempt_key};
use vimcar::users::UserStoreExt;
use vimcar_tests::dynamodb::{TestTable, endpoint, pk};

#[tokio::test]
async fn login_attempt_counters_expire_by_the_tables_ttl() {
    let table = TestTable::create(&endpoint()).await;
    assert_eq!(table.ttl_attribute().await.as_deref(), Some("expires_at"));

    let now = chrono::Utc::now();
    let throttle = LoginThrottle::new(&vimcar_tests::SECRET.to_owned().into());
    let keys = throttle.keys("nobody", Source::Unknown);
    table
        .users
        .reserve(
            &keys.source,
            now,
            Expiry::AfterLast(SOURCE_RECORD_EXPIRES_AFTER),
        )
        .await
        .unwrap();
    // Stored under the keyed hash, never under the name.
    assert!(
        table
            .raw_item(&format!("{LOGIN_PREFIX}nobody"))
            .await
            .is_none()
    );
    let item = table
        .raw_item(&pk(&attempt_key(&keys.source)))
        .await
        .expect("the counter is stored");
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(expires, (now + SOURCE_RECORD_EXPIRES_AFTER).timestamp());
    assert!(
        item.values()
            .all(|value| value.as_s().map_or(true, |text| !text.contains("nobody"))),
        "{item:?}"
    );

    // Upgrading again leaves TTL as it is.
    table.users.upgrade().await.unwrap();
    assert_eq!(table.ttl_attribute().await.as_deref(), Some("expires_at"));
}
