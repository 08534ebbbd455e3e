//! End to end: the README's curl flows over HTTP, through `cargo lambda watch` and the function processes.

use std::time::Duration;

use serde_json::{Value, json};
use vimcar::users::UserStoreExt;
use vimcar_tests::server::LambdaWatch;
use vimcar_tests::{SECRET, STRONG_PASSWORD};

/// An HTTP client that hands back 4xx and 5xx answers instead of failing on them. The first request to each
/// function may wait for `cargo run` to start it.
fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

fn answer(response: Result<http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("the emulator answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.body_mut().read_to_string().expect("a text body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Answer {
        status,
        headers,
        body,
    }
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Answer {
    answer(
        agent
            .post(url)
            .header("Content-type", "application/json")
            .send(body.to_string()),
    )
}

/// A POST with an optional JSON body and an optional access token, for the answers without a body (a 204): the
/// status, and the body's text.
fn post_with(
    agent: &ureq::Agent,
    url: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (u16, String) {
    let mut request = agent.post(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("JWT {token}"));
    }
    let response = match body {
        Some(body) => request
            .header("Content-type", "application/json")
            .send(body.to_string()),
        None => request.send_empty(),
    };
    let mut response = response.expect("the emulator answers");
    let text = response.body_mut().read_to_string().expect("a text body");
    (response.status().as_u16(), text)
}

fn list(agent: &ureq::Agent, base: &str, access_token: &str) -> Answer {
    answer(
        agent
            .get(format!("{base}/api/users"))
            .header("Authorization", format!("JWT {access_token}"))
            .call(),
    )
}

/// The tokens a login or a refresh answered.
struct Tokens {
    access: String,
    refresh: String,
}

fn tokens(answer: &Answer) -> Tokens {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token = |name: &str| {
        answer.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name}: {}", answer.body))
            .to_owned()
    };
    Tokens {
        access: token("access_token"),
        refresh: token("refresh_token"),
    }
}

/// The README's "Sessions" flow: refresh, log out, log out everywhere. Answers every token it saw, for the logs
/// check.
fn sessions_flow(server: &LambdaWatch) -> Vec<String> {
    let agent = client();
    let base = server.base_url();
    let login = json!({"username": "foo", "password": STRONG_PASSWORD});
    let refresh = |refresh_token: &str| {
        post(
            &agent,
            &format!("{base}/auth/refresh"),
            &json!({"refresh_token": refresh_token}),
        )
    };
    let logout = format!("{base}/auth/logout");

    let first = tokens(&post(&agent, &format!("{base}/auth"), &login));
    let refreshed = refresh(&first.refresh);
    assert_eq!(refreshed.headers["cache-control"], "no-store");
    let second = tokens(&refreshed);
    assert_ne!(
        second.refresh, first.refresh,
        "a refresh answers the next refresh token"
    );
    assert!(refreshed.body["refresh_expires_in"].as_u64().unwrap() > 0);
    assert_eq!(list(&agent, &base, &second.access).status, 200);
    let before_logout = list(&agent, &base, &first.access);
    assert_eq!(
        before_logout.status, 200,
        "the access token from before the refresh works until its session ends: {}",
        before_logout.body
    );

    let (status, body) = post_with(
        &agent,
        &logout,
        Some(&json!({"refresh_token": second.refresh})),
        None,
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, "", "a logout answers no body");
    for access in [&first.access, &second.access] {
        let refused = list(&agent, &base, access);
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_eq!(refused.body["type"], "/problems/session-ended");
    }
    let refused = refresh(&second.refresh);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["type"], "/problems/session-ended");
    let (status, body) = post_with(
        &agent,
        &logout,
        Some(&json!({"refresh_token": second.refresh})),
        None,
    );
    assert_eq!(status, 204, "logging out again succeeds: {body}");

    // Two sessions (say a laptop and a phone); a global logout with one's access token ends both.
    let laptop = tokens(&post(&agent, &format!("{base}/auth"), &login));
    let phone = tokens(&post(&agent, &format!("{base}/auth"), &login));
    let (status, body) = post_with(
        &agent,
        &logout,
        Some(&json!({"scope": "global"})),
        Some(&laptop.access),
    );
    assert_eq!(status, 204, "{body}");
    for access in [&laptop.access, &phone.access] {
        let refused = list(&agent, &base, access);
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_eq!(refused.body["type"], "/problems/session-ended");
    }
    let refused = refresh(&phone.refresh);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["type"], "/problems/session-ended");

    // Neither a refresh token nor an access token: nothing says whose session.
    let (status, body) = post_with(&agent, &logout, Some(&json!({})), None);
    assert_eq!(status, 401, "{body}");

    [first, second, laptop, phone]
        .into_iter()
        .flat_map(|tokens| [tokens.access, tokens.refresh])
        .collect()
}

