//! `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: the public keys that verify vimcar's
//! tokens, for other services, and where to find them.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::keys::{JWKS_MAX_AGE, PublicJwk};
use crate::request::require_method;
use crate::response::json_response;
use crate::state::AppState;

/// Where the JWKS is, under the API's own address.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

#[derive(Serialize)]
struct Jwks<'a> {
    keys: Vec<PublicJwk<'a>>,
}

#[derive(Serialize)]
struct Discovery<'a> {
    issuer: &'a str,
    jwks_uri: String,
}

/// Every public key that may verify a live token (standby, current, previous); none with HS256, whose key is never
/// published. Cacheable: a rotated-in key waits on standby longer than the cache lives.
pub(super) async fn jwks(state: &AppState, request: Request) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::GET)?;
    let keys = state.tokens.published_keys();
    let body = Jwks {
        keys: keys.iter().map(|key| key.jwk()).collect(),
    };
    cacheable(json_response(StatusCode::OK, &body)?)
}

/// The issuer and the JWKS's address (the two members an OpenID Connect library needs to verify tokens).
pub(super) async fn discovery(
    state: &AppState,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    require_method(&request, Method::GET)?;
    let body = Discovery {
        issuer: state.tokens.issuer(),
        jwks_uri: format!("{}{JWKS_PATH}", base_url(&request)),
    };
    cacheable(json_response(StatusCode::OK, &body)?)
}

fn cacheable(mut response: Response<Body>) -> Result<Response<Body>, ApiError> {
    let value = format!("public, max-age={}", JWKS_MAX_AGE.as_secs());
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&value).expect("a header value of ASCII"),
    );
    Ok(response)
}

/// The API's address as the client reached it: API Gateway's domain name (always HTTPS), or, locally, the `Host`
/// header over plain HTTP.
fn base_url(request: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(domain) = context.domain_name.as_deref()
        && !domain.is_empty()
        && !is_local(domain)
    {
        return format!("https://{domain}");
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty())
        .unwrap_or("localhost");
    let scheme = if is_local(host) { "http" } else { "https" };
    format!("{scheme}://{host}")
}

fn is_local(host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}
