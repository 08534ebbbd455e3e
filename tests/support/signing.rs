//! Tokens made by hand, as an attacker (or another deployment) would make them: any header, any key, the claims of
//! a genuine token, so that a refusal can only be for what was changed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use vimcar::keys::KeyRecord;

/// The base64url of `value`'s JSON.
pub fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The claims of `token` (its payload, unchecked).
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("the payload is JSON")
}

/// The header of an ES256 token as `auth` issues it, naming `kid` if given.
pub fn es256_header(kid: Option<&str>) -> Value {
    let mut header = json!({"alg": "ES256", "typ": "at+jwt"});
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    header
}

/// The header of an HS256 token as `auth` issues it in HS256 mode (no `kid`).
pub fn hs256_header() -> Value {
    json!({"alg": "HS256", "typ": "at+jwt"})
}

/// `header` and `claims` signed ES256 with `key`'s private part, whatever the header says.
pub fn sign_es256(header: &Value, claims: &Value, key: &KeyRecord) -> String {
    let scalar = key.private_scalar().expect("a signers' copy of the key");
    // vimcar's jsonwebtoken provider reads the raw scalar (shared/src/tokens/jwt_crypto.rs); it is the process's
    // once any state is built, which every caller has done.
    sign(
        header,
        claims,
        &EncodingKey::from_ec_der(&scalar),
        Algorithm::ES256,
    )
}

/// `header` and `claims` signed HS256 with `secret` as the HMAC key, whatever the header says.
pub fn sign_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    sign(
        header,
        claims,
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
}

/// `header` and `claims` with a signature that is nobody's (for algorithms nobody here can sign with).
pub fn forged(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64(header),
        b64(claims),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    )
}

fn sign(header: &Value, claims: &Value, key: &EncodingKey, algorithm: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, algorithm).expect("signs");
    format!("{message}.{signature}")
}

/// The public key's SEC1 encoding (0x04 ‖ x ‖ y), as a library holding the key as bytes has it.
pub fn sec1(key: &KeyRecord) -> Vec<u8> {
    let mut bytes = vec![4u8];
    for part in [&key.x, &key.y] {
        bytes.extend(URL_SAFE_NO_PAD.decode(part).expect("base64url"));
    }
    bytes
}
