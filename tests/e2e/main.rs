//! End to end: the README's curl flow over HTTP, through `cargo lambda watch` and the three function processes.

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

    // What the functions logged for all of the above holds no secret (and they did log: the capture works).
    let logs = server.logs();
    assert!(
        logs.contains("user registered"),
        "no function logs captured:\n{logs}"
    );
    for secret in [
        STRONG_PASSWORD,
        access_token.as_str(),
        "$argon2id",
        "wrong password!!",
        SECRET,
    ] {
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

/// A fresh directory under the system temp dir.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vimcar-e2e-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}
