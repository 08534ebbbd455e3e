//! Unit tests of `hasher`.

use argon2::{PasswordHasher as _, PasswordVerifier as _};

use super::*;

#[tokio::test]
async fn a_hash_made_here_verifies_with_the_argon2_crates_own_verifier() {
    let hasher = PasswordHasher::new().unwrap();
    let hash = hasher
        .hash(&password("correct horse battery staple"))
        .await
        .unwrap();
    let parsed = PhcHash::new(hash.as_str()).unwrap();
    let argon2 = Argon2::default();
    assert!(
        argon2
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok()
    );
    assert!(argon2.verify_password(b"correct horse", &parsed).is_err());
}

#[tokio::test]
async fn a_hash_of_another_variant_or_with_a_missing_part_matches_nothing() {
    let hasher = PasswordHasher::new().unwrap();
    let secret = || SecretString::from("correct horse battery staple".to_owned());
    for other in [
        "$argon2d$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0",
        "$scrypt$ln=16,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    ] {
        let stored = PasswordHash::new(other.to_owned());
        let verified = hasher.verify(secret(), Some(&stored)).await;
        assert!(
            matches!(verified, Ok(Verification::Mismatch) | Err(_)),
            "{other}"
        );
    }
}

fn password(text: &str) -> Password {
    Password::parse(text, &[]).unwrap()
}

#[tokio::test]
async fn a_hash_verifies_its_own_password_and_no_other() {
    let hasher = PasswordHasher::new().unwrap();
    let hash = hasher
        .hash(&password("correct horse battery staple"))
        .await
        .unwrap();
    let verify = |text: &str| hasher.verify(SecretString::from(text.to_owned()), Some(&hash));
    assert_eq!(
        verify("correct horse battery staple").await.unwrap(),
        Verification::Match
    );
    assert_eq!(
        verify("correct horse battery stapl").await.unwrap(),
        Verification::Mismatch
    );
}

#[tokio::test]
async fn hashes_are_argon2id_with_the_owasp_parameters_and_a_fresh_salt() {
    let hasher = PasswordHasher::new().unwrap();
    let first = hasher
        .hash(&password("correct horse battery staple"))
        .await
        .unwrap();
    let second = hasher
        .hash(&password("correct horse battery staple"))
        .await
        .unwrap();
    assert!(
        first
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        first.as_str()
    );
    assert_ne!(first, second);
}

#[test]
fn the_dummy_hash_has_the_current_parameters_so_it_costs_what_a_real_one_does() {
    let hasher = PasswordHasher::new().unwrap();
    assert!(!hasher.needs_rehash(&PasswordHash::new(DUMMY_HASH.to_owned())));
}

#[test]
fn the_dummy_hash_is_a_real_hash_of_the_dummy_password() {
    let hasher = PasswordHasher::new().unwrap();
    let parsed = PhcHash::new(DUMMY_HASH).unwrap();
    assert!(
        hasher
            .argon2
            .verify_password(DUMMY_PASSWORD.as_bytes(), &parsed)
            .is_ok()
    );
}

#[tokio::test]
async fn no_hash_never_matches_not_even_the_dummy_password() {
    let hasher = PasswordHasher::new().unwrap();
    let dummy = SecretString::from(DUMMY_PASSWORD.to_owned());
    assert_eq!(
        hasher.verify(dummy, None).await.unwrap(),
        Verification::Mismatch
    );
}

#[tokio::test]
async fn a_corrupt_stored_hash_is_an_error_not_a_match() {
    let hasher = PasswordHasher::new().unwrap();
    let corrupt = PasswordHash::new("not a hash".into());
    assert!(
        hasher
            .verify(SecretString::from("x".to_owned()), Some(&corrupt))
            .await
            .is_err()
    );
}

/// A hash of `text` with other parameters, as an older version of this code might have stored.
fn hash_with(text: &str, algorithm: Algorithm, m: u32, t: u32, p: u32) -> PasswordHash {
    let argon2 = Argon2::new(
        algorithm,
        Version::V0x13,
        Params::new(m, t, p, None).unwrap(),
    );
    PasswordHash::new(argon2.hash_password(text.as_bytes()).unwrap().to_string())
}