fn get(agent: &ureq::Agent, url: &str, access_token: &str) -> Answer {
    answer(
        agent
            .get(url)
            .header("Authorization", format!("JWT {access_token}"))
            .call(),
    )
}

/// The new password of the README's password change example.
const NEW_PASSWORD: &str = "plum tractor violin harbour seventeen";

/// The README's account examples: who am I, a user by id, a password change, the account's deletion; then `foo`
/// registers again, as the README says it can. Answers every token it saw, for the logs check.
fn account_flow(server: &LambdaWatch, id: &str) -> Vec<String> {
    let agent = client();
    let base = server.base_url();
    let login = json!({"username": "foo", "password": STRONG_PASSWORD});
    let first = tokens(&post(&agent, &format!("{base}/auth"), &login));

    let me = get(&agent, &format!("{base}/api/users/me"), &first.access);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], id);
    assert_eq!(me.body["username"], "foo");
    assert_eq!(me.body["email"], "foo@bar.com");
    assert_eq!(me.body["is_admin"], false);
    let by_id = get(&agent, &format!("{base}/api/users/{id}"), &first.access);
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body, me.body, "oneself by id, in full");
    let unknown = get(
        &agent,
        &format!("{base}/api/users/0192f4a8-6d1e-7c3b-9a5f-2e8d4c6b1a90"),
        &first.access,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(unknown.body["type"], "/problems/not-found");

    // A second session, which the change ends too.
    let other = tokens(&post(&agent, &format!("{base}/auth"), &login));
    let changed = answer(
        agent
            .post(format!("{base}/api/users/me/password"))
            .header("Authorization", format!("JWT {}", first.access))
            .header("Content-type", "application/json")
            .send(
                json!({"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD})
                    .to_string(),
            ),
    );
    let after = tokens(&changed);
    for access in [&first.access, &other.access] {
        let refused = get(&agent, &format!("{base}/api/users/me"), access);
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_eq!(refused.body["type"], "/problems/session-ended");
    }
    let old = post(&agent, &format!("{base}/auth"), &login);
    assert_eq!(old.status, 401, "the old password is gone: {}", old.body);
    assert_eq!(
        get(&agent, &format!("{base}/api/users/me"), &after.access).status,
        200
    );

    let delete = |password: &str| {
        let mut response = agent
            .delete(format!("{base}/api/users/me"))
            .header("Authorization", format!("JWT {}", after.access))
            .header("Content-type", "application/json")
            .force_send_body()
            .send(json!({ "password": password }).to_string())
            .expect("the emulator answers");
        let text = response.body_mut().read_to_string().expect("a text body");
        (response.status().as_u16(), text)
    };
    let (status, body) = delete("not the password at all");
    assert_eq!(status, 401, "{body}");
    let (status, body) = delete(NEW_PASSWORD);
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, "", "a deletion answers no body");
    let refused = get(&agent, &format!("{base}/api/users/me"), &after.access);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["type"], "/problems/session-ended");
    let gone = post(
        &agent,
        &format!("{base}/auth"),
        &json!({"username": "foo", "password": NEW_PASSWORD}),
    );
    assert_eq!(gone.status, 401, "{}", gone.body);
    let again = post(
        &agent,
        &format!("{base}/api/users"),
        &json!({"username": "foo", "password": STRONG_PASSWORD, "email": "foo@bar.com"}),
    );
    assert_eq!(
        again.status, 201,
        "the name and email are free again: {}",
        again.body
    );

    [first, other, after]
        .into_iter()
        .flat_map(|tokens| [tokens.access, tokens.refresh])
        .collect()
}

