//! Signing material from Secrets Manager (moto), as each function loads it at start-up with its registry entry's
//! `KeyUse`: register reads nothing, verifiers the public copy only, signers the signing copy; a missing secret
//! stops a function that needs it with a clear error; a rotation reaches a running function at its next re-read,
//! and a failed re-read keeps the set in hand.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::ExposeSecret;
use uuid::Uuid;
use vimcar::AppState;
use vimcar::config::Config;
use vimcar::keys::{KeyRecord, KeySet, KeyUse, Secrets};
use vimcar::routes::{FUNCTIONS, Function};
use vimcar::tokens::Tokens;
use vimcar_tests::app::storage;
use vimcar_tests::dynamodb::endpoint;
use vimcar_tests::{SECRET, TestStore, rotated_keys};

/// The three secrets of one deployment, under names no other test uses.
struct Deployment {
    secrets: Secrets,
    hmac: String,
    signing: String,
    public: String,
    set: KeySet,
}

impl Deployment {
    /// Creates the secrets: the HMAC secret, and `set` as its signers' and public copies.
    async fn create(set: KeySet) -> Self {
        let secrets = Secrets::connect(Some(&endpoint())).await.unwrap();
        let prefix = format!("vimcar-test-{}", Uuid::now_v7());
        let deployment = Self {
            secrets,
            hmac: format!("{prefix}/hmac"),
            signing: format!("{prefix}/signing-keys"),
            public: format!("{prefix}/public-keys"),
            set,
        };
        deployment
            .secrets
            .create(&deployment.hmac, SECRET)
            .await
            .unwrap();
        deployment.store(&deployment.set.clone()).await;
        deployment
    }

    /// Writes `set` to both copies, the public one first, as `vimcar-admin keys rotate` does.
    async fn store(&self, set: &KeySet) {
        let public = serde_json::to_string(&set.public()).unwrap();
        let private = serde_json::to_string(set).unwrap();
        for (id, text) in [(&self.public, &public), (&self.signing, &private)] {
            if self.secrets.exists(id).await.unwrap() {
                self.secrets.write(id, text).await.unwrap();
            } else {
                self.secrets.create(id, text).await.unwrap();
            }
        }
    }

