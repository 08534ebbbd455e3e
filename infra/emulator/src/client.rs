//! The warm-up's requests: a user registered, logged in and listed through the API.

use std::time::Duration;

use serde_json::Value;

/// The problem type of the emulator's own 500, when it loses an invocation under load (not a function's answer).
pub const EMULATOR_ERROR_TYPE: &str = "httpstatuses.com";

/// Registers `username` (with `username@example.com` and `password`) through the API, logs in and lists users once;
/// answers the access token. Every function has then served a real request, and a caller has a token for the
/// authenticated routes. The emulator's own 500 (it lost the invocation) is retried where a repeat does no harm.
pub fn sign_up(base_url: &str, username: &str, password: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let registration = serde_json::json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": password,
    });
    let (status, body) = call(
        &agent,
        base_url,
        "POST",
        "/api/users",
        Some(&registration),
        None,
    )?;
    expect(201, status, &body, &format!("registering {username}"))?;
    let login = serde_json::json!({"username": username, "password": password});
    let (status, body) = call(&agent, base_url, "POST", "/auth", Some(&login), None)?;
    expect(200, status, &body, "logging in")?;
    let token = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|body| body["access_token"].as_str().map(str::to_owned))
        .ok_or_else(|| format!("logging in answered no access_token: {body}"))?;
    let (status, body) = call(&agent, base_url, "GET", "/api/users", None, Some(&token))?;
    expect(200, status, &body, "listing users")?;
    Ok(token)
}

/// `GET /api/users` with `token`: the status and body of the first page.
pub fn list_users(base_url: &str, token: &str) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    call(&agent, base_url, "GET", "/api/users", None, Some(token))
}

fn call(
    agent: &ureq::Agent,
    base_url: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let url = format!("{base_url}{path}");
    let retry = !(method == "POST" && path == "/api/users");
    let mut answer = (0, String::new());
    for _ in 0..3 {
        let authorization = token.map(|token| format!("JWT {token}"));
        let response = match body {
            Some(body) => {
                let mut request = agent.post(&url).header("content-type", "application/json");
                if let Some(value) = &authorization {
                    request = request.header("authorization", value);
                }
                request.send(body.to_string())
            }
            None => {
                let mut request = agent.get(&url);
                if let Some(value) = &authorization {
                    request = request.header("authorization", value);
                }
                request.call()
            }
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{method} {path}: reading the answer: {e}"))?;
        let emulator = status == 500 && text.contains(EMULATOR_ERROR_TYPE);
        answer = (status, text);
        if !emulator || !retry {
            break;
        }
    }
    Ok(answer)
}

fn expect(wanted: u16, status: u16, body: &str, what: &str) -> Result<(), String> {
    if status == wanted {
        return Ok(());
    }
    let body: String = body.chars().take(500).collect();
    Err(format!("{what} answered {status}: {body}"))
}
