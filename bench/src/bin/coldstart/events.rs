//! The functions under test and the API Gateway events each is invoked with.
//!
//! Events start from the real HTTP API (payload 2.0) events in `tests/fixtures/`, with a fresh body, request id and
//! token per invocation; every answer must be a 2xx, or the run fails.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use vimcar::routes;

use crate::Result;
use crate::runtime_api::Invocation;

/// Every user the harness registers or logs in with has this password (zxcvbn scores it 4).
pub const PASSWORD: &str = "correct horse battery staple";

/// The login user's other password: each password change goes from one to the other and back.
pub const OTHER_PASSWORD: &str = "plum tractor violin harbour seventeen";

/// One function of the registry (`vimcar::routes::FUNCTIONS`), with the name, memory and timeout `template.yaml`
/// deploys it with. Ordered as the registry lists them, which puts logins before refreshes, logouts and listing.
#[derive(Clone, Copy)]
pub struct Function(&'static routes::Function);

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Function").field(&self.name()).finish()
    }
}

impl PartialEq for Function {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Function {}

impl PartialOrd for Function {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Function {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.position().cmp(&other.position())
    }
}

impl Function {
    /// The function of the registry named `name`.
    pub fn named(name: &str) -> Option<Self> {
        routes::function(name).map(Self)
    }

    /// Recognises `.../register` as built by cargo and `.../register/bootstrap` as built by `cargo lambda`.
    pub fn of_bootstrap(path: &Path) -> Result<Self> {
        let mut name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "bootstrap" {
            name = path
                .parent()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .unwrap_or("");
        }
        Self::named(name).ok_or_else(|| {
            let names: Vec<&str> = routes::FUNCTIONS.iter().map(|f| f.name).collect();
            format!(
                "{}: not a bootstrap of {} (named by its file, or its directory if it is called bootstrap)",
                path.display(),
                names.join(", ")
            )
            .into()
        })
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// `MemorySize`, which Lambda passes as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub fn memory_mb(self) -> u32 {
        self.0.memory_mb
    }

    /// `Timeout`: the deadline Lambda gives each invocation.
    pub fn timeout(self) -> Duration {
        Duration::from_secs(self.0.timeout_s.into())
    }

    /// Whether this is register, which gets an empty table per run.
    pub fn is_register(self) -> bool {
        self.name() == routes::REGISTER.name
    }

    fn position(self) -> usize {
        routes::FUNCTIONS
            .iter()
            .position(|f| f.name == self.name())
            .unwrap_or(usize::MAX)
    }
}

/// Makes each function's next event and checks its answers; remembers the tokens the last login or refresh
/// returned.
pub struct Events {
    register: Value,
    auth: Value,
    refresh: Value,
    log_out: Value,
    list_users: Value,
    me: Value,
    get_user: Value,
    change_password: Value,
    delete_account: Value,
    jwks: Value,
    /// Distinguishes this harness run's usernames from any earlier run's on the same table.
    nonce: String,
    sequence: u64,
    login: String,
    /// The newest session's access token, for list-users.
    token: Option<String>,
    /// The newest session's refresh token, which each refresh replaces.
    refresh_token: Option<String>,
    /// The refresh tokens of the sessions of earlier logins, which logouts end (in turn, and again once all are:
    /// a logout of an ended session succeeds, with the same storage calls). Never the newest session's, which
    /// list-users goes on using.
    retired: Vec<String>,
    logouts: usize,
    /// The login user's password now: password changes swap it with [`OTHER_PASSWORD`].
    password: &'static str,
    /// The login user's id, from its access token, for get-user.
    user_id: Option<String>,
    /// Accounts of their own for delete-account, one per invocation: each deletion ends one for good. Access
    /// tokens of users with [`PASSWORD`], made by [`Events::prepare_deletions`]'s caller.
    deletable: Vec<String>,
}

impl Events {
    /// Events that log in as `login` (a user with [`PASSWORD`], created beforehand).
    pub fn new(nonce: &str, login: &str) -> Result<Self> {
        let parse = |text: &str| serde_json::from_str::<Value>(text);
        Ok(Self {
            register: parse(include_str!("../../../../tests/fixtures/register.json"))?,
            auth: parse(include_str!("../../../../tests/fixtures/auth.json"))?,
            refresh: parse(include_str!("../../../../tests/fixtures/refresh.json"))?,
            log_out: parse(include_str!("../../../../tests/fixtures/logout.json"))?,
            list_users: parse(include_str!("../../../../tests/fixtures/list-users.json"))?,
            me: parse(include_str!("../../../../tests/fixtures/me.json"))?,
            get_user: parse(include_str!("../../../../tests/fixtures/get-user.json"))?,
            change_password: parse(include_str!(
                "../../../../tests/fixtures/change-password.json"
            ))?,
            delete_account: parse(include_str!(
                "../../../../tests/fixtures/delete-account.json"
            ))?,
            jwks: parse(include_str!("../../../../tests/fixtures/jwks.json"))?,
            nonce: nonce.to_owned(),
            sequence: 0,
            login: login.to_owned(),
            token: None,
            refresh_token: None,
            retired: Vec::new(),
            logouts: 0,
            password: PASSWORD,
            user_id: None,
            deletable: Vec::new(),
        })
    }