/// The README's flow, then the two mistakes every client makes first.
fn readme_flow(server: &LambdaWatch) {
    let agent = client();
    let base = server.base_url();
    let registration =
        json!({"username": "foo", "password": STRONG_PASSWORD, "email": "foo@bar.com"});

    let created = post(&agent, &format!("{base}/api/users"), &registration);
    assert_eq!(created.status, 201, "{}\n{}", created.body, server.logs());
    assert_eq!(created.body["username"], "foo");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"],
        format!("/api/users/{id}").as_str()
    );

    let login = json!({"username": "foo", "password": STRONG_PASSWORD});
    let token = post(&agent, &format!("{base}/auth"), &login);
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(token.headers["cache-control"], "no-store");
    let access_token = token.body["access_token"].as_str().unwrap().to_owned();

    let listed = answer(
        agent
            .get(format!("{base}/api/users"))
            .header("Authorization", format!("JWT {access_token}"))
            .call(),
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        listed.body,
        json!([{"id": id, "username": "foo", "email": "foo@bar.com", "created_at": created.body["created_at"]}])
    );

    let anonymous = answer(agent.get(format!("{base}/api/users")).call());
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert!(anonymous.headers.contains_key("www-authenticate"));
    assert_eq!(anonymous.body["status"], 401);

    let duplicate = post(&agent, &format!("{base}/api/users"), &registration);
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    assert_eq!(duplicate.body["errors"][0]["field"], "username");

    let wrong = post(
        &agent,
        &format!("{base}/auth"),
        &json!({"username": "foo", "password": "wrong password!!"}),
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);

    let mut session_tokens = sessions_flow(server);
    session_tokens.extend(account_flow(server, &id));

    // What the functions logged for all of the above holds no secret (and they did log: the capture works).
    let logs = server.logs();
    assert!(
        logs.contains("user registered")
            && logs.contains("logged out everywhere")
            && logs.contains("account deleted by its user"),
        "no function logs captured:\n{logs}"
    );
    for secret in [
        STRONG_PASSWORD,
        access_token.as_str(),
        "$argon2id",
        "wrong password!!",
        NEW_PASSWORD,
        "not the password at all",
        SECRET,
    ]
    .into_iter()
    .chain(session_tokens.iter().map(String::as_str))
    {
        assert!(!logs.contains(secret), "the logs hold {secret:?}:\n{logs}");
    }

    // Routes the emulator does not know never reach a function.
    let unknown = agent
        .get(format!("{base}/api/nothing-here"))
        .call()
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// The token the flow above would get, checked with the secret the test gave the emulator.
fn token_claims(server: &LambdaWatch) -> vimcar::tokens::Claims {
    let agent = client();
    let login = json!({"username": "foo", "password": STRONG_PASSWORD});
    let token = post(&agent, &format!("{}/auth", server.base_url()), &login);
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(
        token.body["expires_in"], 120,
        "JWT_TTL_SECONDS reached the function"
    );
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["vimcar"]);
    validation.set_audience(&["vimcar-api"]);
    jsonwebtoken::decode::<vimcar::tokens::Claims>(
        token.body["access_token"].as_str().unwrap(),
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("VIMCAR_SECRET reached the function")
    .claims
}

