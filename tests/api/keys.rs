//! ES256 and the published keys: the whole user flow in each token mode (HS256, ES256, ES256 still accepting
//! HS256), each token checked the way another service would check it (with the served JWKS); and the JWKS and
//! discovery documents themselves.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};
use vimcar::config::TokenConfig;
use vimcar::handlers::{discovery, jwks, log_in};
use vimcar::keys::KeyStatus;
use vimcar::tokens::Claims;
use vimcar_tests::requests::{header, json, post_json, request};
use vimcar_tests::signing::claims_of;
use vimcar_tests::{SECRET, STRONG_PASSWORD, TestApp, config, es256_config, rotated_keys};

const NEW_PASSWORD: &str = "a different horse battery staple";
const SESSION_ENDED: &str = "/problems/session-ended";

/// `GET /.well-known/jwks.json`, asserting a 200, and answers the body.
async fn served_jwks(app: &TestApp) -> Value {
    let response = jwks(app, request("GET", "/.well-known/jwks.json", &[])).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    json(&response)
}

/// Checks `token` as another service would: with ES256, with the key the served JWKS lists under its `kid`, the
/// key that signs now; with HS256, with the secret. Answers its claims.
async fn verified_as_a_client_would(app: &TestApp, token: &str) -> Claims {
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let (key, algorithm) = match &app.keys {
        Some(_) => {
            assert_eq!(header.alg, Algorithm::ES256);
            let kid = header.kid.expect("an ES256 token names its key");
            assert_eq!(
                kid,
                app.key(KeyStatus::Current).kid,
                "the current key signs"
            );
            let jwks = served_jwks(app).await;
            let jwk = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|jwk| jwk["kid"] == kid.as_str())
                .unwrap_or_else(|| panic!("the JWKS lists no key {kid}: {jwks}"))
                .clone();
            let key = DecodingKey::from_ec_components(
                jwk["x"].as_str().unwrap(),
                jwk["y"].as_str().unwrap(),
            )
            .unwrap();
            (key, Algorithm::ES256)
        }
        None => {
            assert_eq!(header.alg, Algorithm::HS256);
            assert_eq!(header.kid, None, "an HS256 token names no key");
            (
                DecodingKey::from_secret(SECRET.as_bytes()),
                Algorithm::HS256,
            )
        }
    };
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&["vimcar"]);
    validation.set_audience(&["vimcar-api"]);
    decode::<Claims>(token, &key, &validation).unwrap().claims
}

/// A token whose signature still checks but whose session is over.
fn assert_ended(response: &lambda_http::Response<lambda_http::Body>, what: &str) {
    assert_eq!(response.status(), 401, "{what}: {}", json(response));
    assert_eq!(json(response)["type"], SESSION_ENDED, "{what}");
}

/// Every route, in the order a user meets them, with every token checked from outside.
async fn the_whole_user_flow_works(app: TestApp) {
    // Register (which holds no key at all in a deployment) and log in.
    let alice = app.registered("alice").await;
    let bob = app.registered("bob").await;
    let first = app.log_in_pair("alice").await;
    let claims = verified_as_a_client_would(&app, &first.access).await;
    assert_eq!(claims.sub.to_string(), alice);

    // The routes that need a caller.
    assert_eq!(json(&app.me(&first.access).await)["username"], "alice");
    let response = app.get_user(&bob, &first.access).await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(json(&response)["username"], "bob");
    assert_eq!(app.listed_names(&first.access).await, ["alice", "bob"]);

    // Refresh: the next access token is signed the same way, in the same session.
    let refreshed = app.refreshed(&first.refresh).await;
    let next = verified_as_a_client_would(&app, &refreshed.access).await;
    assert_eq!(next.sid, claims.sid);
    assert_eq!(app.me(&refreshed.access).await.status(), 200);

    // A password change answers a new session's pair and ends the old one.
    let response = app
        .change_password(&refreshed.access, STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let changed = vimcar_tests::TokenPair::from_response(&response);
    let fresh = verified_as_a_client_would(&app, &changed.access).await;
    assert_ne!(fresh.sid, claims.sid);
    assert_ended(&app.me(&refreshed.access).await, "the old session's token");
    assert_eq!(app.me(&changed.access).await.status(), 200);

    // Log out: the session's token stops working.
    assert_eq!(app.log_out(None, Some(&changed.access)).await.status(), 204);
    assert_ended(&app.me(&changed.access).await, "a logged-out token");

    // Log in with the new password, and delete the account.
    let response = log_in(
        &app,
        post_json(
            "/auth",
            &json!({"username": "alice", "password": NEW_PASSWORD}),
        ),
    )
    .await;
    let last = vimcar_tests::TokenPair::from_response(&response);
    verified_as_a_client_would(&app, &last.access).await;
    let response = app.delete_account(&last.access, NEW_PASSWORD).await;
    assert_eq!(response.status(), 204, "{:?}", response.body());
    assert_ended(&app.me(&last.access).await, "a deleted user's token");
    // Bob is untouched.
    let bobs = app.log_in_pair("bob").await;
    assert_eq!(app.listed_names(&bobs.access).await, ["bob"]);
}

/// With ES256: the standby, current and previous keys, each exactly as a JWK with its public parts, never the
/// retired one and never a private part; cacheable for ten minutes.
async fn the_jwks_lists_every_key_that_may_verify_a_live_token(app: TestApp) {
    let response = jwks(&app, request("GET", "/.well-known/jwks.json", &[])).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "public, max-age=600");
    assert!(header(&response, "content-type").starts_with("application/json"));
    let body = json(&response);
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let published = body["keys"].as_array().unwrap();
    let mut expected: Vec<Value> = [KeyStatus::Standby, KeyStatus::Current, KeyStatus::Previous]
        .into_iter()
        .map(|status| {
            let key = app.key(status);
            json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": key.kid, "x": key.x, "y": key.y})
        })
        .collect();
    let mut published_sorted = published.clone();
    let by_kid = |a: &Value, b: &Value| a["kid"].as_str().cmp(&b["kid"].as_str());
    expected.sort_by(by_kid);
    published_sorted.sort_by(by_kid);
    assert_eq!(published_sorted, expected);
    let retired = app.key(KeyStatus::Retired);
    let text = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    assert!(
        !text.contains(&retired.kid),
        "a retired key is not published"
    );
    for key in &app.keys.as_ref().unwrap().keys {
        assert!(
            !text.contains(key.d.as_deref().unwrap()),
            "never a private part"
        );
    }
    assert!(!text.contains("\"d\""));
}

