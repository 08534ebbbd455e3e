//! How long a page of 100 users takes as the number of stored users grows: the first page, and one from the middle
//! reached through a cursor.
//!
//! Issue 6's targets: a page stays under 1 ms on SQLite, and a page at 1,000,000 users costs at most 1.3 times a
//! page at 1,000 (a page walks the primary key, so only the tree's depth should grow).
//!
//! DynamoDB runs on moto, whose Query looks at every item of the table in Python: about 40 µs an item, so a page at
//! 100,000 users (300,000 items) takes seconds, past the repository's own time budget, which rightly gives up. The
//! DynamoDB pages are therefore the exact Query `DynamoDb::list` sends, through the repository's own client with
//! its timeouts lifted. Their 100k/1k ratio describes moto more than DynamoDB; what carries over is that a page is
//! one Query.
//!
//! Users are seeded straight into storage (one SQL transaction, or BatchWriteItem), with a stand-in hash instead of
//! Argon2, once per size and only when a benchmark of that size is selected. Run with
//! `infra/with-moto cargo bench -p vimcar --bench list_scaling`; without `DYNAMODB_ENDPOINT` the DynamoDB
//! half fails, unless `VIMCAR_BENCH_SKIP_DYNAMODB=1` leaves it out.

mod support;

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::DateTime;
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main,
};
use rusqlite::{Connection, params};
use tokio::runtime::Runtime;
use uuid::{NoContext, Timestamp, Uuid};
use vimcar::storage::StoreError;
use vimcar::storage::dynamodb::{BATCH_WRITE_ITEMS, DynamoDb, Item, LISTING_INDEX, user_items};
use vimcar::storage::sqlite::Sqlite;
use vimcar::users::{
    Cursor, Email, PageSize, Skeleton, User, UserStore, Username, format_timestamp, parse_timestamp,
};

use support::{PLACEHOLDER_HASH, TempDb, placeholder_hash, runtime};
use vimcar::users::UserStoreExt;

const SQLITE_SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
const DYNAMODB_SIZES: [usize; 2] = [1_000, 100_000];

/// Where `infra/with-moto` says its server listens.
const ENDPOINT_VAR: &str = "DYNAMODB_ENDPOINT";
/// Set to `1` to benchmark SQLite alone, on a machine without moto.
const SKIP_VAR: &str = "VIMCAR_BENCH_SKIP_DYNAMODB";

/// SQLite's page cache while seeding, in KiB as `PRAGMA cache_size` takes it (negative): room for a million users.
const SEED_CACHE_KIB: i64 = -1024 * 1024;

/// Batches in flight while seeding DynamoDB: moto answers one request at a time (`infra/moto-server`), so more only
/// overlaps the client's own work with the server's.
const BATCHES_IN_FLIGHT: usize = 4;

/// The first seeded user registered at 2020-01-01T00:00:00Z, and one more every minute: each user has its own
/// millisecond, so UUIDv7 ids sort by registration, as the real ids do.
const FIRST_REGISTRATION_MS: u64 = 1_577_836_800_000;
const REGISTRATION_INTERVAL_MS: u64 = 60_000;

const FIRST_NAMES: [&str; 12] = [
    "anna", "ben", "carla", "deniz", "emil", "fatma", "georg", "hana", "ivan", "julia", "karim",
    "lena",
];
const LAST_NAMES: [&str; 10] = [
    "schmidt", "mueller", "yilmaz", "novak", "weber", "kowalski", "fischer", "rossi", "becker",
    "hoffmann",
];
const DOMAINS: [&str; 5] = [
    "example.com",
    "mail.example.org",
    "vimcar.example",
    "fleet.example.net",
    "example.de",
];

/// One seeded user as storage holds it: valid by construction (lower-case ASCII names and addresses), so that
/// seeding a million needs no parsing.
struct Seed {
    id: Uuid,
    username: String,
    skeleton: String,
    email: String,
    created_at: String,
}