#[tokio::test]
async fn a_hash_with_current_parameters_needs_no_rehash_and_others_do() {
    let hasher = PasswordHasher::new().unwrap();
    let current = hasher
        .hash(&password("correct horse battery staple"))
        .await
        .unwrap();
    assert!(!hasher.needs_rehash(&current));
    assert!(hasher.needs_rehash(&hash_with("x", Algorithm::Argon2id, 8192, 2, 1)));
    assert!(hasher.needs_rehash(&hash_with(
        "x",
        Algorithm::Argon2i,
        M_COST_KIB,
        T_COST,
        P_COST
    )));
    assert!(hasher.needs_rehash(&hash_with("x", Algorithm::Argon2id, M_COST_KIB, 3, 1)));
    assert!(hasher.needs_rehash(&PasswordHash::new("$2b$12$bcrypt".into())));
}

#[tokio::test]
async fn an_older_hash_still_verifies() {
    let hasher = PasswordHasher::new().unwrap();
    let old = hash_with(
        "correct horse battery staple",
        Algorithm::Argon2id,
        8192,
        1,
        1,
    );
    let secret = SecretString::from("correct horse battery staple".to_owned());
    assert_eq!(
        hasher.verify(secret, Some(&old)).await.unwrap(),
        Verification::Match
    );
}

#[tokio::test]
async fn a_hash_over_the_cost_caps_is_refused_without_computing_it() {
    let hasher = PasswordHasher::new().unwrap();
    // Claims 4 GiB and 1000 passes: computing it would take minutes. The salt and output are never used.
    let tampered = PasswordHash::new(
        "$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g".into(),
    );
    let secret = SecretString::from("anything".to_owned());
    assert_eq!(
        hasher.verify(secret, Some(&tampered)).await.unwrap(),
        Verification::Mismatch
    );
    assert_eq!(hasher.verifications(), 1, "the dummy was verified instead");
}

/// Written by Python's bcrypt 5 (the library Flask-Bcrypt calls) for "bar" at cost 4: the original's format.
const PYTHON_BCRYPT_BAR: &str = "$2b$04$y8foGgTJTTkzxGG1Z.VM5.8wNMCcx1fgKudI9wKME6TtVbOyStNIy";

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

#[tokio::test]
async fn a_bcrypt_hash_from_python_verifies_its_password_and_no_other() {
    let hasher = PasswordHasher::new().unwrap();
    let stored = PasswordHash::new(PYTHON_BCRYPT_BAR.to_owned());
    assert_eq!(
        hasher.verify(secret("bar"), Some(&stored)).await.unwrap(),
        Verification::Match
    );
    assert_eq!(
        hasher.verify(secret("baz"), Some(&stored)).await.unwrap(),
        Verification::Mismatch
    );
    assert!(hasher.needs_rehash(&stored), "bcrypt is replaced at login");
}

#[tokio::test]
async fn bcrypt_compares_only_the_first_72_bytes_as_python_bcrypt_4_did() {
    let hasher = PasswordHasher::new().unwrap();
    let long = "x".repeat(72);
    let stored = PasswordHash::new(bcrypt::hash(&long, 4).unwrap());
    assert_eq!(
        hasher
            .verify(secret(&format!("{long}and more")), Some(&stored))
            .await
            .unwrap(),
        Verification::Match
    );
}

#[tokio::test]
async fn a_bcrypt_hash_over_the_cost_cap_is_refused_without_computing_it() {
    let hasher = PasswordHasher::new().unwrap();
    // Cost 31 is 2^31 rounds: hours of work if it were computed.
    let over = PYTHON_BCRYPT_BAR.replacen("$04$", "$31$", 1);
    let stored = PasswordHash::new(over);
    assert_eq!(
        hasher.verify(secret("bar"), Some(&stored)).await.unwrap(),
        Verification::Mismatch
    );
    assert_eq!(hasher.verifications(), 1, "the dummy was verified instead");
    let at_cap = PasswordHash::new(bcrypt::hash("bar", MAX_BCRYPT_COST).unwrap());
    assert_eq!(
        hasher.verify(secret("bar"), Some(&at_cap)).await.unwrap(),
        Verification::Match,
        "the cap itself is verified"
    );
}
