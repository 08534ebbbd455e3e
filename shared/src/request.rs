//! Reading requests: body limits, JSON parsing, the Authorization header, the request id and the source address.

use http::Method;
use http::header::{self, HeaderMap};
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body accepted, checked before any parsing or hashing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The Lambda request id, or `local` when the request did not come through the Lambda runtime (in-process tests).
pub fn request_id(request: &Request) -> String {
    request
        .lambda_context_ref()
        .map(|context| context.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

/// The client's address as API Gateway saw it (`requestContext.http.sourceIp`), for login throttling.
pub fn source_ip(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => {
            context.http.source_ip.clone()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Refuses any method but `allowed`.
pub fn require_method(request: &Request, allowed: Method) -> Result<(), ApiError> {
    if request.method() == allowed {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed(allowed))
    }
}

/// Reads a JSON body into `T`: 413 when too large, 415 when not JSON, 400 when it does not parse or fit `T`.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if !is_json(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.is_empty() {
        return Err(ApiError::MalformedBody("the body is empty".to_owned()));
    }
    // serde reads a struct from a JSON array too (its fields in order): every body of this API is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::MalformedBody("expected a JSON object".to_owned()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedBody(e.to_string()))
}

/// `application/json` or any `+json` type, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

/// The token of an `Authorization: JWT <token>` or `Bearer <token>` header (scheme in any case).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(ApiError::Unauthorized(
        "An Authorization header with a token is required",
    ))?;
    if values.next().is_some() {
        return Err(ApiError::Unauthorized(
            "Send one Authorization header, not several",
        ));
    }
    parse_authorization(value.to_str().unwrap_or_default()).ok_or(ApiError::Unauthorized(
        "The Authorization header must be `JWT <token>` or `Bearer <token>`",
    ))
}

fn parse_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    let known = scheme.eq_ignore_ascii_case("jwt") || scheme.eq_ignore_ascii_case("bearer");
    let well_formed = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
    (known && well_formed).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_request_id_comes_from_the_lambda_context() {
        let mut context = lambda_http::Context::default();
        context.request_id = "8f5b2a34-lambda".to_owned();
        let request = Request::default().with_lambda_context(context);
        assert_eq!(request_id(&request), "8f5b2a34-lambda");
        assert_eq!(request_id(&Request::default()), "local");
    }

    #[test]
    fn jwt_and_bearer_schemes_are_accepted_in_any_case() {
        for value in [
            "JWT abc.def.ghi",
            "jwt abc.def.ghi",
            "Bearer abc.def.ghi",
            "bEaReR  abc.def.ghi",
        ] {
            assert_eq!(
                bearer_token(&headers(&[("authorization", value)])).unwrap(),
                "abc.def.ghi",
                "{value}"
            );
        }
    }

    #[test]
    fn other_schemes_empty_tokens_and_spaces_are_refused() {
        for value in [
            "Basic Zm9vOmJhcg==",
            "JWT",
            "JWT ",
            "Bearer a b",
            "abc.def.ghi",
            "Token abc",
        ] {
            assert!(
                bearer_token(&headers(&[("authorization", value)])).is_err(),
                "{value}"
            );
        }
    }

    #[test]
    fn a_missing_or_doubled_authorization_header_is_refused() {
        assert!(bearer_token(&headers(&[])).is_err());
        let doubled = headers(&[
            ("authorization", "JWT a.b.c"),
            ("authorization", "JWT a.b.c"),
        ]);
        assert!(bearer_token(&doubled).is_err());
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters_and_suffixes() {
        for value in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json(&headers(&[("content-type", value)])), "{value}");
        }
        for value in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonp",
        ] {
            assert!(!is_json(&headers(&[("content-type", value)])), "{value}");
        }
        assert!(!is_json(&headers(&[])));
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_malformed_even_when_its_values_would_fit() {
        #[derive(serde::Deserialize, Debug)]
        struct Named {
            name: String,
        }
        let request = |body: &str| {
            http::Request::builder()
                .header("content-type", "application/json")
                .body(Body::Text(body.to_owned()))
                .unwrap()
        };
        for body in [r#"["alice"]"#, r#" ["alice"]"#, r#""alice""#, "5", "null"] {
            assert!(
                matches!(
                    json_body::<Named>(&request(body)),
                    Err(ApiError::MalformedBody(_))
                ),
                "{body}"
            );
        }
        assert_eq!(
            json_body::<Named>(&request(" \n{\"name\": \"alice\"}"))
                .unwrap()
                .name,
            "alice"
        );
    }
}
