//! Unit tests of `access`.

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn tokens(secret: &str) -> Tokens {
    Tokens::hs256(secret)
}

/// The header of an HS256 token as this API issues it.
fn hs256_header() -> Header {
    header(Algorithm::HS256, None)
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
        hs256_header(),
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
        let token = sign(&claims_with(change), hs256_header(), SECRET);
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
        hs256_header(),
        SECRET,
    );
    assert!(tokens(SECRET).verify(&token).is_ok());
}

#[test]
fn other_algorithms_and_key_headers_are_invalid() {
    let claims = claims_with(|_| ());
    let mut with_kid = hs256_header();
    with_kid.kid = Some("1".into());
    let mut with_jku = hs256_header();
    with_jku.jku = Some("http://127.0.0.1/keys".into());
    // Typed as issued, so that each is refused for its algorithm.
    let with_alg = |alg| Header {
        alg,
        ..hs256_header()
    };
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
            ..hs256_header()
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
    parts[1] = sign(&claims_with(|_| ()), hs256_header(), SECRET)
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

mod es256 {
    use super::*;
    use crate::keys::{KeyRecord, KeySet};

    fn key_set() -> KeySet {
        let now = Utc::now();
        KeySet {
            keys: vec![KeyRecord::generate(now, now - chrono::Duration::minutes(1))],
        }
    }

    fn es256(set: &KeySet, accept_hs256: bool) -> Tokens {
        let config = TokenConfig {
            algorithm: JwtAlgorithm::Es256,
            accept_hs256,
            ..TokenConfig::hs256(SECRET)
        };
        let secret = SecretString::from(SECRET.to_owned());
        Tokens::new(
            &config,
            accept_hs256.then_some(&secret),
            Some(KeyRing::fixed(set.clone(), true)),
        )
    }

    #[test]
    fn a_token_carries_the_current_keys_id_and_verifies_with_the_public_key_alone() {
        let set = key_set();
        let signer = es256(&set, false);
        let token = signer
            .issue(Uuid::now_v7(), Uuid::now_v7())
            .unwrap()
            .token
            .expose_secret()
            .to_owned();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(set.keys[0].kid.as_str()));
        let verifier = Tokens::new(
            &TokenConfig {
                algorithm: JwtAlgorithm::Es256,
                ..TokenConfig::hs256(SECRET)
            },
            None,
            Some(KeyRing::fixed(set.public(), false)),
        );
        assert!(verifier.verify(&token).is_ok());
        assert!(
            verifier.issue(Uuid::now_v7(), Uuid::now_v7()).is_err(),
            "a public copy cannot sign"
        );
        assert_eq!(verifier.published_keys(), set.public().keys);
    }

    #[test]
    fn an_unknown_kid_a_missing_kid_and_an_hs256_token_are_refused() {
        let set = key_set();
        let tokens = es256(&set, false);
        let claims = claims_with(|_| ());
        let mut unknown = header(Algorithm::ES256, Some("no-such-key".into()));
        unknown.typ = Some(TYPE.into());
        let scalar = set.keys[0].private_scalar().unwrap();
        let signed =
            |header: Header| encode(&header, &claims, &EncodingKey::from_ec_der(&scalar)).unwrap();
        assert_eq!(tokens.verify(&signed(unknown)), Err(TokenError::Invalid));
        assert_eq!(
            tokens.verify(&signed(header(Algorithm::ES256, None))),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            tokens.verify(&sign(&claims, hs256_header(), SECRET)),
            Err(TokenError::Invalid),
            "HS256 is not accepted unless JWT_ACCEPT_HS256"
        );
        let moving = es256(&set, true);
        assert!(
            moving
                .verify(&sign(&claims, hs256_header(), SECRET))
                .is_ok()
        );
    }

    #[test]
    fn an_es256_token_re_signed_hs256_with_the_public_key_is_refused() {
        let set = key_set();
        let tokens = es256(&set, true);
        let claims = claims_with(|_| ());
        let key = &set.keys[0];
        for secret in [
            format!("{}{}", key.x, key.y),
            serde_json::to_string(&key.jwk()).unwrap(),
        ] {
            let mut with_kid = hs256_header();
            with_kid.kid = Some(key.kid.clone());
            assert_eq!(
                tokens.verify(&sign(&claims, with_kid, &secret)),
                Err(TokenError::Invalid)
            );
            assert_eq!(
                tokens.verify(&sign(&claims, hs256_header(), &secret)),
                Err(TokenError::Invalid)
            );
        }
    }
}
