use http::Method;
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::{record_refused_proof, tokens_body};
use crate::accounts::{self, LogIn};
use crate::error::ApiError;
use crate::events::{Event, Kind, Origin};
use crate::login_attempts::throttle::Source;
use crate::request::{json_body, require_method, source_ip};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogInBody {
    username: Option<String>,
    password: Option<SecretString>,
}

pub(super) async fn handle(
    state: &AppState,
    request: Request,
    origin: Origin,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::POST)?;
    let body: LogInBody = json_body(&request)?;
    let source = Source::parse(source_ip(&request).as_deref());
    let attempt = LogIn::parse(body.username, body.password, source)?;
    // Who failed is not said: an unknown name has no user, and naming the user only when the name exists would make
    // the log an oracle of which names do.
    let logged_in = accounts::log_in(state, attempt)
        .await
        .inspect_err(|error| record_refused_proof(state, &origin, None, error))?;
    state.events.record(
        &origin,
        Event::new(Kind::LoginSucceeded).user(logged_in.tokens.user_id),
    );
    tokens_body(&logged_in.tokens, Some(logged_in.password_change_required))
}
