//! Token strictness (RFC 8725): every token that is not exactly what `auth` issues gets 401 with a challenge, never
//! a 5xx, at `GET /api/users`; in every token mode (HS256, ES256, ES256 still accepting HS256), on every backend.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use vimcar::handlers::list_users;
use vimcar::keys::{KeyRecord, KeySet, KeyStatus};
use vimcar_tests::requests::{header, json, request};
use vimcar_tests::signing::{
    b64, claims_of, es256_header, forged, hs256_header, sec1, sign_es256, sign_hs256,
};
use vimcar_tests::{SECRET, TestApp, rotated_keys};

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
            forged(&json!({"alg": "RS256", "typ": "at+jwt"}), &good),
        ),
        (
            "alg ES256",
            forged(&json!({"alg": "ES256", "typ": "at+jwt"}), &good),
        ),
        (
            "jwk header",
            forged(
                &json!({"alg": "HS256", "typ": "at+jwt", "jwk": {"kty": "oct", "k": "AAAA"}}),
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

/// `GET /api/users` with `Authorization: Bearer <token>`.
async fn listed_with(app: &TestApp, token: &str) -> lambda_http::Response<lambda_http::Body> {
    list_users(
        app,
        request(
            "GET",
            "/api/users",
            &[("authorization", &format!("Bearer {token}"))],
        ),
    )
    .await
}

/// The key of `set` that has `status` now.
fn key_of(set: &KeySet, status: KeyStatus) -> KeyRecord {
    let now = chrono::Utc::now();
    set.keys
        .iter()
        .find(|key| set.status(key, now) == status)
        .unwrap()
        .clone()
}

/// `header` with the members of `extra` added.
fn plus(mut header: Value, extra: Value) -> Value {
    for (name, value) in extra.as_object().unwrap() {
        header[name] = value.clone();
    }
    header
}

/// Tokens carrying a genuine token's claims (a live session's), so that each is refused for its header or its key
/// alone: the public key used as an HMAC secret (RFC 8725 §2.1), keys the header brings or points at, algorithms
/// and key ids this API never issues, retired and foreign keys. With ES256 the keys are the app's own set; with
/// HS256 a set of the same shape it has never seen. The same claims signed the right way pass, in the modes that
/// accept them.
async fn key_confusion_and_foreign_keys_get_401(app: TestApp) {
    app.registered("alice").await;
    let claims = claims_of(&app.log_in("alice").await);
    let es256 = app.keys.is_some();
    let set = app.keys.clone().unwrap_or_else(rotated_keys);
    let [current, standby, previous, retired] = [
        KeyStatus::Current,
        KeyStatus::Standby,
        KeyStatus::Previous,
        KeyStatus::Retired,
    ]
    .map(|status| key_of(&set, status));
    let now = chrono::Utc::now();
    // Another deployment's key, under this deployment's kid string.
    let stranger = KeyRecord::generate(now, now - chrono::Duration::hours(1));
    let kid = Some(current.kid.as_str());
    let hs256_with_kid = plus(hs256_header(), json!({"kid": current.kid}));

    let mut refused: Vec<(String, String)> = Vec::new();
    for key in [&current, &previous, &standby] {
        let secrets: [(&str, Vec<u8>); 4] = [
            ("x‖y", format!("{}{}", key.x, key.y).into_bytes()),
            ("the JWK", serde_json::to_vec(&key.jwk()).unwrap()),
            ("the SEC1 point", sec1(key)),
            (
                "the JWKS",
                serde_json::to_vec(&json!({"keys": [key.jwk()]})).unwrap(),
            ),
        ];
        for (what, secret) in secrets {
            let with_kid = plus(hs256_header(), json!({"kid": key.kid}));
            refused.push((
                format!("HS256 with {what} of {} as secret, with its kid", key.kid),
                sign_hs256(&with_kid, &claims, &secret),
            ));
            refused.push((
                format!("HS256 with {what} of {} as secret, no kid", key.kid),
                sign_hs256(&hs256_header(), &claims, &secret),
            ));
        }
    }
    let attacker = KeyRecord::generate(now, now);
    let signed_by_current =
        |extra: Value| sign_es256(&plus(es256_header(kid), extra), &claims, &current);
    refused.extend([
        (
            "an unknown kid".to_owned(),
            sign_es256(&es256_header(Some("no-such-key")), &claims, &current),
        ),
        (
            "a jwk header naming the signing key".to_owned(),
            signed_by_current(json!({"jwk": current.jwk()})),
        ),
        (
            "a jwk header bringing the attacker's key".to_owned(),
            sign_es256(
                &plus(es256_header(None), json!({"jwk": attacker.jwk()})),
                &claims,
                &attacker,
            ),
        ),
        (
            "a jku header".to_owned(),
            signed_by_current(json!({"jku": "https://attacker.example/jwks.json"})),
        ),
        (
            "an x5u header".to_owned(),
            signed_by_current(json!({"x5u": "https://attacker.example/cert.pem"})),
        ),
        (
            "an x5c header".to_owned(),
            signed_by_current(json!({"x5c": ["MIIBszCCAVmgAwIBAgIUQ"]})),
        ),
        (
            "alg none with a kid".to_owned(),
            format!(
                "{}.{}.",
                b64(&plus(es256_header(kid), json!({"alg": "none"}))),
                b64(&claims)
            ),
        ),
        (
            "alg ES384".to_owned(),
            forged(&plus(es256_header(kid), json!({"alg": "ES384"})), &claims),
        ),
        (
            "alg RS256".to_owned(),
            forged(&plus(es256_header(kid), json!({"alg": "RS256"})), &claims),
        ),
        (
            "HS256 under the secret with a kid".to_owned(),
            sign_hs256(&hs256_with_kid, &claims, SECRET.as_bytes()),
        ),
        (
            "ES256 without a kid".to_owned(),
            sign_es256(&es256_header(None), &claims, &current),
        ),
        (
            "signed by a retired key".to_owned(),
            sign_es256(&es256_header(Some(&retired.kid)), &claims, &retired),
        ),
        (
            "another deployment's key under the same kid".to_owned(),
            sign_es256(&es256_header(kid), &claims, &stranger),
        ),
    ]);
    let by_key = |key: &KeyRecord| sign_es256(&es256_header(Some(&key.kid)), &claims, key);
    let accepted = [
        ("the current key", by_key(&current), es256),
        ("a standby key", by_key(&standby), es256),
        ("a previous key", by_key(&previous), es256),
        (
            "HS256 under the secret",
            sign_hs256(&hs256_header(), &claims, SECRET.as_bytes()),
            app.accepts_hs256,
        ),
    ];
    for (name, token, accepts) in accepted {
        if !accepts {
            refused.push((format!("{name}, in a mode that does not accept it"), token));
            continue;
        }
        let response = listed_with(&app, &token).await;
        assert_eq!(response.status(), 200, "{name}: {}", json(&response));
    }
    for (name, token) in refused {
        let response = listed_with(&app, &token).await;
        assert_eq!(response.status(), 401, "{name}: {}", json(&response));
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer realm="vimcar""#,
            "{name}"
        );
        assert_eq!(json(&response)["type"], "/problems/unauthorized", "{name}");
    }
}

for_each_backend!(
    every_kind_of_bad_token_gets_401_with_a_challenge,
    two_authorization_headers_get_401,
    key_confusion_and_foreign_keys_get_401,
);
for_each_backend!(es256:
    every_kind_of_bad_token_gets_401_with_a_challenge,
    two_authorization_headers_get_401,
    key_confusion_and_foreign_keys_get_401,
);
for_each_backend!(es256_accepting_hs256:
    every_kind_of_bad_token_gets_401_with_a_challenge,
    key_confusion_and_foreign_keys_get_401,
);