    /// Gives delete-account the access tokens of accounts of their own (users with [`PASSWORD`]), one per invocation.
    pub fn prepare_deletions(&mut self, access_tokens: Vec<String>) {
        self.deletable.extend(access_tokens);
    }

    /// The newest access token, for `name`, which needs one.
    fn token(&self, name: &str) -> Result<&str> {
        self.token.as_deref().ok_or_else(|| {
            format!("{name} needs a token from a login first: give the auth bootstrap too").into()
        })
    }

    /// The next event for `function`: a new user for register, the prepared login for auth, the newest refresh
    /// token for refresh, an earlier session's refresh token for logout, the newest access token for list-users.
    pub fn next(&mut self, function: Function) -> Result<Invocation> {
        self.sequence += 1;
        let request_id = format!("{}-{:08}", self.nonce, self.sequence);
        let name = function.name();
        let event = if name == routes::REGISTER.name {
            {
                let username = format!("cs{}-{}", self.nonce, self.sequence);
                let body = json!({
                    "username": username,
                    "password": PASSWORD,
                    "email": format!("{username}@example.com"),
                });
                with_body(&self.register, &body)
            }
        } else if name == routes::AUTH.name {
            {
                let body = json!({"username": self.login, "password": self.password});
                with_body(&self.auth, &body)
            }
        } else if name == routes::REFRESH.name {
            {
                let refresh_token = self.refresh_token.as_deref().ok_or(
                    "refresh needs a refresh token from a login first: give the auth bootstrap too",
                )?;
                with_body(&self.refresh, &json!({"refresh_token": refresh_token}))
            }
        } else if name == routes::LOG_OUT.name {
            {
                if self.retired.is_empty() {
                    return Err("logout needs a session besides the newest (which list-users uses): give the auth \
                                bootstrap too, with two invocations or more"
                        .into());
                }
                let refresh_token = &self.retired[self.logouts % self.retired.len()];
                self.logouts += 1;
                // The fixture logs out with an access token and no body; this one with a refresh token.
                let mut event = with_body(&self.log_out, &json!({"refresh_token": refresh_token}));
                let headers = event["headers"]
                    .as_object_mut()
                    .ok_or("tests/fixtures/logout.json has no headers")?;
                headers.remove("authorization");
                headers.insert("content-type".to_owned(), "application/json".into());
                event
            }
        } else if name == routes::LIST_USERS.name {
            {
                let token = self.token.as_deref().ok_or(
                    "list-users needs a token from a login first: give the auth bootstrap too",
                )?;
                let mut event = self.list_users.clone();
                event["headers"]["authorization"] = format!("JWT {token}").into();
                event
            }
        } else if name == routes::ME.name {
            with_token(&self.me, self.token(name)?)
        } else if name == routes::GET_USER.name {
            // The login user itself: a user that exists, seen in full.
            let token = self.token(name)?;
            let id = match &self.user_id {
                Some(id) => id.clone(),
                None => subject(token)?,
            };
            let mut event = with_token(&self.get_user, token);
            event["rawPath"] = format!("/api/users/{id}").into();
            event["requestContext"]["http"]["path"] = format!("/api/users/{id}").into();
            event["pathParameters"]["id"] = id.into();
            event
        } else if name == routes::CHANGE_PASSWORD.name {
            let body =
                json!({"current_password": self.password, "new_password": other(self.password)});
            with_token(&with_body(&self.change_password, &body), self.token(name)?)
        } else if name == routes::DELETE_ACCOUNT.name {
            let token = self.deletable.pop().ok_or(
                "delete-account needs an account of its own for every invocation (Events::prepare_deletions)",
            )?;
            with_token(
                &with_body(&self.delete_account, &json!({ "password": PASSWORD })),
                &token,
            )
        } else if name == routes::JWKS.name {
            // GET /.well-known/jwks.json: no token, no body.
            self.jwks.clone()
        } else {
            return Err(format!(
                "no event for {name}: add one, from a fixture in tests/fixtures, to bench/src/bin/coldstart/events.rs"
            )
            .into());
        };
        let mut event = event;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
        event["requestContext"]["requestId"] = request_id.clone().into();
        event["requestContext"]["timeEpoch"] = u64::try_from(now.as_millis())?.into();
        Ok(Invocation {
            request_id,
            deadline_ms: (now + function.timeout()).as_millis(),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            trace_id: format!(
                "Root=1-{:08x}-{:0>24};Parent={:016x};Sampled=0",
                now.as_secs(),
                self.nonce,
                self.sequence
            ),
            event: serde_json::to_vec(&event)?,
        })
    }

