//! Everything the vimcar Lambda functions share: configuration, the user domain and its repository backends,
//! password hashing, tokens, and one request handler per function.
//!
//! Each binary under `functions/` only builds an [`AppState`] once and hands requests to its handler in
//! [`handlers`].

pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod handlers;
pub mod http;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod users;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;