#[test]
fn the_readme_flow_works_over_http_on_sqlite() {
    let dir = tempfile_dir();
    let db = dir.join("e2e.db");
    let server = LambdaWatch::start(&[
        ("USERS_BACKEND", "sqlite"),
        ("SQLITE_PATH", db.to_str().unwrap()),
        ("VIMCAR_SECRET", SECRET),
        // The most the functions ever log, for the no-secrets check.
        ("RUST_LOG", "debug"),
        ("JWT_TTL_SECONDS", "120"),
    ]);
    readme_flow(&server);
    let claims = token_claims(&server);
    assert_eq!(claims.exp - claims.iat, 120);
    an_imported_user_logs_in_with_its_old_password(
        &server,
        &[
            ("USERS_BACKEND", "sqlite"),
            ("SQLITE_PATH", db.to_str().unwrap()),
        ],
    );
    // HS256 keys are never published: the JWKS is empty, and says so for as long as a JWKS may be cached.
    let jwks = get_jwks(&server.base_url());
    assert_eq!(jwks.body, json!({"keys": []}));
    drop(server);
    assert!(db.exists(), "SQLITE_PATH reached the functions");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_readme_flow_works_over_http_on_dynamodb() {
    let endpoint = vimcar_tests::dynamodb::endpoint();
    let table = vimcar_tests::dynamodb::fresh_table_name();
    let storage = vimcar::config::StorageConfig::DynamoDb {
        table: table.clone(),
        endpoint: Some(endpoint.clone()),
    };
    // What `vimcar-admin db upgrade` does before `make dev` serves.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let users = vimcar::storage::Storage::open(&storage)
            .await
            .unwrap()
            .users;
        users.upgrade().await.unwrap();
    });
    let server = LambdaWatch::start(&[
        ("USERS_BACKEND", "dynamodb"),
        ("USERS_TABLE", &table),
        ("DYNAMODB_ENDPOINT", &endpoint),
        ("VIMCAR_SECRET", SECRET),
        ("JWT_TTL_SECONDS", "120"),
    ]);
    readme_flow(&server);
    let claims = token_claims(&server);
    assert_eq!(claims.exp - claims.iat, 120);
    an_imported_user_logs_in_with_its_old_password(
        &server,
        &[
            ("USERS_BACKEND", "dynamodb"),
            ("USERS_TABLE", &table),
            ("DYNAMODB_ENDPOINT", &endpoint),
        ],
    );
}

/// `vimcar-admin import flask tests/fixtures/flask/flask-dev.db` into the storage `env` names: the real command, as
/// the README's migration steps run it. `cargo test --workspace` (`make test`) builds it, for the admin crate's own
/// tests; run alone, this test needs `cargo build -p vimcar-admin` first.
fn import_the_fixture(env: &[(&str, &str)]) -> String {
    let root = vimcar_tests::server::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let admin = target.join("debug/vimcar-admin");
    assert!(
        admin.exists(),
        "{} is missing: `make test` builds it; alone, run `cargo build -p vimcar-admin`",
        admin.display()
    );
    let output = std::process::Command::new(&admin)
        .args(["import", "flask", "tests/fixtures/flask/flask-dev.db"])
        .current_dir(&root)
        .envs(env.iter().copied())
        .output()
        .expect("vimcar-admin runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// After the import, over HTTP, alice logs in with her old password (which today's rules accept: no change
/// required) and her token lists the users.
fn an_imported_user_logs_in_with_its_old_password(server: &LambdaWatch, storage: &[(&str, &str)]) {
    let summary = import_the_fixture(storage);
    // The fixture's foo collides with the foo the README's flow registered: skipped, and said so.
    assert!(
        summary.starts_with("imported 4, already imported 0, skipped 1 of 5 rows"),
        "{summary}"
    );
    let agent = client();
    let base = server.base_url();
    let login = json!({"username": "alice", "password": "alice-in-wonderland-1865"});
    let logged_in = post(&agent, &format!("{base}/auth"), &login);
    assert_eq!(
        logged_in.status,
        200,
        "{}\n{}",
        logged_in.body,
        server.logs()
    );
    assert_eq!(logged_in.body["password_change_required"], false);
    let access = tokens(&logged_in).access;
    let listed = list(&agent, &base, &access);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["alice", "bob.builder", "phoo", "jürgen", "foo"],
        "the imported users, in their original order, before the one registered today"
    );
    // The old password still works, now against the Argon2 hash the first login stored.
    let again = post(&agent, &format!("{base}/auth"), &login);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["password_change_required"], false);
}