impl Seed {
    /// The `n`th user ever registered.
    fn nth(n: usize) -> Self {
        let ms = FIRST_REGISTRATION_MS + n as u64 * REGISTRATION_INTERVAL_MS;
        let id = Uuid::new_v7(Timestamp::from_unix(
            NoContext,
            ms / 1000,
            (ms % 1000) as u32 * 1_000_000,
        ));
        let first = FIRST_NAMES[n % FIRST_NAMES.len()];
        let last = LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()];
        let username = format!("{first}.{last}{n}");
        let email = format!("{username}@{}", DOMAINS[n % DOMAINS.len()]);
        let created_at = DateTime::from_timestamp_millis(ms as i64).expect("a 2020s timestamp");
        let skeleton = Skeleton::of(&Username::parse(&username).expect("a valid seeded username"))
            .as_str()
            .to_owned();
        Self {
            id,
            username,
            skeleton,
            email,
            created_at: format_timestamp(&created_at),
        }
    }

    /// The same user through the domain's parsers, which must leave every field as seeded.
    fn user(&self) -> User {
        let user = User {
            id: self.id,
            username: Username::parse(&self.username).expect("a valid seeded username"),
            email: Email::parse(&self.email).expect("a valid seeded email"),
            created_at: parse_timestamp(&self.created_at).expect("a valid seeded timestamp"),
        };
        assert_eq!(user.username.as_str(), self.username);
        assert_eq!(user.email.as_str(), self.email);
        assert_eq!(format_timestamp(&user.created_at), self.created_at);
        user
    }
}

/// A seeded store and the cursor to its middle page.
struct Seeded<S> {
    store: S,
    middle: Cursor,
    /// Kept until the benchmarks of this size are done, then removed.
    _db: Option<TempDb>,
}

/// Benchmarks the first page and the middle page of `size` users, seeding them on first use. `page` reads the page
/// after a cursor (the first page without one) and answers how many users it holds.
fn bench_pages<S>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    size: usize,
    seed: impl FnOnce() -> Seeded<S>,
    page: impl AsyncFn(&S, Option<Cursor>) -> usize,
) {
    let seeded = OnceCell::new();
    let mut seed = Some(seed);
    let mut seeded_once = || {
        seeded.get_or_init(|| {
            let started = Instant::now();
            let seeded = seed.take().expect("seeded once")();
            eprintln!(
                "list_scaling: seeded {size} users in {:.1?}",
                started.elapsed()
            );
            seeded
        })
    };
    let full = PageSize::DEFAULT.get();
    group.bench_function(BenchmarkId::new("first_page", size), |b| {
        let seeded = seeded_once();
        b.to_async(runtime).iter(async || {
            assert_eq!(page(&seeded.store, None).await, full);
        });
    });
    group.bench_function(BenchmarkId::new("middle_page", size), |b| {
        let seeded = seeded_once();
        b.to_async(runtime).iter(async || {
            assert_eq!(page(&seeded.store, Some(seeded.middle)).await, full);
        });
    });
}

