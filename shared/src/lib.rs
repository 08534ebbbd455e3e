//! Everything the vimcar Lambda functions share: configuration, the domain and its use cases, the storage ports and
//! their backends, password hashing, tokens, and one request handler per function.
//!
//! Each binary under `functions/` serves its entry of the registry in [`routes`]: it builds an [`AppState`] once and
//! hands requests to its handler in [`handlers`], which parses them, calls one use case in [`accounts`] and answers.

pub mod accounts;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod handlers;
pub mod keys;
pub mod login_attempts;
pub mod passwords;
pub mod request;
pub mod response;
pub mod routes;
pub mod sessions;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod tokens;
pub mod users;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;
