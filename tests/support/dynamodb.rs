//! DynamoDB repositories for tests: each on a fresh table of the moto server that `infra/with-moto` started, and a
//! raw SDK client to look at what the backend really stored.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;
use vimcar::storage::dynamodb::DynamoDb;
use vimcar::storage::dynamodb::items::{
    IMPORT_PREFIX, Item, LOGIN_PREFIX, PK, SESSION_PREFIX, SKELETON, email_key, skeleton_key,
    user_key, username_key,
};
use vimcar::users::UserStoreExt;
use vimcar::users::{PageSize, Skeleton, User, UserStore};

/// Where `infra/with-moto` says its server listens.
pub const ENDPOINT_VAR: &str = "VIMCAR_TEST_DYNAMODB_ENDPOINT";

/// The endpoint of the test server. Panics when there is none: a DynamoDB test that skipped itself would pass
/// without testing anything.
pub fn endpoint() -> String {
    std::env::var(ENDPOINT_VAR)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{ENDPOINT_VAR} is not set: run the tests with `make test`, which starts moto \
                 (or wrap cargo in `infra/with-moto`, e.g. `infra/with-moto cargo test`)"
            )
        })
}

/// A table name no other test uses, so tests run in parallel on one server.
pub fn fresh_table_name() -> String {
    format!("vimcar-test-{}", Uuid::now_v7().simple())
}

/// A repository on its own new table, and a raw client on the same table.
pub struct TestTable {
    pub users: DynamoDb,
    raw: Client,
}

impl TestTable {
    /// Creates a fresh table on the server at `endpoint`, through the repository's own `upgrade`.
    pub async fn create(endpoint: &str) -> Self {
        let users = DynamoDb::connect(fresh_table_name(), Some(endpoint))
            .await
            .expect("the DynamoDB client builds");
        users.upgrade().await.expect("the test table is created");
        Self {
            users,
            raw: raw_client(endpoint),
        }
    }

    /// The partition key of every item in the table, read with a full Scan (which the backend itself never does).
    pub async fn stored_keys(&self) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        let mut start = None;
        loop {
            let page = self
                .raw
                .scan()
                .table_name(self.users.table())
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("the test table scans");
            for item in page.items() {
                match item.get(PK) {
                    Some(AttributeValue::S(pk)) => keys.insert(pk.clone()),
                    _ => panic!("an item without a string pk: {:?}", item.keys()),
                };
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return keys;
            }
        }
    }
}

/// The partition key of an item's key, as text.
pub fn pk(key: &Item) -> String {
    match key.get(PK) {
        Some(AttributeValue::S(pk)) => pk.clone(),
        _ => panic!("a key without a string pk: {key:?}"),
    }
}

/// The keys of the four items the backend stores for `user`: the user, its username, its email and its username's
/// skeleton.
pub fn keys_of(user: &User) -> BTreeSet<String> {
    [
        user_key(user.id),
        username_key(&user.username),
        email_key(&user.email),
        skeleton_key(&Skeleton::of(&user.username)),
    ]
    .iter()
    .map(pk)
    .collect()
}

impl TestTable {
    /// Asserts that the table holds exactly the four items of each listed user: no half-written user, no
    /// orphaned reservation. Login-attempt counters (`LOGIN#…`) are throttling state, not users, and are left out: a
    /// successful login leaves its account's counter behind, at zero, until its window ends. Sessions are checked
    /// by [`assert_whole_sessions`](Self::assert_whole_sessions); import records (`IMPORTED#…`) by
    /// [`import_records`](Self::import_records). Answers the users.
    pub async fn assert_only_whole_users(&self) -> Vec<User> {
        let users = self
            .users
            .list(None, PageSize::new(PageSize::MAX).unwrap())
            .await
            .expect("the test table lists");
        let expected: BTreeSet<String> = users.users.iter().flat_map(keys_of).collect();
        let stored: BTreeSet<String> = self
            .stored_keys()
            .await
            .into_iter()
            .filter(|key| {
                ![LOGIN_PREFIX, SESSION_PREFIX, IMPORT_PREFIX]
                    .iter()
                    .any(|prefix| key.starts_with(prefix))
            })
            .collect();
        assert_eq!(stored, expected);
        self.assert_whole_sessions(&users.users).await;
        users.users
    }