/// `count` users in a new SQLite file with the repository's schema: the first through the repository, to check
/// that the rows written here look like its own, the rest in one transaction of prepared inserts.
fn seed_sqlite(runtime: &Runtime, count: usize) -> Seeded<Sqlite> {
    let db = TempDb::new(&format!("list-scaling-{count}"));
    let users = Sqlite::open(db.path()).expect("the benchmark database opens");
    let probe = Seed::nth(0);
    runtime
        .block_on(users.insert(&probe.user(), Some(&placeholder_hash())))
        .expect("the first user is stored");
    let mut connection = Connection::open(db.path()).expect("the benchmark database opens");
    let stored = connection
        .query_row(
            "SELECT id, username, username_skeleton, email, password_hash, created_at FROM users",
            [],
            |row| {
                Ok([
                    row.get::<_, String>(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ])
            },
        )
        .expect("the first user reads back");
    assert_eq!(
        stored,
        [
            probe.id.to_string(),
            probe.username,
            probe.skeleton,
            probe.email,
            PLACEHOLDER_HASH.to_owned(),
            probe.created_at,
        ],
        "the seeded rows must look like the repository's"
    );

    // A crash mid-seed loses nothing worth keeping. A cache that holds the whole database keeps the one big
    // transaction from spilling pages to the log again and again: a million users take seconds instead of a minute.
    connection
        .pragma_update(None, "synchronous", "OFF")
        .expect("synchronous off");
    connection
        .pragma_update(None, "cache_size", SEED_CACHE_KIB)
        .expect("a seeding cache");
    let transaction = connection.transaction().expect("a transaction");
    let mut middle = None;
    {
        let mut insert = transaction
            .prepare(
                "INSERT INTO users (id, username, username_skeleton, email, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .expect("the insert prepares");
        for n in 1..count {
            let seed = Seed::nth(n);
            if n == count / 2 {
                middle = Some(Cursor::after(seed.id));
            }
            insert
                .execute(params![
                    seed.id.to_string(),
                    seed.username,
                    seed.skeleton,
                    seed.email,
                    PLACEHOLDER_HASH,
                    seed.created_at,
                ])
                .expect("a seeded user is stored");
        }
    }
    transaction.commit().expect("the seed commits");
    // Reads should find every page in the database file, not in the write-ahead log.
    connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("the log checkpoints");
    Seeded {
        store: users,
        middle: middle.expect("a middle user"),
        _db: Some(db),
    }
}

/// The DynamoDB endpoint, or `None` when the DynamoDB benchmarks are to be left out. Never skips silently.
fn dynamodb_endpoint() -> Option<String> {
    let endpoint = std::env::var(ENDPOINT_VAR).ok().filter(|v| !v.is_empty());
    if endpoint.is_none() && std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("list_scaling: {SKIP_VAR}=1, so the DynamoDB benchmarks are skipped");
        return None;
    }
    Some(endpoint.unwrap_or_else(|| {
        panic!(
            "{ENDPOINT_VAR} is not set: run `infra/with-moto cargo bench -p vimcar --bench list_scaling`, \
             which starts moto and sets it, or set {SKIP_VAR}=1 to benchmark SQLite alone"
        )
    }))
}

/// The items the backend writes for a seeded user, from the backend itself (`user_items`), for BatchWriteItem.
/// [`seed_dynamodb`] checks them against what the repository's `insert` stores.
fn items(seed: &Seed) -> [Item; 4] {
    let user = seed.user();
    let skeleton = Skeleton::of(&user.username);
    assert_eq!(skeleton.as_str(), seed.skeleton);
    user_items(&user, Some(&placeholder_hash()), &skeleton)
}

/// `count` users in a new table made by the repository's own `upgrade`: the first through the repository, to check
/// that the items written here are exactly its own, the rest with BatchWriteItem.
async fn seed_dynamodb(endpoint: &str, count: usize) -> Seeded<Listing> {
    let table = format!("vimcar-bench-{count}-{}", Uuid::now_v7().simple());
    let users = DynamoDb::connect(table, Some(endpoint))
        .await
        .expect("the DynamoDB client builds");
    users
        .upgrade()
        .await
        .expect("the benchmark table is created");
    let probe = Seed::nth(0);
    users
        .insert(&probe.user(), Some(&placeholder_hash()))
        .await
        .expect("the first user is stored");
    for expected in items(&probe) {
        let stored = users
            .client()
            .get_item()
            .table_name(users.table())
            .key("pk", expected["pk"].clone())
            .consistent_read(true)
            .send()
            .await
            .expect("the first user's items read back")
            .item;
        assert_eq!(
            stored.as_ref(),
            Some(&expected),
            "the seeded items must be the repository's"
        );
    }

    let mut middle = None;
    let mut pending = (1..count).flat_map(|n| {
        let seed = Seed::nth(n);
        if n == count / 2 {
            middle = Some(Cursor::after(seed.id));
        }
        items(&seed)
    });
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        let batch: Vec<_> = pending.by_ref().take(BATCH_WRITE_ITEMS).collect();
        if batch.is_empty() {
            break;
        }
        if in_flight.len() == BATCHES_IN_FLIGHT {
            in_flight.join_next().await.unwrap().expect("a batch task");
        }
        let users = users.clone();
        in_flight.spawn(async move { users.put_batch(batch).await.expect("a batch is written") });
    }
    drop(pending);
    while let Some(done) = in_flight.join_next().await {
        done.expect("a batch task");
    }
    let listing = Listing::of(&users);
    let middle = middle.expect("a middle user");
    listing.check_against(&users, middle).await;
    Seeded {
        store: listing,
        middle,
        _db: None,
    }
}