#[test]
fn a_function_refuses_to_start_without_a_usable_secret() {
    for (secret, message) in [
        (None, "VIMCAR_SECRET is not set"),
        (Some("too short"), "at least 32 are required"),
    ] {
        let mut command = vimcar_tests::server::cargo();
        command
            .args(["run", "--quiet", "-p", "list-users"])
            .current_dir(vimcar_tests::server::workspace_root())
            .env_remove("VIMCAR_SECRET")
            .env("SQLITE_PATH", tempfile_dir().join("unused.db"));
        if let Some(secret) = secret {
            command.env("VIMCAR_SECRET", secret);
        }
        let output = command.output().expect("cargo runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{printed}");
        assert!(printed.contains(message), "{printed}");
    }
}

/// `GET /.well-known/jwks.json`, checked for what every answer carries: a 200, JSON, and the cache lifetime the
/// README promises.
fn get_jwks(base: &str) -> Answer {
    let jwks = answer(client().get(format!("{base}/.well-known/jwks.json")).call());
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    assert_eq!(jwks.headers["cache-control"], "public, max-age=600");
    assert!(
        jwks.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        jwks.headers
    );
    jwks
}

/// The README's PyJWT check: what another service runs to verify a vimcar token.
const PYJWT_VERIFY: &str = include_str!("pyjwt_verify.py");