    /// Fails unless `payload` (the function's answer to API Gateway) has a 2xx status; keeps the tokens of a login or
    /// a refresh.
    pub fn check(&mut self, function: Function, payload: &[u8]) -> Result<()> {
        let text = String::from_utf8_lossy(payload);
        let answer: Value = serde_json::from_slice(payload)
            .map_err(|e| format!("{}: the answer is not JSON ({e}): {text}", function.name()))?;
        let status = answer["statusCode"].as_u64().unwrap_or(0);
        if !(200..300).contains(&status) {
            return Err(format!("{}: answered {status}, not 2xx: {text}", function.name()).into());
        }
        let name = function.name();
        if name == routes::CHANGE_PASSWORD.name {
            // Every session of the login user ended but the one this answer begins: its tokens are the newest.
            self.password = other(self.password);
            self.retired.clear();
        }
        if name == routes::AUTH.name
            || name == routes::REFRESH.name
            || name == routes::CHANGE_PASSWORD.name
        {
            let body = answer["body"].as_str().unwrap_or("");
            let body: Value = serde_json::from_str(body)
                .map_err(|e| format!("{name}: the body is not JSON text ({e}): {text}"))?;
            let token = |field: &str| {
                body[field]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{name}: no {field}: {text}"))
            };
            self.token = Some(token("access_token")?);
            let refresh_token = token("refresh_token")?;
            match self.refresh_token.replace(refresh_token) {
                // A login begins a new session: the one before is free to be logged out.
                Some(earlier) if name == routes::AUTH.name => self.retired.push(earlier),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The password a change from `password` sets.
fn other(password: &str) -> &'static str {
    if password == PASSWORD {
        OTHER_PASSWORD
    } else {
        PASSWORD
    }
}

/// `template` with `Authorization: JWT <token>`.
fn with_token(template: &Value, token: &str) -> Value {
    let mut event = template.clone();
    event["headers"]["authorization"] = format!("JWT {token}").into();
    event
}

/// The user id (`sub`) an access token names, read without checking it: the function under test checks it.
fn subject(token: &str) -> Result<String> {
    let claims = token
        .split('.')
        .nth(1)
        .ok_or("an access token is three dot-separated parts")?;
    let claims = base64url_decode(claims)?;
    let claims: Value = serde_json::from_slice(&claims)?;
    claims["sub"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "an access token without sub".into())
}

/// Unpadded base64url, as JWTs encode their parts.
fn base64url_decode(text: &str) -> Result<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return Err(format!("not base64url: {text}").into()),
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Ok(bytes)
}

/// `template` with `body` as its JSON body, as text (the fixtures may hold it in base64).
fn with_body(template: &Value, body: &Value) -> Value {
    let body = body.to_string();
    let mut event = template.clone();
    event["headers"]["content-length"] = body.len().to_string().into();
    event["isBase64Encoded"] = false.into();
    event["body"] = body.into();
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register() -> Function {
        Function::named("register").unwrap()
    }

    fn log_in() -> Function {
        Function::named("auth").unwrap()
    }

    fn list_users() -> Function {
        Function::named("list-users").unwrap()
    }

    fn refresh() -> Function {
        Function::named("refresh").unwrap()
    }

    fn log_out() -> Function {
        Function::named("logout").unwrap()
    }

    /// An answer of auth or refresh with these tokens.
    fn tokens(access: &str, refresh: &str) -> Vec<u8> {
        let body = json!({"access_token": access, "refresh_token": refresh}).to_string();
        json!({"statusCode": 200, "body": body})
            .to_string()
            .into_bytes()
    }

    fn body(invocation: &Invocation) -> Value {
        let event: Value = serde_json::from_slice(&invocation.event).unwrap();
        serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
    }

    #[test]
    fn the_functions_come_from_the_registry_in_its_order() {
        let mut functions: Vec<Function> = routes::FUNCTIONS
            .iter()
            .rev()
            .map(|f| Function::named(f.name).unwrap())
            .collect();
        functions.sort();
        let named = |name: &str| Function::named(name).unwrap();
        assert_eq!(
            functions,
            [
                register(),
                log_in(),
                refresh(),
                log_out(),
                list_users(),
                named("me"),
                named("get-user"),
                named("change-password"),
                named("delete-account"),
                named("jwks"),
            ]
        );
        assert_eq!(list_users().memory_mb(), routes::LIST_USERS.memory_mb);
        assert_eq!(
            log_in().timeout(),
            Duration::from_secs(routes::AUTH.timeout_s.into())
        );
    }

    #[test]
    fn a_bootstrap_is_recognised_by_its_name_or_its_directory() {
        let cases = [
            ("target/release/register", "register"),
            ("target/lambda/auth/bootstrap", "auth"),
            ("list-users", "list-users"),
        ];
        for (path, function) in cases {
            assert_eq!(
                Function::of_bootstrap(Path::new(path)).unwrap().name(),
                function
            );
        }
        assert!(Function::of_bootstrap(Path::new("target/lambda/bootstrap")).is_err());
    }

    #[test]
    fn every_registration_has_a_new_username_and_a_text_body() {
        let mut events = Events::new("n1", "someone").unwrap();
        let first: Value = serde_json::from_slice(&events.next(register()).unwrap().event).unwrap();
        let second: Value =
            serde_json::from_slice(&events.next(register()).unwrap().event).unwrap();
        assert_eq!(first["isBase64Encoded"], false);
        assert_ne!(first["body"], second["body"]);
        assert_ne!(
            first["requestContext"]["requestId"],
            second["requestContext"]["requestId"]
        );
    }

    #[test]
    fn a_login_answer_hands_its_token_to_list_users() {
        let mut events = Events::new("n1", "someone").unwrap();
        assert!(events.next(list_users()).is_err());
        let answer =
            json!({"statusCode": 200, "body": r#"{"access_token":"t0k3n","refresh_token":"r"}"#});
        events
            .check(log_in(), answer.to_string().as_bytes())
            .unwrap();
        let event: Value =
            serde_json::from_slice(&events.next(list_users()).unwrap().event).unwrap();
        assert_eq!(event["headers"]["authorization"], "JWT t0k3n");
    }

    #[test]
    fn refreshes_follow_the_newest_token_and_logouts_end_earlier_sessions_only() {
        let mut events = Events::new("n1", "someone").unwrap();
        assert!(events.next(refresh()).is_err());
        events.check(log_in(), &tokens("a1", "r1")).unwrap();
        assert!(
            events.next(log_out()).is_err(),
            "the only session is list-users'"
        );
        events.check(log_in(), &tokens("a2", "r2")).unwrap();
        assert_eq!(
            body(&events.next(refresh()).unwrap()),
            json!({"refresh_token": "r2"})
        );
        events.check(refresh(), &tokens("a3", "r3")).unwrap();
        assert_eq!(
            body(&events.next(refresh()).unwrap()),
            json!({"refresh_token": "r3"})
        );
        let logout = events.next(log_out()).unwrap();
        assert_eq!(body(&logout), json!({"refresh_token": "r1"}));
        let event: Value = serde_json::from_slice(&logout.event).unwrap();
        assert_eq!(event["headers"]["content-type"], "application/json");
        assert!(event["headers"].get("authorization").is_none());
        let listing: Value =
            serde_json::from_slice(&events.next(list_users()).unwrap().event).unwrap();
        assert_eq!(listing["headers"]["authorization"], "JWT a3");
    }

    /// An access token whose claims are `{"sub": SUB}` (the signature is not looked at).
    const TOKEN_OF_SUB: &str =
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkyZjRhOC02ZDFlLTdjM2ItOWE1Zi0yZThkNGM2YjFhOTAifQ.c2ln";
    const SUB: &str = "0192f4a8-6d1e-7c3b-9a5f-2e8d4c6b1a90";

    #[test]
    fn me_and_get_user_use_the_newest_token_and_its_own_user() {
        let mut events = Events::new("n1", "someone").unwrap();
        let me = Function::named("me").unwrap();
        let get_user = Function::named("get-user").unwrap();
        assert!(events.next(me).is_err());
        events.check(log_in(), &tokens(TOKEN_OF_SUB, "r1")).unwrap();
        let event: Value = serde_json::from_slice(&events.next(me).unwrap().event).unwrap();
        assert_eq!(
            event["headers"]["authorization"],
            format!("JWT {TOKEN_OF_SUB}")
        );
        let event: Value = serde_json::from_slice(&events.next(get_user).unwrap().event).unwrap();
        assert_eq!(event["pathParameters"]["id"], SUB);
        assert_eq!(event["rawPath"], format!("/api/users/{SUB}"));
        assert_eq!(
            event["requestContext"]["http"]["path"],
            format!("/api/users/{SUB}")
        );
    }

    #[test]
    fn password_changes_go_back_and_forth_and_logins_follow() {
        let mut events = Events::new("n1", "someone").unwrap();
        let change = Function::named("change-password").unwrap();
        events.check(log_in(), &tokens("a1", "r1")).unwrap();
        assert_eq!(
            body(&events.next(change).unwrap()),
            json!({"current_password": PASSWORD, "new_password": OTHER_PASSWORD})
        );
        events.check(change, &tokens("a2", "r2")).unwrap();
        let next = events.next(change).unwrap();
        assert_eq!(
            body(&next),
            json!({"current_password": OTHER_PASSWORD, "new_password": PASSWORD}),
        );
        let event: Value = serde_json::from_slice(&next.event).unwrap();
        assert_eq!(
            event["headers"]["authorization"], "JWT a2",
            "the change's own session"
        );
        assert_eq!(
            body(&events.next(log_in()).unwrap()),
            json!({"username": "someone", "password": OTHER_PASSWORD})
        );
    }

    #[test]
    fn each_deletion_takes_an_account_of_its_own() {
        let mut events = Events::new("n1", "someone").unwrap();
        let delete = Function::named("delete-account").unwrap();
        assert!(events.next(delete).is_err());
        events.prepare_deletions(vec!["d1".to_owned(), "d2".to_owned()]);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let invocation = events.next(delete).unwrap();
            assert_eq!(body(&invocation), json!({ "password": PASSWORD }));
            let event: Value = serde_json::from_slice(&invocation.event).unwrap();
            seen.push(
                event["headers"]["authorization"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        seen.sort();
        assert_eq!(seen, ["JWT d1", "JWT d2"]);
        assert!(
            events.next(delete).is_err(),
            "every account is deleted once"
        );
    }

    #[test]
    fn an_answer_other_than_2xx_fails_the_run() {
        let mut events = Events::new("n1", "someone").unwrap();
        let answer = json!({"statusCode": 503, "body": "{}"});
        let error = events
            .check(register(), answer.to_string().as_bytes())
            .unwrap_err();
        assert!(error.to_string().contains("503"), "{error}");
    }
}
