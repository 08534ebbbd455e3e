//! One test app (zero2prod's `spawn_app`): the state a function builds at start-up, on a fresh store of one backend,
//! with the user's steps as helpers; and the backend matrix, [`for_each_backend!`](crate::for_each_backend).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use lambda_http::{Body, Response};
use serde_json::json;
use vimcar::AppState;
use vimcar::config::{Config, JwtAlgorithm, KeysAt};
use vimcar::events::{Collector, Events};
use vimcar::keys::{KeyRecord, KeySet, KeyStatus};
use vimcar::login_attempts::LoginAttempts;
use vimcar::sessions::SessionStore;
use vimcar::storage::Storage;
use vimcar::users::{ImportStore, UserStore};

use crate::dynamodb::{TestTable, endpoint};
use crate::requests::{
    get_with_token, json, json_with_token, post_json, post_json_with_token, request,
    with_path_parameter,
};
use crate::{STRONG_PASSWORD, config, es256_config, rotated_keys};

/// A storage backend seen through all its ports, as the tests hold one, and the import port the admin command
/// opens beside them.
pub trait Backend: UserStore + LoginAttempts + SessionStore + ImportStore {}

impl<T: UserStore + LoginAttempts + SessionStore + ImportStore + ?Sized> Backend for T {}

/// A backend, as the handlers and the tests hold it.
pub type Users = Arc<dyn Backend>;

/// A fresh, empty store of one backend, and on DynamoDB its table, to look at what was really stored.
pub struct TestStore {
    pub users: Users,
    /// The table behind `users`, on DynamoDB; `None` on SQLite.
    pub table: Option<TestTable>,
}

impl TestStore {
    /// SQLite in memory.
    pub async fn sqlite() -> Self {
        Self {
            users: Arc::new(
                vimcar::storage::sqlite::Sqlite::in_memory().expect("in-memory SQLite opens"),
            ),
            table: None,
        }
    }

    /// A new table on the test server. Panics when there is no test server.
    pub async fn dynamodb() -> Self {
        let table = TestTable::create(&endpoint()).await;
        Self {
            users: Arc::new(table.users.clone()),
            table: Some(table),
        }
    }
}

impl From<TestStore> for Users {
    fn from(store: TestStore) -> Self {
        store.users
    }
}

impl From<TestStore> for TestApp {
    fn from(store: TestStore) -> Self {
        TestApp::new(store.users)
    }
}

/// What a login or a refresh hands a client: an access token, and the refresh token that gets the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

impl TokenPair {
    /// The pair in a 200 answer of `POST /auth` or `POST /auth/refresh`, asserting the status.
    pub fn from_response(response: &Response<Body>) -> Self {
        assert_eq!(response.status(), 200, "{}", json(response));
        let body = json(response);
        let field = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("the answer has no {name}: {body}"))
                .to_owned()
        };
        Self {
            access: field("access_token"),
            refresh: field("refresh_token"),
        }
    }
}

/// The application over a store, as a function builds it at start-up, with the user's steps. Derefs to the
/// [`AppState`], so `handlers::log_in(&app, request)` takes it as it is.
pub struct TestApp {
    state: AppState,
    /// The store the application writes to.
    pub users: Users,
    /// With ES256, the key set it signs and verifies with (the signers' copy).
    pub keys: Option<KeySet>,
    /// Whether it accepts HS256 tokens under the test secret: with HS256, or with ES256 and `JWT_ACCEPT_HS256`.
    pub accepts_hs256: bool,
    /// Every security event line the application wrote (instead of standard output).
    pub events: Arc<Collector>,
}

/// Every port of one backend.
pub fn storage(users: &Users) -> Storage {
    Storage {
        users: users.clone(),
        attempts: users.clone(),
        sessions: users.clone(),
    }
}

impl TestApp {
    /// The application over `users`, with the tests' [`config`].
    pub fn new(users: Users) -> Self {
        Self::with_config(&config(), users)
    }

