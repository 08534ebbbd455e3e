//! Storage tests: the repository and session-store behaviour suites on every backend, races for one name or
//! address, DynamoDB faults and the login-attempt counters' TTL.

// The backend matrix, `for_each_backend!`, as every suite runs it.
#[macro_use]
extern crate vimcar_tests;

mod accounts;
mod faults;
mod imports;
mod races;
mod repository;
mod sessions;
mod ttl;
