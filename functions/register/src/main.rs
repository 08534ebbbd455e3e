//! The `register` Lambda function: builds the shared state once, then serves requests with its handler.

use lambda_http::{Error, Request, run, service_fn};
use vimcar::AppState;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vimcar::telemetry::init();
    let state = AppState::from_env().await.inspect_err(|error| {
        tracing::error!(error = format!("{error:#}"), "register cannot start");
    })?;
    let state = &state;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(vimcar::handlers::register(state, request).await)
    }))
    .await
}
