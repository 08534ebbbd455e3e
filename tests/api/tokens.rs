//! Token strictness (RFC 8725): every token that is not exactly what `auth` issues gets 401 with a challenge, never
//! a 5xx, at `GET /api/users`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use vimcar::handlers::list_users;
use vimcar_tests::requests::{header, json, request};
use vimcar_tests::{SECRET, TestApp};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A token with any header and claims, and a signature that is not an HS256 signature of them.
fn forged(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64(&header),
        b64(claims),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    )
}

/// `text` with its first character changed: all six of its bits carry data, unlike the last one's.
fn flip_first(text: &str) -> String {
    let replacement = if text.starts_with('A') { 'B' } else { 'A' };
    format!("{replacement}{}", &text[1..])
}

fn signed(header: Header, claims: &Value, secret: &str) -> String {
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn every_kind_of_bad_token_gets_401_with_a_challenge(app: TestApp) {
    let (id, genuine) = app.signed_up("alice").await;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |change: &dyn Fn(&mut Value)| {
        let mut claims = json!({"sub": id, "iat": now, "nbf": now, "exp": now + 300, "iss": "vimcar", "aud": "vimcar-api"});
        change(&mut claims);
        claims
    };
    let good = claims(&|_| ());
    // The header `auth` issues, changed by `configure`.
    let typed = |configure: &dyn Fn(&mut Header)| {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        configure(&mut header);
        header
    };
    let with = |configure: &dyn Fn(&mut Header)| signed(typed(configure), &good, SECRET);
    let parts: Vec<&str> = genuine.split('.').collect();
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "at+jwt"})),
                b64(&good)
            ),
        ),
        ("alg HS384", with(&|h| h.alg = Algorithm::HS384)),
        ("alg HS512", with(&|h| h.alg = Algorithm::HS512)),
        (
            "alg RS256",
            forged(json!({"alg": "RS256", "typ": "at+jwt"}), &good),
        ),
        (
            "alg ES256",
            forged(json!({"alg": "ES256", "typ": "at+jwt"}), &good),
        ),
        (
            "jwk header",
            forged(
                json!({"alg": "HS256", "typ": "at+jwt", "jwk": {"kty": "oct", "k": "AAAA"}}),
                &good,
            ),
        ),
        (
            "jku header",
            with(&|h| h.jku = Some("http://127.0.0.1:1/keys".into())),
        ),
        (
            "kid header",
            with(&|h| h.kid = Some("../../dev/null".into())),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&claims(&|c| c["exp"] = (now + 99_999).into())),
                parts[2]
            ),
        ),
        (
            "tampered signature",
            format!("{}.{}.{}", parts[0], parts[1], flip_first(parts[2])),
        ),
        (
            "another secret",
            signed(typed(&|_| ()), &good, "another secret that is 32 bytes+"),
        ),
        (
            "no exp",
            signed(
                typed(&|_| ()),
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                SECRET,
            ),
        ),
        (
            "exp past",
            signed(
                typed(&|_| ()),
                &claims(&|c| c["exp"] = (now - 60).into()),
                SECRET,
            ),
        ),
        (
            "nbf future",
            signed(
                typed(&|_| ()),
                &claims(&|c| c["nbf"] = (now + 60).into()),
                SECRET,
            ),
        ),
        (
            "iat future",
            signed(
                typed(&|_| ()),
                &claims(&|c| c["iat"] = (now + 60).into()),
                SECRET,
            ),
        ),
        (
            "wrong iss",
            signed(
                typed(&|_| ()),
                &claims(&|c| c["iss"] = "evil".into()),
                SECRET,
            ),
        ),
        (
            "no aud",
            signed(
                typed(&|_| ()),
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
                SECRET,
            ),
        ),
        (
            "another aud",
            signed(
                typed(&|_| ()),
                &claims(&|c| c["aud"] = "another-api".into()),
                SECRET,
            ),
        ),
        ("no typ", with(&|h| h.typ = None)),
        ("typ JWT", with(&|h| h.typ = Some("JWT".into()))),
        (
            "typ of an ID token",
            with(&|h| h.typ = Some("id+jwt".into())),
        ),
        (
            "8 KB token",
            format!("{}.{}.{}", parts[0], "A".repeat(8 * 1024), parts[2]),
        ),
    ];
    for (name, token) in cases {
        let response = list_users(
            &app,
            request(
                "GET",
                "/api/users",
                &[("authorization", &format!("Bearer {token}"))],
            ),
        )
        .await;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="vimcar""#,
            "{name}"
        );
        assert_eq!(json(&response)["status"], 401, "{name}");
    }
    // The genuine token still works: the cases failed for their flaw, not for the setup.
    let response = list_users(
        &app,
        request(
            "GET",
            "/api/users",
            &[("authorization", &format!("Bearer {genuine}"))],
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
}

async fn two_authorization_headers_get_401(app: TestApp) {
    let (_, token) = app.signed_up("alice").await;
    let value = format!("JWT {token}");
    let response = list_users(
        &app,
        request(
            "GET",
            "/api/users",
            &[("authorization", &value), ("authorization", &value)],
        ),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert!(!header(&response, "www-authenticate").is_empty());
    assert_eq!(
        json(&response)["detail"],
        "Send one Authorization header, not several."
    );
}

for_each_backend!(
    every_kind_of_bad_token_gets_401_with_a_challenge,
    two_authorization_headers_get_401,
);