/// The README's "Tokens other services can verify" with `JWT_ALGORITHM=ES256`: a key file made with `vimcar-admin
/// keys rotate`, a token from `POST /auth`, verified by PyJWT's `PyJWKClient` against the served JWKS (found through
/// the discovery document), as the README's snippet does.
#[test]
fn es256_tokens_verify_with_pyjwt_against_the_served_jwks() {
    let dir = tempfile_dir();
    let db = dir.join("e2e.db");
    let keys_file = dir.join("keys.json");
    let env = [
        ("USERS_BACKEND", "sqlite"),
        ("SQLITE_PATH", db.to_str().unwrap()),
        ("VIMCAR_SECRET", SECRET),
        ("JWT_ALGORITHM", "ES256"),
        ("JWT_KEYS_FILE", keys_file.to_str().unwrap()),
    ];
    // The key, as `make dev` makes it: with no current key, the first one signs at once.
    let mut rotate = vimcar_tests::server::cargo();
    rotate
        .args([
            "run",
            "--quiet",
            "-p",
            "vimcar-admin",
            "--",
            "keys",
            "rotate",
        ])
        .current_dir(vimcar_tests::server::workspace_root())
        .envs(env);
    let output = rotate.output().expect("cargo runs vimcar-admin");
    assert!(
        output.status.success(),
        "keys rotate: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&keys_file).unwrap()).unwrap();
    let kid = file["keys"][0]["kid"].as_str().unwrap().to_owned();

    let server = LambdaWatch::start(&env);
    let base = server.base_url();
    let agent = client();
    let created = post(
        &agent,
        &format!("{base}/api/users"),
        &json!({"username": "foo", "password": STRONG_PASSWORD, "email": "foo@bar.com"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let login = tokens(&post(
        &agent,
        &format!("{base}/auth"),
        &json!({"username": "foo", "password": STRONG_PASSWORD}),
    ));

    // The JWKS publishes the key that signed, public parts only.
    let jwks = get_jwks(&base);
    let keys = jwks.body["keys"].as_array().expect("a list of keys");
    assert_eq!(keys.len(), 1, "{}", jwks.body);
    assert_eq!(keys[0]["kid"], kid.as_str());
    for (member, value) in [
        ("kty", "EC"),
        ("crv", "P-256"),
        ("alg", "ES256"),
        ("use", "sig"),
    ] {
        assert_eq!(keys[0][member], value, "{}", jwks.body);
    }
    assert!(
        keys[0].get("d").is_none(),
        "the JWKS holds no private key: {}",
        jwks.body
    );

    // The discovery document names the issuer and a JWKS that answers the same.
    let discovery = answer(
        agent
            .get(format!("{base}/.well-known/openid-configuration"))
            .call(),
    );
    assert_eq!(discovery.status, 200, "{}", discovery.body);
    assert_eq!(discovery.body["issuer"], "vimcar");
    let jwks_uri = discovery.body["jwks_uri"].as_str().unwrap().to_owned();
    assert_eq!(jwks_uri, format!("{base}/.well-known/jwks.json"));
    let fetched = answer(agent.get(&jwks_uri).call());
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, jwks.body);

    // A real client: PyJWT (infra/requirements.txt) with the script the README shows.
    let readme =
        std::fs::read_to_string(vimcar_tests::server::workspace_root().join("README.md")).unwrap();
    let snippet = PYJWT_VERIFY
        .split_once("\"\"\"\n\n")
        .map_or(PYJWT_VERIFY, |(_, code)| code);
    assert!(
        readme.contains(snippet.trim()),
        "the README shows the PyJWT check tests/e2e/pyjwt_verify.py runs, as it is"
    );
    let script = dir.join("pyjwt_verify.py");
    std::fs::write(&script, PYJWT_VERIFY).unwrap();
    let python = vimcar_tests::server::workspace_root().join(".venv/bin/python");
    let verified = std::process::Command::new(&python)
        .arg(&script)
        .args([&jwks_uri, &login.access, "vimcar"])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run `make tools`)", python.display()));
    assert!(
        verified.status.success(),
        "PyJWT refused the token: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let claims: Value = serde_json::from_slice(&verified.stdout).expect("the claims, as JSON");
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["aud"], "vimcar-api");

    // And it refuses what it should: the same token with one character of its signature changed (one in the
    // middle: the last one carries padding bits).
    let at = login.access.len() - 10;
    let changed = if &login.access[at..=at] == "A" {
        "B"
    } else {
        "A"
    };
    let forged = format!(
        "{}{changed}{}",
        &login.access[..at],
        &login.access[at + 1..]
    );
    let refused = std::process::Command::new(&python)
        .arg(&script)
        .args([&jwks_uri, &forged, "vimcar"])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "PyJWT accepted a forged signature"
    );

    // And with Rust's jsonwebtoken, as the README's snippet does.
    let claims = verify_with_jsonwebtoken(&login.access, &jwks_uri)
        .expect("jsonwebtoken verifies the token");
    assert_eq!(claims["sub"], id.as_str());
    assert!(
        verify_with_jsonwebtoken(&forged, &jwks_uri).is_err(),
        "jsonwebtoken accepted a forged signature"
    );

    // The API itself takes the ES256 token.
    assert_eq!(list(&agent, &base, &login.access).status, 200);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

/// The README's Rust snippet ("Tokens other services can verify"), as it is there.
fn verify_with_jsonwebtoken(token: &str, jwks_url: &str) -> anyhow::Result<serde_json::Value> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
    // Cache the set for its max-age (600 s), and fetch it again when a token names a kid it does not hold.
    let jwks: JwkSet = ureq::get(jwks_url).call()?.body_mut().read_json()?;
    let kid = decode_header(token)?
        .kid
        .ok_or_else(|| anyhow::anyhow!("no kid"))?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| anyhow::anyhow!("unknown kid {kid}"))?;
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(Algorithm::ES256); // never the token's own `alg`
    validation.set_audience(&["vimcar-api"]);
    validation.set_issuer(&["vimcar"]);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "aud", "iss"]);
    Ok(decode::<serde_json::Value>(token, &key, &validation)?.claims)
}

/// A fresh directory under the system temp dir.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vimcar-e2e-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

/// `make smoke`'s flow (infra/smoke) passes against the emulator and leaves no user behind.
#[test]
fn the_smoke_test_passes_against_the_emulator_and_leaves_no_user() {
    let dir = tempfile_dir();
    let db = dir.join("smoke.db");
    let server = LambdaWatch::start(&[
        ("USERS_BACKEND", "sqlite"),
        ("SQLITE_PATH", db.to_str().unwrap()),
        ("VIMCAR_SECRET", SECRET),
    ]);
    let root = vimcar_tests::server::workspace_root();
    let output = std::process::Command::new("python3")
        .arg(root.join("infra/smoke"))
        .arg(server.base_url())
        .output()
        .expect("python3 runs infra/smoke");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "infra/smoke failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("smoke: passed"), "{stdout}");
    drop(server);
    let count = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM users').fetchone()[0])",
        ])
        .arg(&db)
        .output()
        .expect("python3 reads the database");
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        "0",
        "the smoke test left a user behind"
    );
    let _ = std::fs::remove_dir_all(dir);
}
