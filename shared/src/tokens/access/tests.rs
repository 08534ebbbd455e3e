//! Unit tests of `access`.

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn tokens(secret: &str) -> Tokens {
    Tokens::new(&TokenConfig {
        secret: SecretString::from(secret.to_owned()),
        ttl: Duration::from_secs(300),
    })
}

fn sign(claims: &serde_json::Value, header: Header, secret: &str) -> String {
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims_with(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = serde_json::json!({
        "sub": Uuid::now_v7(), "sid": Uuid::now_v7(), "iat": now, "nbf": now, "exp": now + 300, "iss": ISSUER,
        "aud": AUDIENCE,
    });
    change(&mut claims);
    claims
}

#[test]
fn an_issued_token_verifies_and_names_its_user() {
    let tokens = tokens(SECRET);
    let user = Uuid::now_v7();
    let issued = tokens.issue(user, Uuid::now_v7()).unwrap();
    let claims = tokens.verify(issued.token.expose_secret()).unwrap();
    assert_eq!(claims.sub, user);
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    assert_eq!(claims.exp - claims.iat, 300);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(issued.expires_in, Duration::from_secs(300));
}

#[test]
fn a_token_signed_with_another_secret_is_invalid() {
    let other = tokens("another secret that is 32 bytes long")
        .issue(Uuid::now_v7(), Uuid::now_v7())
        .unwrap();
    assert_eq!(
        tokens(SECRET).verify(other.token.expose_secret()),
        Err(TokenError::Invalid)
    );
}

#[test]
fn an_expired_token_is_reported_as_expired() {
    let token = sign(
        &claims_with(|c| c["exp"] = serde_json::json!(jsonwebtoken::get_current_timestamp() - 60)),
        header(),
        SECRET,
    );
    assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Expired));
}

#[test]
fn missing_or_wrong_claims_are_invalid() {
    let now = jsonwebtoken::get_current_timestamp();
    type Change = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "no exp",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "no nbf",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nbf");
            }),
        ),
        (
            "no iat",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
        ),
        (
            "no sub",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
        ),
        ("wrong iss", Box::new(|c| c["iss"] = "someone-else".into())),
        (
            "no aud",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
        ),
        ("wrong aud", Box::new(|c| c["aud"] = "vimcar-admin".into())),
        (
            "aud a list with another audience",
            Box::new(|c| c["aud"] = serde_json::json!(["vimcar-admin"])),
        ),
        ("nbf ahead", Box::new(move |c| c["nbf"] = (now + 60).into())),
        ("iat ahead", Box::new(move |c| c["iat"] = (now + 60).into())),
        ("sub not a uuid", Box::new(|c| c["sub"] = "1".into())),
        // A token from before sessions names none, and no revocation could reach it.
        (
            "no sid",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("sid");
            }),
        ),
        ("sid not a uuid", Box::new(|c| c["sid"] = "1".into())),
    ];
    for (name, change) in cases {
        let token = sign(&claims_with(change), header(), SECRET);
        assert_eq!(
            tokens(SECRET).verify(&token),
            Err(TokenError::Invalid),
            "{name}"
        );
    }
}

#[test]
fn the_small_clock_skew_is_tolerated() {
    let ahead = jsonwebtoken::get_current_timestamp() + 3;
    let token = sign(
        &claims_with(|c| {
            c["nbf"] = ahead.into();
            c["iat"] = ahead.into();
        }),
        header(),
        SECRET,
    );
    assert!(tokens(SECRET).verify(&token).is_ok());
}

#[test]
fn other_algorithms_and_key_headers_are_invalid() {
    let claims = claims_with(|_| ());
    let mut with_kid = header();
    with_kid.kid = Some("1".into());
    let mut with_jku = header();
    with_jku.jku = Some("http://127.0.0.1/keys".into());
    // Typed as issued, so that each is refused for its algorithm.
    let with_alg = |alg| Header { alg, ..header() };
    for header in [
        with_alg(Algorithm::HS384),
        with_alg(Algorithm::HS512),
        with_kid,
        with_jku,
    ] {
        let token = sign(&claims, header, SECRET);
        assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Invalid));
    }
}

#[test]
fn an_issued_token_is_typed_as_an_access_token() {
    let issued = tokens(SECRET)
        .issue(Uuid::now_v7(), Uuid::now_v7())
        .unwrap();
    let header = decode_header(issued.token.expose_secret()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::HS256);
}

#[test]
fn a_token_without_the_access_token_type_is_invalid() {
    let claims = claims_with(|_| ());
    for typ in [None, Some("JWT"), Some("id+jwt"), Some("at+jwt+x")] {
        let header = Header {
            typ: typ.map(str::to_owned),
            ..header()
        };
        let token = sign(&claims, header, SECRET);
        assert_eq!(
            tokens(SECRET).verify(&token),
            Err(TokenError::Invalid),
            "{typ:?}"
        );
    }
}

#[test]
fn an_unsigned_token_is_invalid() {
    use base64::Engine;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let token = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(&claims_with(|_| ()))
    );
    assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Invalid));
}

#[test]
fn a_tampered_payload_or_an_oversized_token_is_invalid() {
    let tokens = tokens(SECRET);
    let issued = tokens.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
    let text = issued.token.expose_secret();
    let mut parts: Vec<String> = text.split('.').map(str::to_owned).collect();
    parts[1] = sign(&claims_with(|_| ()), header(), SECRET)
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(tokens.verify(&parts.join(".")), Err(TokenError::Invalid));
    assert_eq!(
        tokens.verify(&"a".repeat(8 * 1024)),
        Err(TokenError::Invalid)
    );
    assert_eq!(tokens.verify("garbage"), Err(TokenError::Invalid));
}
