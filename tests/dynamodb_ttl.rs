//! Failed-login records on DynamoDB carry the table's TTL attribute, and the table deletes by it: throttling state
//! never grows without bound.

use vimcar::users::{LOGIN_FAILURES_EXPIRE_AFTER, LoginAccount, UserRepository};
use vimcar_tests::dynamodb::{TestTable, endpoint};

#[tokio::test]
async fn failed_login_records_expire_by_the_tables_ttl() {
    let table = TestTable::create(&endpoint()).await;
    assert_eq!(table.ttl_attribute().await.as_deref(), Some("expires_at"));

    let now = chrono::Utc::now();
    let account = LoginAccount::from_raw("nobody");
    table
        .users
        .record_login_failure(&account, now)
        .await
        .unwrap();
    let item = table
        .raw_item("LOGIN#nobody")
        .await
        .expect("the record is stored");
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(expires, (now + LOGIN_FAILURES_EXPIRE_AFTER).timestamp());

    // Upgrading again leaves TTL as it is.
    table.users.upgrade().await.unwrap();
    assert_eq!(table.ttl_attribute().await.as_deref(), Some("expires_at"));
}
