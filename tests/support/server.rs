//! `cargo lambda watch` as a child process, for the end-to-end tests: the workspace's one emulator harness,
//! `infra/emulator` (which `infra/contract-test` and the HTTP benchmark also use), with the panicking helpers tests
//! want.

use serde_json::Value;

pub use vimcar_emulator::{LambdaWatch, Options, cargo, free_port, workspace_root};

/// `cargo metadata` for the workspace's own packages: the router table (`metadata.lambda.watch.router`) and the
/// binaries, as `cargo lambda watch` sees them.
pub fn cargo_metadata() -> Value {
    vimcar_emulator::cargo_metadata().unwrap_or_else(|error| panic!("{error}"))
}