    /// The environment of a deployment in ES256 mode: every id, the local endpoint, and `extra`.
    fn env(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("JWT_ALGORITHM", "ES256"),
            ("VIMCAR_SECRET_ID", &self.hmac),
            ("JWT_SIGNING_KEYS_ID", &self.signing),
            ("JWT_PUBLIC_KEYS_ID", &self.public),
            ("JWT_KEYS_REFRESH_SECONDS", "1"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        env.insert("SECRETS_MANAGER_ENDPOINT".into(), endpoint());
        for (name, value) in extra {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        env
    }
}

fn config(env: &HashMap<String, String>) -> Config {
    Config::from_lookup(|name| env.get(name).cloned()).expect("the configuration parses")
}

/// The state `function` builds at start-up under `env`, over a fresh SQLite store.
async fn start(function: &Function, env: &HashMap<String, String>) -> anyhow::Result<AppState> {
    let store = TestStore::sqlite().await;
    AppState::build(&config(env), storage(&store.users), function.keys).await
}

fn function(name: &str) -> &'static Function {
    vimcar::routes::function(name).unwrap_or_else(|| panic!("no function {name}"))
}

fn issue(tokens: &Tokens) -> anyhow::Result<String> {
    Ok(tokens
        .issue(Uuid::now_v7(), Uuid::now_v7())?
        .token
        .expose_secret()
        .to_owned())
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("an ES256 token names its key")
}

/// Waits, on the monotonic clock, until `refresh` has passed since `since`: by then a ring read before `since` is
/// due (its next read was set before it returned).
async fn wait_until_due(since: Instant, refresh: Duration) {
    let due = since + refresh;
    while Instant::now() < due {
        tokio::time::sleep(due - Instant::now()).await;
    }
}

#[tokio::test]
async fn register_starts_with_no_secret_configured_at_all_and_reads_none() {
    let register = function("register");
    assert_eq!(register.keys, KeyUse::NONE);
    // Nothing configured.
    let state = start(register, &HashMap::new()).await.unwrap();
    assert!(issue(&state.tokens).is_err(), "register signs nothing");
    // Everything configured, pointing at secrets that do not exist on a server that is not there: nothing is read.
    let env: HashMap<String, String> = [
        ("JWT_ALGORITHM", "ES256"),
        ("VIMCAR_SECRET_ID", "no-such-secret"),
        ("JWT_SIGNING_KEYS_ID", "no-such-signing-keys"),
        ("JWT_PUBLIC_KEYS_ID", "no-such-public-keys"),
        ("SECRETS_MANAGER_ENDPOINT", "http://127.0.0.1:1"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    start(register, &env).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_loads_what_its_registry_entry_says_and_only_signers_sign() {
    let deployment = Deployment::create(rotated_keys()).await;
    let env = deployment.env(&[]);
    let auth = start(function("auth"), &env).await.unwrap();
    let token = issue(&auth.tokens).unwrap();
    let current = deployment
        .set
        .current(Utc::now())
        .expect("a current key")
        .kid
        .clone();
    assert_eq!(kid_of(&token), current);
    let trusted: Vec<KeyRecord> = deployment
        .set
        .trusted(Utc::now())
        .map(KeyRecord::public)
        .collect();
    for function in FUNCTIONS {
        let state = start(function, &env)
            .await
            .unwrap_or_else(|e| panic!("{} starts: {e:#}", function.name));
        let uses = function.keys;
        let issued = issue(&state.tokens);
        assert_eq!(
            issued.is_ok(),
            uses.sign,
            "{} signs only if it is a signer",
            function.name
        );
        if let Ok(own) = issued {
            assert_eq!(kid_of(&own), current, "{}", function.name);
            assert!(auth.tokens.verify(&own).is_ok(), "{}", function.name);
        }
        // Whoever holds a copy of the set can check a token with it; register holds none.
        assert_eq!(
            state.tokens.verify(&token).is_ok(),
            uses.sign || uses.verify || uses.publish,
            "{} verifies auth's token only if it holds the keys",
            function.name
        );
        if uses.publish {
            let mut published = state.tokens.published_keys();
            assert!(published.iter().all(|key| key.d.is_none()));
            let mut expected = trusted.clone();
            published.sort_by(|a, b| a.kid.cmp(&b.kid));
            expected.sort_by(|a, b| a.kid.cmp(&b.kid));
            assert_eq!(published, expected, "{}", function.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_needs_only_the_public_copy_and_a_signer_the_signing_one() {
    let deployment = Deployment::create(rotated_keys()).await;
    let auth = start(function("auth"), &deployment.env(&[])).await.unwrap();
    let token = issue(&auth.tokens).unwrap();
    // A verifier given the public copy's id alone (and no HMAC secret: with ES256 it uses none).
    let mut verifier_env = deployment.env(&[]);
    verifier_env.remove("JWT_SIGNING_KEYS_ID");
    verifier_env.remove("VIMCAR_SECRET_ID");
    let me = start(function("me"), &verifier_env).await.unwrap();
    assert!(me.tokens.verify(&token).is_ok());
    let error = issue(&me.tokens).unwrap_err();
    assert!(format!("{error:#}").contains("cannot sign"), "{error:#}");

    // A signer without the signing copy's id does not start, and says what is missing.
    let mut signer_env = deployment.env(&[]);
    signer_env.remove("JWT_SIGNING_KEYS_ID");
    let error = start(function("auth"), &signer_env).await.err().unwrap();
    assert!(
        format!("{error:#}").contains("JWT_SIGNING_KEYS_ID"),
        "{error:#}"
    );
    // A verifier without the public copy's id neither.
    let mut env = deployment.env(&[]);
    env.remove("JWT_PUBLIC_KEYS_ID");
    let error = start(function("me"), &env).await.err().unwrap();
    assert!(
        format!("{error:#}").contains("JWT_PUBLIC_KEYS_ID"),
        "{error:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_is_a_clear_start_up_error_for_the_functions_that_need_it() {
    let deployment = Deployment::create(rotated_keys()).await;
    let missing = format!("vimcar-test-{}/absent", Uuid::now_v7());
    for variable in [
        "VIMCAR_SECRET_ID",
        "JWT_SIGNING_KEYS_ID",
        "JWT_PUBLIC_KEYS_ID",
    ] {
        let env = deployment.env(&[(variable, &missing)]);
        for function in FUNCTIONS {
            let uses = function.keys;
            let reads = match variable {
                "VIMCAR_SECRET_ID" => uses.hmac,
                "JWT_SIGNING_KEYS_ID" => uses.sign,
                _ => !uses.sign && (uses.verify || uses.publish),
            };
            let started = start(function, &env).await;
            match (reads, started) {
                (true, Ok(_)) => panic!("{} started without {variable}", function.name),
                (true, Err(error)) => {
                    let message = format!("{error:#}");
                    assert!(message.contains(&missing), "{}: {message}", function.name);
                }
                (false, Ok(_)) => {}
                (false, Err(error)) => {
                    panic!("{} does not read {variable}: {error:#}", function.name)
                }
            }
        }
    }
    // ES256 with no key set configured at all: the hint names both places.
    let mut env = deployment.env(&[]);
    env.remove("JWT_SIGNING_KEYS_ID");
    env.remove("JWT_PUBLIC_KEYS_ID");
    let error = start(function("me"), &env).await.err().unwrap();
    let message = format!("{error:#}");
    assert!(
        message.contains("JWT_KEYS_FILE") && message.contains("JWT_PUBLIC_KEYS_ID"),
        "{message}"
    );
    // With JWT_ACCEPT_HS256 a verifier needs the HMAC secret too.
    let env = deployment.env(&[("JWT_ACCEPT_HS256", "true"), ("VIMCAR_SECRET_ID", &missing)]);
    let error = start(function("me"), &env).await.err().unwrap();
    assert!(format!("{error:#}").contains(&missing), "{error:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_reaches_running_functions_at_their_next_read_and_a_failed_read_keeps_the_set() {
    let now = Utc::now();
    let first = KeyRecord::generate(now, now - chrono::Duration::minutes(1));
    let deployment = Deployment::create(KeySet {
        keys: vec![first.clone()],
    })
    .await;
    let env = deployment.env(&[]);
    let refresh = config(&env).tokens.keys_refresh;
    assert_eq!(refresh, Duration::from_secs(1));
    let auth = start(function("auth"), &env).await.unwrap();
    let me = start(function("me"), &env).await.unwrap();
    let jwks = start(function("jwks"), &env).await.unwrap();
    let started = Instant::now();
    assert_eq!(kid_of(&issue(&auth.tokens).unwrap()), first.kid);

    // A rotation whose new key signs at once (as one written with --activate-in 0).
    let mut rotated = deployment.set.clone();
    let second = KeyRecord::generate(Utc::now(), Utc::now() - chrono::Duration::seconds(1));
    rotated.rotate(second.clone(), Utc::now(), chrono::Duration::minutes(10));
    deployment.store(&rotated).await;
    let by_second = issue(&Tokens::new(
        &config(&env).tokens,
        None,
        Some(vimcar::keys::KeyRing::fixed(rotated.clone(), true)),
    ))
    .unwrap();
    // Until they read the set again, the functions go on with the one they hold.
    assert_eq!(kid_of(&issue(&auth.tokens).unwrap()), first.kid);
    assert!(me.tokens.verify(&by_second).is_err());

    wait_until_due(started, refresh).await;
    for state in [&auth, &me, &jwks] {
        state.tokens.refresh_keys().await;
    }
    let after = issue(&auth.tokens).unwrap();
    assert_eq!(kid_of(&after), second.kid, "auth signs with the new key");
    assert!(me.tokens.verify(&after).is_ok());
    assert!(me.tokens.verify(&by_second).is_ok());
    let mut published: Vec<String> = jwks
        .tokens
        .published_keys()
        .into_iter()
        .map(|key| key.kid)
        .collect();
    published.sort();
    let mut expected = vec![first.kid.clone(), second.kid.clone()];
    expected.sort();
    assert_eq!(published, expected, "the previous key stays published");

    // A broken re-read (the secrets no longer parse): every function keeps the set it holds.
    let refreshed = Instant::now();
    for id in [&deployment.public, &deployment.signing] {
        deployment.secrets.write(id, "not a key set").await.unwrap();
    }
    wait_until_due(refreshed, refresh).await;
    for state in [&auth, &me, &jwks] {
        state.tokens.refresh_keys().await;
    }
    let kept = issue(&auth.tokens).unwrap();
    assert_eq!(kid_of(&kept), second.kid);
    assert!(me.tokens.verify(&kept).is_ok());
    assert_eq!(jwks.tokens.published_keys().len(), 2);
}
