//! Real API Gateway HTTP API (payload 2.0) events, one per function, deserialised as the Lambda runtime does.

use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use vimcar::handlers::{
    change_password, delete_account, get_user, list_users, log_in, log_out, me, refresh, register,
};
use vimcar_tests::TestApp;
use vimcar_tests::requests::{header, json};

/// The id the get-user event asks for unless [`event_for`] names one.
const SOME_ID: &str = "0192f4a8-6d1e-7c3b-9a5f-2e8d4c6b1a90";

fn event(name: &str, token: Option<&str>) -> lambda_http::Request {
    event_for(name, token, SOME_ID)
}

/// The event `name`, with `token` in its Authorization header and `id` as its path's user id (get-user's).
fn event_for(name: &str, token: Option<&str>, id: &str) -> lambda_http::Request {
    let path = format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if let Some(token) = token {
        text = text.replace("{{token}}", token);
    }
    text = text.replace("{{id}}", id);
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

    // The account: who am I, a user by id, a password change (which ends every session), the account's deletion.
    let response = log_in(&app, event("auth", None)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let token = json(&response)["access_token"].as_str().unwrap().to_owned();
    let response = me(&app, event("me", Some(&token))).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let own = json(&response);
    assert_eq!(own["username"], "foo");
    assert_eq!(own["email"], "foo@bar.com");
    assert_eq!(own["is_admin"], false);
    let foo_id = own["id"].as_str().unwrap().to_owned();
    let bar_id = json(&app.list(&token).await)
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "bar")
        .expect("bar is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = get_user(&app, event_for("get-user", Some(&token), &foo_id)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(json(&response), own, "one's own record in full");
    let response = get_user(&app, event_for("get-user", Some(&token), &bar_id)).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(json(&response)["username"], "bar");
    assert!(
        json(&response).get("is_admin").is_none(),
        "another user's role is not shown"
    );
    let response = get_user(&app, event("get-user", Some(&token))).await;
    assert_eq!(response.status(), 404, "{}", json(&response));
    assert_eq!(json(&response)["type"], "/problems/not-found");

    let response = change_password(&app, event("change-password", Some(&token))).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let new_token = json(&response)["access_token"].as_str().unwrap().to_owned();
    let response = me(&app, event("me", Some(&token))).await;
    assert_eq!(
        response.status(),
        401,
        "the change ended the session the old token was in"
    );
    assert_eq!(json(&response)["type"], "/problems/session-ended");
    assert_eq!(
        log_in(&app, event("auth", None)).await.status(),
        401,
        "the old password is gone"
    );

    let response = delete_account(&app, event("delete-account", Some(&new_token))).await;
    assert_eq!(response.status(), 204, "{}", json(&response));
    let response = me(&app, event("me", Some(&new_token))).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(&response)["type"], "/problems/session-ended");
    let response = register(&app, event("register", None)).await;
    assert_eq!(
        response.status(),
        201,
        "foo's name and email are free again: {}",
        json(&response)
    );
}

for_each_backend!(api_gateway_events_drive_the_whole_flow);

/// Each function of the registry has its real API Gateway event (CONTRIBUTING.md, "Adding a route"), for one of its
/// routes.
#[test]
fn every_registered_function_has_an_api_gateway_event_fixture() {
    for function in vimcar::routes::FUNCTIONS {
        let request = event(function.name, Some("a.b.c"));
        // The route API Gateway matched, `{id}` and all: the path itself may carry a parameter's value.
        let RequestContext::ApiGatewayV2(context) = request.request_context() else {
            panic!(
                "tests/fixtures/{}.json is not a payload 2.0 event",
                function.name
            );
        };
        let route_key = context.route_key.unwrap_or_default();
        assert!(
            function.routes.iter().any(|route| route_key
                == format!("{} {}", route.method, route.path)
                && route.method == request.method().as_str()),
            "tests/fixtures/{}.json is a {} event, not one of the function's routes",
            function.name,
            route_key
        );
    }
}