    /// The application over `users` with another configuration.
    pub fn with_config(config: &Config, users: Users) -> Self {
        let events = Arc::new(Collector::default());
        let mut state = AppState::with_storage(config, storage(&users)).expect("the state builds");
        state.events = Events::new(&config.metrics_namespace, events.clone());
        Self {
            state,
            events,
            users,
            keys: match &config.tokens.keys {
                Some(KeysAt::Inline(set)) => Some(set.clone()),
                _ => None,
            },
            accepts_hs256: config.tokens.algorithm == JwtAlgorithm::Hs256
                || config.tokens.accept_hs256,
        }
    }

    /// The application over `users` in ES256 mode, with a [`rotated_keys`] set (a key of each status), and with
    /// `accept_hs256` still accepting HS256 tokens under the test secret.
    pub fn es256(users: Users, accept_hs256: bool) -> Self {
        Self::with_config(&es256_config(rotated_keys(), accept_hs256), users)
    }

    /// With ES256, the key of the set that has `status` now. Panics in HS256 mode or if the set has none.
    pub fn key(&self, status: KeyStatus) -> &KeyRecord {
        let set = self.keys.as_ref().expect("an ES256 app");
        let now = chrono::Utc::now();
        set.keys
            .iter()
            .find(|key| set.status(key, now) == status)
            .unwrap_or_else(|| panic!("the key set has no {status} key"))
    }

    /// The application over a fresh SQLite store.
    pub async fn sqlite() -> Self {
        TestStore::sqlite().await.into()
    }

    /// `POST /api/users` for `name`, with the email `name@example.com` and [`STRONG_PASSWORD`].
    pub async fn register(&self, name: &str) -> Response<Body> {
        let body = json!({"username": name, "password": STRONG_PASSWORD, "email": format!("{name}@example.com")});
        vimcar::handlers::register(self, post_json("/api/users", &body)).await
    }

    /// Registers `name` as [`register`](Self::register) does, asserting a 201, and answers the new user's id.
    pub async fn registered(&self, name: &str) -> String {
        let response = self.register(name).await;
        assert_eq!(response.status(), 201, "{}", json(&response));
        json(&response)["id"]
            .as_str()
            .expect("a new user has an id")
            .to_owned()
    }

    /// `POST /auth` as `name` with [`STRONG_PASSWORD`], asserting a 200, and answers the access token.
    pub async fn log_in(&self, name: &str) -> String {
        let body = json!({"username": name, "password": STRONG_PASSWORD});
        let response = vimcar::handlers::log_in(self, post_json("/auth", &body)).await;
        assert_eq!(response.status(), 200, "{}", json(&response));
        json(&response)["access_token"]
            .as_str()
            .expect("a login answers a token")
            .to_owned()
    }

    /// `POST /auth` as `name` with [`STRONG_PASSWORD`], asserting a 200, and answers the new session's tokens.
    pub async fn log_in_pair(&self, name: &str) -> TokenPair {
        let body = json!({"username": name, "password": STRONG_PASSWORD});
        TokenPair::from_response(&vimcar::handlers::log_in(self, post_json("/auth", &body)).await)
    }