    /// The session ids the item of the user `id` lists (its `sessions` string set); empty without one.
    /// The ids whose import is recorded (`IMPORTED#<id>` items).
    pub async fn import_records(&self) -> BTreeSet<String> {
        self.stored_keys()
            .await
            .into_iter()
            .filter_map(|key| key.strip_prefix(IMPORT_PREFIX).map(str::to_owned))
            .collect()
    }

    pub async fn listed_sessions(&self, id: Uuid) -> BTreeSet<String> {
        let item = self.raw_item(&pk(&user_key(id))).await;
        match item.as_ref().and_then(|item| item.get("sessions")) {
            None => BTreeSet::new(),
            Some(AttributeValue::Ss(ids)) => ids.iter().cloned().collect(),
            Some(other) => panic!("the user's sessions are not a string set: {other:?}"),
        }
    }

    /// The ids of every `SESSION#` item in the table.
    pub async fn stored_sessions(&self) -> BTreeSet<String> {
        self.stored_keys()
            .await
            .into_iter()
            .filter_map(|key| key.strip_prefix(SESSION_PREFIX).map(str::to_owned))
            .collect()
    }

    /// Asserts that every session item is listed on its user's item, and every listed session has its item: no
    /// session that a global logout or the user's deletion would miss, none half-begun or half-ended.
    pub async fn assert_whole_sessions(&self, users: &[User]) {
        let mut listed = BTreeSet::new();
        for user in users {
            listed.extend(self.listed_sessions(user.id).await);
        }
        assert_eq!(self.stored_sessions().await, listed);
    }
}

impl TestTable {
    /// Makes `user` look as the backend stored users before skeletons: no `SKELETON#` item, no `skeleton`
    /// attribute on the user item.
    pub async fn forget_skeleton(&self, user: &User) {
        self.raw
            .delete_item()
            .table_name(self.users.table())
            .set_key(Some(skeleton_key(&Skeleton::of(&user.username))))
            .send()
            .await
            .expect("the skeleton item is deleted");
        self.raw
            .update_item()
            .table_name(self.users.table())
            .set_key(Some(user_key(user.id)))
            .update_expression(format!("REMOVE {SKELETON}"))
            .send()
            .await
            .expect("the skeleton attribute is removed");
    }

    /// Every item in the table, each as its attributes in name order, in key order: to compare two states whole.
    pub async fn all_items(&self) -> Vec<Vec<(String, String)>> {
        let mut items = Vec::new();
        for pk in self.stored_keys().await {
            let item = self.raw_item(&pk).await.expect("a listed item exists");
            let mut attributes: Vec<(String, String)> = item
                .into_iter()
                .map(|(name, value)| (name, format!("{value:?}")))
                .collect();
            attributes.sort();
            items.push(attributes);
        }
        items
    }

    /// The item with partition key `pk`, read without the repository.
    pub async fn raw_item(&self, pk: &str) -> Option<Item> {
        self.raw
            .get_item()
            .table_name(self.users.table())
            .key(PK, AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("the test table reads")
            .item
    }

    /// The attribute the table's TTL deletes by, if TTL is enabled.
    pub async fn ttl_attribute(&self) -> Option<String> {
        let description = self
            .raw
            .describe_time_to_live()
            .table_name(self.users.table())
            .send()
            .await
            .expect("the test table describes its TTL")
            .time_to_live_description?;
        let enabled = matches!(
            description.time_to_live_status(),
            Some(aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
        );
        enabled.then(|| description.attribute_name().unwrap_or_default().to_owned())
    }
}

/// An SDK client that bypasses the repository, with the dummy credentials moto accepts, on the repository's HTTP
/// client (the SDK has none by default in this workspace).
pub fn raw_client(endpoint: &str) -> Client {
    Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(vimcar::storage::dynamodb::http_client())
            .endpoint_url(endpoint)
            .region(Region::from_static("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "vimcar-tests"))
            .build(),
    )
}
