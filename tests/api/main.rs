//! API tests: every line of the HTTP contract, through the handlers in-process with real `lambda_http` requests,
//! on every storage backend; and properties of the parsers over generated input.

use std::sync::Arc;

use vimcar::users::UserRepository;

type Users = Arc<dyn UserRepository>;

/// Runs each named check (an `async fn(Users)` in the invoking module) once per storage backend, each on a fresh,
/// empty store.
macro_rules! for_each_backend {
    ($($check:ident),* $(,)?) => {
        for_each_backend!(@backend sqlite, vimcar_tests::sqlite_users; $($check),*);
        for_each_backend!(@backend dynamodb, vimcar_tests::dynamodb_users; $($check),*);
    };
    (@backend $backend:ident, $open:path; $($check:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check($open().await).await;
                }
            )*
        }
    };
}

mod auth;
mod fixtures;
mod list_users;
mod properties;
mod register;
mod robustness;
mod timing;
mod tokens;
