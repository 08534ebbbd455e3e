//! Real API Gateway HTTP API (payload 2.0) events, one per function, deserialised as the Lambda runtime does.

use vimcar::handlers::{list_users, log_in, log_out, refresh, register};
use vimcar_tests::TestApp;
use vimcar_tests::requests::{header, json};

fn event(name: &str, token: Option<&str>) -> lambda_http::Request {
    let path = format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if let Some(token) = token {
        text = text.replace("{{token}}", token);
    }
    lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} is not an API Gateway event: {e}"))
}

async fn api_gateway_events_drive_the_whole_flow(app: TestApp) {
    // The register event carries its body base64-encoded, as API Gateway does for some clients.
    let response = register(&app, event("register", None)).await;
    assert_eq!(response.status(), 201, "{}", json(&response));
    assert_eq!(json(&response)["username"], "foo");
    assert_eq!(app.register("bar").await.status(), 201);

    let response = log_in(&app, event("auth", None)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let refresh_token = json(&response)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = refresh(&app, event("refresh", Some(&refresh_token))).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let token = json(&response)["access_token"].as_str().unwrap().to_owned();
    let next_refresh_token = json(&response)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        next_refresh_token, refresh_token,
        "a refresh answers the next token"
    );

    let response = list_users(&app, event("list-users", Some(&token))).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let listed = json(&response);
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the event asks for limit=1"
    );
    assert_eq!(listed[0]["username"], "foo");
    assert!(header(&response, "link").starts_with("</api/users?limit=1&cursor="));

    // The logout event has an Authorization header and no body at all, as API Gateway passes a bodiless POST.
    let response = log_out(&app, event("logout", Some(&token))).await;
    assert_eq!(response.status(), 204, "{}", json(&response));
    let response = list_users(&app, event("list-users", Some(&token))).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(&response)["type"], "/problems/session-ended");
    let response = refresh(&app, event("refresh", Some(&next_refresh_token))).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(&response)["type"], "/problems/session-ended");
}

for_each_backend!(api_gateway_events_drive_the_whole_flow);

/// Each function of the registry has its real API Gateway event (CONTRIBUTING.md, "Adding a route"), for one of its
/// routes.
#[test]
fn every_registered_function_has_an_api_gateway_event_fixture() {
    for function in vimcar::routes::FUNCTIONS {
        let request = event(function.name, Some("a.b.c"));
        assert!(
            function
                .routes
                .iter()
                .any(|route| route.method == request.method().as_str()
                    && route.path == request.uri().path()),
            "tests/fixtures/{}.json is a {} {} event, not one of the function's routes",
            function.name,
            request.method(),
            request.uri().path()
        );
    }
}
