//! API tests: every line of the HTTP contract, through the handlers in-process with real `lambda_http` requests,
//! on every storage backend; and properties of the parsers over generated input.

// The backend matrix, `for_each_backend!`, as every suite runs it.
#[macro_use]
extern crate vimcar_tests;

use vimcar_tests::Users;

mod account;
mod auth;
mod events;
mod fixtures;
mod imported;
mod keys;
mod list_users;
mod properties;
mod register;
mod robustness;
mod sessions;
mod timing;
mod tokens;