    /// `POST /auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Response<Body> {
        let body = json!({ "refresh_token": refresh_token });
        vimcar::handlers::refresh(self, post_json("/auth/refresh", &body)).await
    }

    /// [`refresh`](Self::refresh), asserting a 200, and answers the next tokens.
    pub async fn refreshed(&self, refresh_token: &str) -> TokenPair {
        TokenPair::from_response(&self.refresh(refresh_token).await)
    }

    /// `POST /auth/logout` with `body`, and with `Authorization: JWT <access>` when given; with neither, an empty
    /// POST.
    pub async fn log_out(
        &self,
        body: Option<&serde_json::Value>,
        access: Option<&str>,
    ) -> Response<Body> {
        let request = match (body, access) {
            (Some(body), Some(access)) => post_json_with_token("/auth/logout", body, access),
            (Some(body), None) => post_json("/auth/logout", body),
            (None, Some(access)) => request(
                "POST",
                "/auth/logout",
                &[("authorization", &format!("JWT {access}"))],
            ),
            (None, None) => request("POST", "/auth/logout", &[]),
        };
        vimcar::handlers::log_out(self, request).await
    }

    /// Registers `name` and logs in: the id and the token a new client holds.
    pub async fn signed_up(&self, name: &str) -> (String, String) {
        let id = self.registered(name).await;
        (id, self.log_in(name).await)
    }

    /// `GET /api/users` with `token`.
    pub async fn list(&self, token: &str) -> Response<Body> {
        vimcar::handlers::list_users(self, get_with_token("/api/users", token)).await
    }

    /// `GET /api/users/me` with `token`.
    pub async fn me(&self, token: &str) -> Response<Body> {
        vimcar::handlers::me(self, get_with_token("/api/users/me", token)).await
    }

    /// `GET /api/users/{id}` with `token`, the path parameter set as API Gateway sets it.
    pub async fn get_user(&self, id: &str, token: &str) -> Response<Body> {
        let request = get_with_token(&format!("/api/users/{id}"), token);
        vimcar::handlers::get_user(self, with_path_parameter(request, "id", id)).await
    }

    /// `POST /api/users/me/password` with `token` and `{"current_password", "new_password"}`.
    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Response<Body> {
        let body = json!({"current_password": current, "new_password": new});
        let request = post_json_with_token("/api/users/me/password", &body, token);
        vimcar::handlers::change_password(self, request).await
    }

    /// `DELETE /api/users/me` with `token` and `{"password"}`.
    pub async fn delete_account(&self, token: &str, password: &str) -> Response<Body> {
        let body = json!({ "password": password });
        let request = json_with_token("DELETE", "/api/users/me", &body, token);
        vimcar::handlers::delete_account(self, request).await
    }

    /// The usernames of the first page, asserting a 200.
    pub async fn listed_names(&self, token: &str) -> Vec<String> {
        let response = self.list(token).await;
        assert_eq!(response.status(), 200, "{}", json(&response));
        json(&response)
            .as_array()
            .expect("a listing is an array")
            .iter()
            .map(|user| user["username"].as_str().expect("a username").to_owned())
            .collect()
    }
}

impl Deref for TestApp {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.state
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut AppState {
        &mut self.state
    }
}

/// The backend matrix: runs each named check, an `async fn` in the invoking module, once per storage backend (in
/// modules `sqlite` and `dynamodb`), each on a fresh, empty [`TestStore`]. A check takes the store, its
/// [`Users`] or a [`TestApp`] over it. `worker_threads = N;` first sets the runtime's threads (2 otherwise).
///
/// `es256: checks` runs checks that take a [`TestApp`] on each backend in ES256 mode ([`TestApp::es256`], in
/// modules `es256::sqlite` and `es256::dynamodb`); `es256_accepting_hs256: checks` the same with
/// `JWT_ACCEPT_HS256=true`.
#[macro_export]
macro_rules! for_each_backend {
    (es256: $($check:ident),* $(,)?) => {
        mod es256 {
            $crate::for_each_backend!(@mode sqlite, false; $($check),*);
            $crate::for_each_backend!(@mode dynamodb, false; $($check),*);
        }
    };
    (es256_accepting_hs256: $($check:ident),* $(,)?) => {
        mod es256_accepting_hs256 {
            $crate::for_each_backend!(@mode sqlite, true; $($check),*);
            $crate::for_each_backend!(@mode dynamodb, true; $($check),*);
        }
    };
    (@mode $backend:ident, $accept_hs256:literal; $($check:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::super::$check($crate::TestApp::es256(
                        $crate::TestStore::$backend().await.users,
                        $accept_hs256,
                    ))
                    .await;
                }
            )*
        }
    };
    (worker_threads = $threads:literal; $($check:ident),* $(,)?) => {
        $crate::for_each_backend!(@backend sqlite, $threads; $($check),*);
        $crate::for_each_backend!(@backend dynamodb, $threads; $($check),*);
    };
    ($($check:ident),* $(,)?) => {
        $crate::for_each_backend!(worker_threads = 2; $($check),*);
    };
    (@backend $backend:ident, $threads:literal; $($check:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $check() {
                    super::$check(::core::convert::Into::into(
                        $crate::TestStore::$backend().await,
                    ))
                    .await;
                }
            )*
        }
    };
}
