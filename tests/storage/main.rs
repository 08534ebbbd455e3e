//! Storage tests: the repository behaviour suite on every backend, races for one name or address, DynamoDB faults
//! and the login-attempt counters' TTL.

mod faults;
mod races;
mod repository;
mod ttl;
