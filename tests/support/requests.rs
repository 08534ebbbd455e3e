//! Building `lambda_http` requests the way the runtime does, and reading the responses.

use std::collections::HashMap;

use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::{Body, Request, RequestExt, Response};

/// A request with a JSON body and `Content-Type: application/json`.
pub fn post_json(path: &str, body: &serde_json::Value) -> Request {
    post_raw(path, Some("application/json"), body.to_string())
}

/// A POST with any content type and body text.
pub fn post_raw(path: &str, content_type: Option<&str>, body: impl Into<String>) -> Request {
    let mut builder = http::Request::builder().method("POST").uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(Body::Text(body.into()))
        .expect("a valid request")
}

/// A POST of `body` (JSON) with `Authorization: JWT <token>`.
pub fn post_json_with_token(path: &str, body: &serde_json::Value, token: &str) -> Request {
    let mut request = post_json(path, body);
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        format!("JWT {token}").parse().expect("a valid header"),
    );
    request
}

/// A request with `method` to `path_and_query`, with the given headers, and the query parameters set the way
/// lambda_http sets them from an API Gateway event.
pub fn request(method: &str, path_and_query: &str, headers: &[(&str, &str)]) -> Request {
    let mut builder = http::Request::builder().method(method).uri(path_and_query);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    // Test queries are plain ASCII, so no percent-decoding is needed.
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    if let Some((_, raw)) = path_and_query.split_once('?') {
        for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            query
                .entry(name.to_owned())
                .or_default()
                .push(value.to_owned());
        }
    }
    builder
        .body(Body::Empty)
        .expect("a valid request")
        .with_query_string_parameters(QueryMap::from(query))
}

/// `request` as API Gateway delivers it from a client at `ip` (`requestContext.http.sourceIp`).
pub fn from_source(request: Request, ip: &str) -> Request {
    let mut context =
        lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(ip.to_owned());
    request.with_request_context(lambda_http::request::RequestContext::ApiGatewayV2(context))
}

/// `GET path_and_query` with `Authorization: JWT <token>`.
pub fn get_with_token(path_and_query: &str, token: &str) -> Request {
    request(
        "GET",
        path_and_query,
        &[("authorization", &format!("JWT {token}"))],
    )
}

/// A request with `method`, a JSON `body` and `Authorization: JWT <token>`.
pub fn json_with_token(method: &str, path: &str, body: &serde_json::Value, token: &str) -> Request {
    let mut request = post_json_with_token(path, body, token);
    *request.method_mut() = method.parse().expect("a valid method");
    request
}

/// `request` with the path parameter `name` set to `value`, as API Gateway sets it from the route's template
/// (`/api/users/{id}`).
pub fn with_path_parameter(request: Request, name: &str, value: &str) -> Request {
    let parameters = HashMap::from([(name.to_owned(), vec![value.to_owned()])]);
    request.with_path_parameters(QueryMap::from(parameters))
}

/// Asserts a problem answer: its status, `type` and `detail`, as a client reads them.
pub fn assert_problem(response: &Response<Body>, status: u16, kind: &str, detail: &str) {
    let problem = json(response);
    assert_eq!(response.status(), status, "{problem}");
    assert_eq!(
        header(response, "content-type"),
        vimcar::response::PROBLEM_JSON
    );
    assert_eq!(problem["type"], kind, "{problem}");
    assert_eq!(problem["status"], status, "{problem}");
    assert_eq!(problem["detail"], detail, "{problem}");
}

/// The response body as JSON.
/// The names of a JSON object's fields, sorted: what a test compares an answer's shape with.
pub fn field_names(value: &serde_json::Value) -> Vec<&str> {
    let mut names: Vec<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

pub fn json(response: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|e| {
        panic!(
            "the body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(response.body().as_ref())
        )
    })
}

/// A response header as text, or "" when absent.
pub fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("a text header"))
        .unwrap_or_default()
}