/// Sends the request `DynamoDb::list` sends (see `users/dynamodb/mod.rs`) for a page of 100, on a copy of the
/// repository's client without its timeouts.
struct Listing {
    client: Client,
    table: String,
}

impl Listing {
    fn of(users: &DynamoDb) -> Self {
        let config = users
            .client()
            .config()
            .to_builder()
            .timeout_config(TimeoutConfig::disabled())
            .build();
        Self {
            client: Client::from_conf(config),
            table: users.table().to_owned(),
        }
    }

    /// The ids of a page's users, in order.
    async fn page(&self, after: Option<Cursor>) -> Vec<String> {
        // One more than shown, as the repository asks, to know whether another page follows.
        let limit = PageSize::DEFAULT.get() as i32 + 1;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(LISTING_INDEX)
            .expression_attribute_names("#listing", "listing")
            .expression_attribute_values(":listing", AttributeValue::S("USERS".to_owned()))
            .limit(limit);
        let query = match after {
            None => query.key_condition_expression("#listing = :listing"),
            Some(cursor) => query
                .key_condition_expression("#listing = :listing AND #id > :after")
                .expression_attribute_names("#id", "id")
                .expression_attribute_values(
                    ":after",
                    AttributeValue::S(cursor.user_id().to_string()),
                ),
        };
        let output = query.send().await.expect("a page of users");
        let mut ids: Vec<String> = output
            .items()
            .iter()
            .map(|item| match item.get("id") {
                Some(AttributeValue::S(id)) => id.clone(),
                _ => panic!("a listed item without an id"),
            })
            .collect();
        ids.truncate(PageSize::DEFAULT.get());
        ids
    }

    /// Checks that these pages are the repository's, where moto answers within the repository's time budget.
    async fn check_against(&self, users: &DynamoDb, middle: Cursor) {
        for after in [None, Some(middle)] {
            match users.list(after, PageSize::DEFAULT).await {
                Ok(page) => {
                    let ids: Vec<String> = page.users.iter().map(|u| u.id.to_string()).collect();
                    assert_eq!(self.page(after).await, ids, "the repository's page");
                }
                Err(StoreError::Unavailable(error)) => {
                    eprintln!(
                        "list_scaling: the repository's own listing gave up on moto: {error:#}"
                    );
                }
                Err(error) => panic!("the repository cannot list the seeded table: {error:#}"),
            }
        }
    }
}

fn dynamodb(c: &mut Criterion) {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let runtime = runtime();
    let mut group = c.benchmark_group("list_scaling/dynamodb");
    // A page at 100k takes moto long enough that ten samples are plenty.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for size in DYNAMODB_SIZES {
        bench_pages(
            &mut group,
            &runtime,
            size,
            || runtime.block_on(seed_dynamodb(&endpoint, size)),
            async |listing, after| listing.page(after).await.len(),
        );
    }
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("list_scaling/sqlite");
    group
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4));
    for size in SQLITE_SIZES {
        bench_pages(
            &mut group,
            &runtime,
            size,
            || seed_sqlite(&runtime, size),
            async |users: &Sqlite, after| {
                let page = users.list(after, PageSize::DEFAULT).await.unwrap();
                page.users.len()
            },
        );
    }
    group.finish();
}

// DynamoDB first: a missing endpoint fails before minutes of SQLite, not after.
criterion_group!(benches, dynamodb, sqlite);
criterion_main!(benches);