/// With HS256 nothing is published: the HMAC key verifies and mints alike.
async fn with_hs256_the_jwks_is_empty(app: TestApp) {
    let response = jwks(&app, request("GET", "/.well-known/jwks.json", &[])).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "public, max-age=600");
    assert_eq!(json(&response), json!({"keys": []}));
    let text = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    assert!(!text.contains(SECRET));
}

/// The discovery document names the issuer the tokens carry, and where the JWKS is, under the address the client
/// used.
async fn discovery_names_the_tokens_issuer_and_the_jwks(users: vimcar_tests::Users) {
    let issuer = "https://accounts.example.com";
    for mut config in [config(), es256_config(rotated_keys(), false)] {
        config.tokens = TokenConfig {
            issuer: issuer.into(),
            ..config.tokens
        };
        let app = TestApp::with_config(&config, users.clone());
        let name = format!("user{}", config.tokens.keys.is_some() as u8);
        app.registered(&name).await;
        let token = app.log_in(&name).await;
        for (host, base) in [
            ("localhost:9000", "http://localhost:9000"),
            ("api.example.com", "https://api.example.com"),
        ] {
            let response = discovery(
                &app,
                request(
                    "GET",
                    "/.well-known/openid-configuration",
                    &[("host", host)],
                ),
            )
            .await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "cache-control"), "public, max-age=600");
            let body = json(&response);
            assert_eq!(body["issuer"], claims_of(&token)["iss"]);
            assert_eq!(body["issuer"], issuer);
            assert_eq!(
                body["jwks_uri"],
                format!("{base}/.well-known/jwks.json"),
                "{host}"
            );
            assert!(
                body["jwks_uri"]
                    .as_str()
                    .unwrap()
                    .ends_with("/.well-known/jwks.json")
            );
        }
    }
}

async fn the_key_documents_answer_405_to_another_method(app: TestApp) {
    for method in ["POST", "DELETE", "PUT"] {
        let response = jwks(&app, request(method, "/.well-known/jwks.json", &[])).await;
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(header(&response, "allow"), "GET");
        let response = discovery(
            &app,
            request(method, "/.well-known/openid-configuration", &[]),
        )
        .await;
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(header(&response, "allow"), "GET");
    }
}

/// A state built without the ES256 set (register's, in a deployment) publishes nothing and issues nothing; one
/// with the public copy only verifies.
async fn a_verifier_with_the_public_copy_verifies_but_cannot_sign(app: TestApp) {
    app.registered("alice").await;
    let token = app.log_in("alice").await;
    let set = app.keys.clone().unwrap();
    let verifier = vimcar::tokens::Tokens::new(
        &es256_config(set.clone(), false).tokens,
        None,
        Some(vimcar::keys::KeyRing::fixed(set.public(), false)),
    );
    assert!(verifier.verify(&token).is_ok());
    assert!(
        verifier
            .issue(uuid::Uuid::now_v7(), uuid::Uuid::now_v7())
            .is_err()
    );
}

for_each_backend!(
    the_whole_user_flow_works,
    with_hs256_the_jwks_is_empty,
    discovery_names_the_tokens_issuer_and_the_jwks,
    the_key_documents_answer_405_to_another_method,
);
for_each_backend!(es256:
    the_whole_user_flow_works,
    the_jwks_lists_every_key_that_may_verify_a_live_token,
    the_key_documents_answer_405_to_another_method,
    a_verifier_with_the_public_copy_verifies_but_cannot_sign,
);
for_each_backend!(es256_accepting_hs256:
    the_whole_user_flow_works,
    the_jwks_lists_every_key_that_may_verify_a_live_token,
);
