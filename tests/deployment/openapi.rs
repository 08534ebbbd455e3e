//! `openapi.yaml` says what the code does: each operation (the registry's routes: `registry` holds the spec's
//! paths and methods to them) lists exactly the statuses its handler can answer, and real answers of the handlers (in-process, on SQLite) fit the
//! documented content type, headers and body schema of their status.

use std::collections::BTreeSet;
use std::sync::Mutex;

use anyhow::anyhow;
use http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use vimcar::ApiError;
use vimcar::config::ListingPolicy;
use vimcar::error::FieldError;
use vimcar::routes::{
    AUTH, CHANGE_PASSWORD, DELETE_ACCOUNT, FUNCTIONS, Function, GET_USER, JWKS, LIST_USERS,
    LOG_OUT, ME, REFRESH, REGISTER, Route,
};
use vimcar::users::UniqueField;
use vimcar::users::UserStoreExt;
use vimcar_tests::requests::{get_with_token, json, post_json, post_raw, request};
use vimcar_tests::{STRONG_PASSWORD, TestApp, user};

const SPEC: &str = include_str!("../../openapi.yaml");

/// An operation: (path, method), as the spec names it.
pub(super) type Operation = (String, String);

/// The spec as JSON, with what checking answers against it needs.
pub(super) struct Spec {
    doc: Value,
    /// Every (operation, status) an answer was checked against, to find documented statuses no test reached.
    checked: Mutex<BTreeSet<(Operation, u16)>>,
}

impl Spec {
    pub(super) fn load() -> Self {
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(SPEC).expect("openapi.yaml is YAML");
        Self {
            doc: serde_yaml_ng::from_value(yaml).expect("openapi.yaml is plain JSON data"),
            checked: Mutex::new(BTreeSet::new()),
        }
    }

    /// Every (path, method) the spec documents.
    pub(super) fn operations(&self) -> BTreeSet<Operation> {
        let paths = self.doc["paths"].as_object().expect("paths is a mapping");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("a path item is a mapping")
                    .keys()
                    .map(move |method| (path.clone(), method.to_ascii_uppercase()))
            })
            .collect()
    }

    /// The JSON pointer of an operation's documented answer for `status`, with `$ref`s followed.
    fn response_pointer(&self, (path, method): &Operation, status: u16) -> Option<String> {
        let pointer = format!(
            "/paths/{}/{}/responses/{status}",
            escape(path),
            method.to_ascii_lowercase()
        );
        self.doc.pointer(&pointer)?;
        Some(self.follow(pointer))
    }

    fn statuses(&self, (path, method): &Operation) -> BTreeSet<u16> {
        self.doc["paths"][path][method.to_ascii_lowercase()]["responses"]
            .as_object()
            .expect("an operation has responses")
            .keys()
            .map(|status| status.parse().expect("statuses are numbers, not ranges"))
            .collect()
    }

    /// Follows `$ref`s from the node at `pointer` to the node that defines something.
    fn follow(&self, mut pointer: String) -> String {
        while let Some(target) = self
            .doc
            .pointer(&pointer)
            .and_then(|node| node["$ref"].as_str())
        {
            pointer = target
                .strip_prefix('#')
                .expect("only local references")
                .to_owned();
        }
        pointer
    }

    /// A validator for the schema at `pointer`, resolved within the whole document so that its `$ref`s work.
    fn validator(&self, pointer: &str) -> jsonschema::Validator {
        let mut root = self.doc.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        // A URI fragment: a path's `{parameter}` braces are percent-encoded there.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = json!(format!("#{fragment}"));
        jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema at {pointer} compiles: {e}"))
    }

    /// Checks one answer of `operation` against the spec: its status is documented, and its content type,
    /// headers and body are as documented for that status.
    fn check(&self, operation: &Operation, response: &Response<Body>) {
        let status = response.status().as_u16();
        let context = format!("{} {} answering {status}", operation.1, operation.0);
        let pointer = self
            .response_pointer(operation, status)
            .unwrap_or_else(|| panic!("{context}: the status is not in openapi.yaml"));
        let documented = self.doc.pointer(&pointer).expect("followed pointers exist");

        for (name, header) in documented["headers"].as_object().into_iter().flatten() {
            let header_pointer = self.follow(format!("{pointer}/headers/{}", escape(name)));
            let header = self.doc.pointer(&header_pointer).unwrap_or(header);
            let Some(value) = response.headers().get(name.as_str()) else {
                assert!(
                    header["required"] != true,
                    "{context}: the required header {name} is missing"
                );
                continue;
            };
            let text = value.to_str().expect("headers are text");
            let schema_pointer = format!("{header_pointer}/schema");
            let value = if self.doc.pointer(&schema_pointer).unwrap()["type"] == "integer" {
                json!(text.parse::<i64>().unwrap_or_else(|_| panic!(
                    "{context}: header {name} is not an integer: {text:?}"
                )))
            } else {
                json!(text)
            };
            if let Err(error) = self.validator(&schema_pointer).validate(&value) {
                panic!("{context}: header {name}: {text:?} does not fit: {error}");
            }
        }

        if documented["content"].is_null() {
            // An answer without a body (a 204): none is sent, and nothing says what it would be.
            assert!(
                matches!(response.body(), Body::Empty)
                    && !response.headers().contains_key("content-type"),
                "{context}: documented without a body, answered with one"
            );
            self.checked
                .lock()
                .unwrap()
                .insert((operation.clone(), status));
            return;
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{context}: no Content-Type"));
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        let media = format!("{pointer}/content/{}", escape(essence));
        assert!(
            self.doc.pointer(&media).is_some(),
            "{context}: Content-Type {content_type} is not documented"
        );
        let body = json(response);
        if let Err(error) = self.validator(&format!("{media}/schema")).validate(&body) {
            panic!("{context}: the body does not fit the schema: {error}\n{body:#}");
        }
        self.checked
            .lock()
            .unwrap()
            .insert((operation.clone(), status));
    }
}

/// Escapes a JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A route of the registry as the spec names it.
fn operation(route: &Route) -> Operation {
    (route.path.to_owned(), route.method.to_owned())
}

/// Every operation of the registry, with the function that serves it.
fn registry_operations() -> Vec<(Operation, &'static Function)> {
    FUNCTIONS
        .iter()
        .flat_map(|function| {
            function
                .routes
                .iter()
                .map(move |route| (operation(route), function))
        })
        .collect()
}

/// What each function of the registry can answer: its success, and the errors its handler returns beyond those
/// every function can. A new function, or a new error in a handler, belongs here and in openapi.yaml.
fn answers() -> [(&'static Function, u16, Vec<ApiError>); 10] {
    [
        (
            &REGISTER,
            201,
            vec![
                ApiError::MalformedBody("expected value".into()),
                ApiError::PayloadTooLarge { limit: 16 * 1024 },
                ApiError::UnsupportedMediaType,
                ApiError::Validation(vec![FieldError::new("username", "is required")]),
                ApiError::Conflict(vec![UniqueField::Username, UniqueField::Email]),
            ],
        ),
        (
            &AUTH,
            200,
            vec![
                ApiError::MalformedBody("expected value".into()),
                ApiError::PayloadTooLarge { limit: 16 * 1024 },
                ApiError::UnsupportedMediaType,
                ApiError::Validation(vec![FieldError::new("password", "is required")]),
                ApiError::InvalidCredentials,
                ApiError::TooManyAttempts(30),
            ],
        ),
        (
            &REFRESH,
            200,
            vec![
                ApiError::MalformedBody("expected value".into()),
                ApiError::PayloadTooLarge { limit: 16 * 1024 },
                ApiError::UnsupportedMediaType,
                ApiError::Validation(vec![FieldError::new("refresh_token", "is required")]),
                ApiError::Unauthorized("The refresh token is invalid"),
                ApiError::SessionEnded("The session has ended; log in again"),
            ],
        ),
        (
            &LOG_OUT,
            204,
            vec![
                ApiError::MalformedBody("expected value".into()),
                ApiError::PayloadTooLarge { limit: 16 * 1024 },
                ApiError::UnsupportedMediaType,
                ApiError::Validation(vec![FieldError::new("refresh_token", "must be a string")]),
                ApiError::Unauthorized("The refresh token is invalid"),
            ],
        ),
        (
            &LIST_USERS,
            200,
            vec![
                ApiError::MethodNotAllowed(Method::GET),
                ApiError::InvalidQuery(vec![FieldError::new("limit", "must be a whole number")]),
                ApiError::Unauthorized("The token has expired"),
                ApiError::SessionEnded("The session has ended; log in again"),
                ApiError::Forbidden("Only administrators may list or look up other users here."),
            ],
        ),
        (
            &ME,
            200,
            vec![
                ApiError::MethodNotAllowed(Method::GET),
                ApiError::Unauthorized("The token has expired"),
                ApiError::SessionEnded("The session has ended; log in again"),
            ],
        ),
        (
            &GET_USER,
            200,
            vec![
                ApiError::MethodNotAllowed(Method::GET),
                ApiError::Unauthorized("The token has expired"),
                ApiError::SessionEnded("The session has ended; log in again"),
                ApiError::Forbidden("Only administrators may list or look up other users here."),
                ApiError::NotFound(vimcar::error::NO_SUCH_USER),
            ],
        ),
        (
            &CHANGE_PASSWORD,
            200,
            vec![
                ApiError::MalformedBody("expected value".into()),
                ApiError::PayloadTooLarge { limit: 16 * 1024 },
                ApiError::UnsupportedMediaType,
                ApiError::Validation(vec![
                    FieldError::new("current_password", "is required"),
                    FieldError::new("new_password", "must differ from the current password"),
                ]),
                ApiError::Unauthorized("The token has expired"),
                ApiError::SessionEnded("The session has ended; log in again"),
                ApiError::InvalidCredentials,
                ApiError::TooManyAttempts(30),
            ],
        ),
        (
            &DELETE_ACCOUNT,
            204,
            vec![
                ApiError::MalformedBody("expected value".into()),
                ApiError::PayloadTooLarge { limit: 16 * 1024 },
                ApiError::UnsupportedMediaType,
                ApiError::Validation(vec![FieldError::new("password", "is required")]),
                ApiError::Unauthorized("The token has expired"),
                ApiError::SessionEnded("The session has ended; log in again"),
                ApiError::InvalidCredentials,
                ApiError::TooManyAttempts(30),
            ],
        ),
        // Both documents: GET only, and nothing a client sends can go wrong.
        (&JWKS, 200, vec![ApiError::MethodNotAllowed(Method::GET)]),
    ]
}

/// The answers of `function` listed in [`answers`].
fn answers_of(function: &Function) -> (u16, Vec<ApiError>) {
    answers()
        .into_iter()
        .find(|(listed, _, _)| listed.name == function.name)
        .map(|(_, success, errors)| (success, errors))
        .unwrap_or_else(|| {
            panic!(
                "{}: list its answers in tests/deployment/openapi.rs (answers) and in openapi.yaml",
                function.name
            )
        })
}

/// Every error `function` can answer: those every function can, a storage failure if it calls storage, and its
/// own.
fn errors_of(function: &Function) -> Vec<ApiError> {
    let mut errors = vec![
        ApiError::MethodNotAllowed(Method::POST),
        ApiError::Internal(anyhow!("a bug")),
    ];
    if !function.dynamodb.is_empty() {
        errors.push(ApiError::Unavailable(anyhow!("storage is down")));
    }
    errors.extend(answers_of(function).1);
    errors
}

fn success_of(function: &Function) -> u16 {
    answers_of(function).0
}

#[test]
fn each_operation_documents_exactly_the_statuses_its_function_can_answer() {
    let listed: Vec<&str> = answers()
        .iter()
        .map(|(function, _, _)| function.name)
        .collect();
    let registered: Vec<&str> = FUNCTIONS.iter().map(|function| function.name).collect();
    assert_eq!(
        listed, registered,
        "answers() lists each function of the registry once"
    );
    let spec = Spec::load();
    for (operation, function) in registry_operations() {
        let mut code: BTreeSet<u16> = errors_of(function)
            .iter()
            .map(|error| error.status().as_u16())
            .collect();
        code.insert(success_of(function));
        assert_eq!(
            spec.statuses(&operation),
            code,
            "{} {} ({})",
            operation.1,
            operation.0,
            function.name
        );
    }
}

#[test]
fn every_error_response_fits_the_documented_problem_of_its_status() {
    let spec = Spec::load();
    for (operation, function) in registry_operations() {
        for error in errors_of(function) {
            let error = match error {
                // Each function allows its own method.
                ApiError::MethodNotAllowed(_) => {
                    ApiError::MethodNotAllowed(operation.1.parse().unwrap())
                }
                other => other,
            };
            spec.check(&operation, &error.into_response("8f5b2a34-lambda"));
        }
    }
}

/// `request` with `Authorization: JWT <token>`, and `method` instead of its own.
fn authorized(mut request: Request, method: &str, token: &str) -> Request {
    *request.method_mut() = method.parse().expect("an HTTP method");
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        format!("JWT {token}").parse().expect("a header value"),
    );
    request
}

/// `GET /api/users/{id}` as API Gateway passes it: `id` as the path parameter.
fn get_user_request(id: &str, token: Option<&str>) -> Request {
    use lambda_http::RequestExt as _;
    let path = format!("/api/users/{id}");
    let request = match token {
        Some(token) => get_with_token(&path, token),
        None => request("GET", &path, &[]),
    };
    request.with_path_parameters(std::collections::HashMap::from([(
        "id".to_owned(),
        id.to_owned(),
    )]))
}

fn binary_post(path: &str, content_type: &str, bytes: Vec<u8>) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", content_type)
        .body(Body::Binary(bytes))
        .unwrap()
}

/// The answers the handlers give in-process, each checked against the spec, and together covering every documented
/// status that does not need a broken store or a throttled account (those are checked above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_of_every_function_fit_the_spec() {
    use vimcar::handlers::{
        change_password, delete_account, get_user, list_users, log_in, log_out, me, refresh,
        register,
    };

    let spec = Spec::load();
    let app = TestApp::sqlite().await;
    let users = &app.users;
    let register_op = operation(&REGISTER.routes[0]);
    let auth_op = operation(&AUTH.routes[0]);
    let list_op = operation(&LIST_USERS.routes[0]);
    let too_large = "x".repeat(16 * 1024 + 1);
    let foo = json!({"username": "Foo", "email": "foo@bar.com", "password": STRONG_PASSWORD});
    let login = json!({"username": "foo", "password": STRONG_PASSWORD});

    for (request, status) in [
        (post_json("/api/users", &foo), 201),
        (post_json("/api/users", &foo), 409),
        (post_raw("/api/users", Some("application/json"), "{"), 400),
        (
            post_raw("/api/users", Some("application/json"), r#"{"id": 1}"#),
            400,
        ),
        (
            binary_post("/api/users", "application/json", vec![0xff, b'{']),
            400,
        ),
        (post_raw("/api/users", Some("text/plain"), "{}"), 415),
        (
            post_raw("/api/users", Some("application/json"), too_large.clone()),
            413,
        ),
        (
            post_json(
                "/api/users",
                &json!({"username": "ab", "password": "short"}),
            ),
            422,
        ),
        (request("GET", "/api/users", &[]), 405),
    ] {
        let response = register(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&register_op, &response);
    }

    let logged_in = log_in(&app, post_json("/auth", &login)).await;
    assert_eq!(logged_in.status(), 200);
    spec.check(&auth_op, &logged_in);
    let token = json(&logged_in)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (request, status) in [
        (
            post_json("/auth", &json!({"username": "foo", "password": "wrong"})),
            401,
        ),
        (
            post_json("/auth", &json!({"username": "nobody", "password": "x"})),
            401,
        ),
        (post_raw("/auth", Some("application/json"), "[]"), 400),
        (post_raw("/auth", None, "{}"), 415),
        (post_raw("/auth", Some("application/json"), too_large), 413),
        (post_json("/auth", &json!({"username": "foo"})), 422),
        (request("GET", "/auth", &[]), 405),
    ] {
        let response = log_in(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&auth_op, &response);
    }

    users.insert(&user("bar"), None).await.unwrap();
    for (request, status) in [
        (get_with_token("/api/users", &token), 200),
        // Two users, one a page: a Link to the next.
        (get_with_token("/api/users?limit=1", &token), 200),
        (
            get_with_token("/api/users?limit=0&cursor=nope", &token),
            400,
        ),
        (request("GET", "/api/users", &[]), 401),
        (get_with_token("/api/users", "not.a.token"), 401),
        (
            request(
                "POST",
                "/api/users",
                &[("authorization", &format!("Bearer {token}"))],
            ),
            405,
        ),
    ] {
        let response = list_users(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&list_op, &response);
    }
    let paged = list_users(&app, get_with_token("/api/users?limit=1", &token)).await;
    assert!(
        paged.headers().contains_key("link"),
        "a next page is linked"
    );

    // refresh: the login's refresh token, then it again (spent twice over: reuse, which ends the session).
    let refresh_op = operation(&REFRESH.routes[0]);
    let first = json(&logged_in)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refreshed = refresh(
        &app,
        post_json("/auth/refresh", &json!({"refresh_token": first})),
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    spec.check(&refresh_op, &refreshed);
    let second = json(&refreshed)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = refresh(
        &app,
        post_json("/auth/refresh", &json!({"refresh_token": second})),
    )
    .await;
    assert_eq!(again.status(), 200);
    let reused = refresh(
        &app,
        post_json("/auth/refresh", &json!({"refresh_token": first})),
    )
    .await;
    assert_eq!(reused.status(), 401);
    assert_eq!(json(&reused)["type"], "/problems/session-ended");
    spec.check(&refresh_op, &reused);
    for (request, status) in [
        (
            post_json("/auth/refresh", &json!({"refresh_token": "vrt1_forged"})),
            401,
        ),
        (
            post_raw("/auth/refresh", Some("application/json"), "[]"),
            400,
        ),
        (post_raw("/auth/refresh", None, "{}"), 415),
        (
            post_raw(
                "/auth/refresh",
                Some("application/json"),
                "x".repeat(16 * 1024 + 1),
            ),
            413,
        ),
        (post_json("/auth/refresh", &json!({})), 422),
        (request("GET", "/auth/refresh", &[]), 405),
    ] {
        let response = refresh(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&refresh_op, &response);
    }

    // logout: by refresh token, then by access token with no body, and refused.
    let logout_op = operation(&LOG_OUT.routes[0]);
    let session = log_in(&app, post_json("/auth", &login)).await;
    assert_eq!(session.status(), 200);
    let session_token = json(&session)["refresh_token"].as_str().unwrap().to_owned();
    let other = log_in(&app, post_json("/auth", &login)).await;
    let other_access = json(&other)["access_token"].as_str().unwrap().to_owned();
    for (request, status) in [
        (
            post_json("/auth/logout", &json!({"refresh_token": session_token})),
            204,
        ),
        (
            request(
                "POST",
                "/auth/logout",
                &[("authorization", &format!("JWT {other_access}"))],
            ),
            204,
        ),
        // The access token of the session just ended: a logout can be retried.
        (
            request(
                "POST",
                "/auth/logout",
                &[("authorization", &format!("JWT {other_access}"))],
            ),
            204,
        ),
        (
            post_json("/auth/logout", &json!({"refresh_token": null})),
            422,
        ),
        (post_json("/auth/logout", &json!({"scope": "global"})), 401),
        (
            post_json("/auth/logout", &json!({"refresh_token": "vrt1_forged"})),
            401,
        ),
        (
            post_raw("/auth/logout", Some("application/json"), "[]"),
            400,
        ),
        (post_raw("/auth/logout", Some("text/plain"), "{}"), 415),
        (
            post_raw(
                "/auth/logout",
                Some("application/json"),
                "x".repeat(16 * 1024 + 1),
            ),
            413,
        ),
        (request("GET", "/auth/logout", &[]), 405),
    ] {
        let response = log_out(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&logout_op, &response);
    }
    // The first session ended for reuse above: its access token now answers session-ended on a protected route.
    let ended = list_users(&app, get_with_token("/api/users", &token)).await;
    assert_eq!(ended.status(), 401);
    assert_eq!(json(&ended)["type"], "/problems/session-ended");
    spec.check(&list_op, &ended);

    // me: with a valid token, without one, with a forged one, with the ended session's, and POSTed.
    let me_op = operation(&ME.routes[0]);
    let current = log_in(&app, post_json("/auth", &login)).await;
    let current = json(&current)["access_token"].as_str().unwrap().to_owned();
    let answered = me(&app, get_with_token("/api/users/me", &current)).await;
    assert_eq!(answered.status(), 200);
    assert_eq!(json(&answered)["is_admin"], false);
    spec.check(&me_op, &answered);
    let foo_id = json(&answered)["id"].as_str().unwrap().to_owned();
    for (request, status) in [
        (request("GET", "/api/users/me", &[]), 401),
        (get_with_token("/api/users/me", "not.a.token"), 401),
        (get_with_token("/api/users/me", &token), 401),
        (
            authorized(request("POST", "/api/users/me", &[]), "POST", &current),
            405,
        ),
    ] {
        let response = me(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&me_op, &response);
    }

    // get-user: oneself in full, another user as the policy shows them, unknown and malformed ids, and with
    // LIST_USERS=admins, a 403 (the same store, the same signing key: the same token).
    let get_user_op = operation(&GET_USER.routes[0]);
    let bar_id = json(&list_users(&app, get_with_token("/api/users", &current)).await)
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "bar")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (request, status) in [
        (get_user_request(&foo_id, Some(&current)), 200),
        (get_user_request(&bar_id, Some(&current)), 200),
        (
            get_user_request("0192f4a8-6d1e-7c3b-9a5f-2e8d4c6b1a90", Some(&current)),
            404,
        ),
        (get_user_request("nope", Some(&current)), 404),
        (get_user_request(&bar_id, None), 401),
        (
            authorized(get_user_request(&bar_id, None), "POST", &current),
            405,
        ),
    ] {
        let response = get_user(&app, request).await;
        assert_eq!(response.status(), status, "{}", json(&response));
        spec.check(&get_user_op, &response);
    }
    let own = get_user(&app, get_user_request(&foo_id, Some(&current))).await;
    assert_eq!(json(&own)["is_admin"], false, "oneself in full");
    let mut admins_only = vimcar_tests::config();
    admins_only.listing = ListingPolicy::Admins;
    let admins_app = TestApp::with_config(&admins_only, app.users.clone());
    let forbidden = get_user(&admins_app, get_user_request(&bar_id, Some(&current))).await;
    assert_eq!(forbidden.status(), 403);
    spec.check(&get_user_op, &forbidden);
    let forbidden = list_users(&admins_app, get_with_token("/api/users", &current)).await;
    assert_eq!(forbidden.status(), 403);
    spec.check(&list_op, &forbidden);

    // change-password: refused in every way, then done (which ends the session `current` is in).
    let change_op = operation(&CHANGE_PASSWORD.routes[0]);
    let new_password = "plum tractor violin harbour seventeen";
    let change =
        |body: Value| authorized(post_json("/api/users/me/password", &body), "POST", &current);
    for (request, status) in [
        (
            change(json!({"current_password": "wrong", "new_password": new_password})),
            401,
        ),
        (change(json!({})), 422),
        (
            change(json!({"current_password": STRONG_PASSWORD, "new_password": "short"})),
            422,
        ),
        (
            change(json!({"current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD})),
            422,
        ),
        (
            authorized(
                post_raw("/api/users/me/password", Some("application/json"), "[]"),
                "POST",
                &current,
            ),
            400,
        ),
        (
            authorized(
                post_raw("/api/users/me/password", None, "{}"),
                "POST",
                &current,
            ),
            415,
        ),
        (
            authorized(
                post_raw(
                    "/api/users/me/password",
                    Some("application/json"),
                    "x".repeat(16 * 1024 + 1),
                ),
                "POST",
                &current,
            ),
            413,
        ),
        (
            post_json(
                "/api/users/me/password",
                &json!({"current_password": STRONG_PASSWORD, "new_password": new_password}),
            ),
            401,
        ),
        (
            authorized(
                request("GET", "/api/users/me/password", &[]),
                "GET",
                &current,
            ),
            405,
        ),
        (
            change(json!({"current_password": STRONG_PASSWORD, "new_password": new_password})),
            200,
        ),
    ] {
        let response = change_password(&app, request).await;
        assert_eq!(response.status(), status, "{}", json(&response));
        if status == 200 {
            let after = json(&response)["access_token"].as_str().unwrap().to_owned();
            assert_eq!(
                me(&app, get_with_token("/api/users/me", &current))
                    .await
                    .status(),
                401,
                "the change ended the caller's session"
            );
            assert_eq!(
                me(&app, get_with_token("/api/users/me", &after))
                    .await
                    .status(),
                200
            );
        }
        spec.check(&change_op, &response);
    }
    let relogin = json!({"username": "foo", "password": new_password});
    let after = json(&log_in(&app, post_json("/auth", &relogin)).await)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // delete-account: refused in every way, then done.
    let delete_op = operation(&DELETE_ACCOUNT.routes[0]);
    let delete = |body: Request| authorized(body, "DELETE", &after);
    for (request, status) in [
        (
            delete(post_json("/api/users/me", &json!({"password": "wrong"}))),
            401,
        ),
        (delete(post_json("/api/users/me", &json!({}))), 422),
        (
            delete(post_raw("/api/users/me", Some("application/json"), "[]")),
            400,
        ),
        (delete(post_raw("/api/users/me", None, "{}")), 415),
        (
            delete(post_raw(
                "/api/users/me",
                Some("application/json"),
                "x".repeat(16 * 1024 + 1),
            )),
            413,
        ),
        (
            authorized(
                post_json("/api/users/me", &json!({"password": new_password})),
                "DELETE",
                "not.a.token",
            ),
            401,
        ),
        (
            authorized(request("GET", "/api/users/me", &[]), "GET", &after),
            405,
        ),
        (
            delete(post_json(
                "/api/users/me",
                &json!({"password": new_password}),
            )),
            204,
        ),
    ] {
        let response = delete_account(&app, request).await;
        assert_eq!(response.status(), status);
        spec.check(&delete_op, &response);
    }
    assert_eq!(
        log_in(&app, post_json("/auth", &relogin)).await.status(),
        401,
        "the account is gone"
    );

    // The JWKS and the discovery document: with HS256 (the app above) an empty set, with ES256 the set's keys; a
    // POST to either is refused.
    let call = JWKS.handler;
    let jwks_op = operation(&JWKS.routes[0]);
    let discovery_op = operation(&JWKS.routes[1]);
    let mut es256 = vimcar_tests::config();
    let now = chrono::Utc::now();
    es256.tokens.algorithm = vimcar::config::JwtAlgorithm::Es256;
    es256.tokens.keys = Some(vimcar::config::KeysAt::Inline(vimcar::keys::KeySet {
        keys: vec![
            vimcar::keys::KeyRecord::generate(now, now),
            vimcar::keys::KeyRecord::generate(now, now + chrono::Duration::minutes(15)),
        ],
    }));
    let es256_app = TestApp::with_config(&es256, app.users.clone());
    for (state, published) in [(&*app, 0), (&*es256_app, 2)] {
        let response = call(state, request("GET", "/.well-known/jwks.json", &[])).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json(&response)["keys"].as_array().map(Vec::len),
            Some(published),
            "{}",
            json(&response)
        );
        spec.check(&jwks_op, &response);
        let response = call(
            state,
            request(
                "GET",
                "/.well-known/openid-configuration",
                &[("host", "127.0.0.1:9000")],
            ),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json(&response)["jwks_uri"],
            "http://127.0.0.1:9000/.well-known/jwks.json"
        );
        spec.check(&discovery_op, &response);
    }
    for (path, op) in [
        ("/.well-known/jwks.json", &jwks_op),
        ("/.well-known/openid-configuration", &discovery_op),
    ] {
        let response = call(&app, request("POST", path, &[])).await;
        assert_eq!(response.status(), 405);
        spec.check(op, &response);
    }

    // Every documented status was reached by a real answer, but those only a broken store or a locked account give.
    let checked = spec.checked.lock().unwrap().clone();
    for (operation, _) in registry_operations() {
        for status in spec.statuses(&operation) {
            if [429, 500, 503].contains(&status) {
                continue;
            }
            assert!(
                checked.contains(&(operation.clone(), status)),
                "no real answer checked {status} of {} {}",
                operation.1,
                operation.0
            );
        }
    }
}

#[test]
fn the_spec_refuses_answers_that_break_it() {
    // The checks above must be able to fail: a problem with a field the code never sends, a user without an id.
    let spec = Spec::load();
    let problem = spec.follow("/components/schemas/Problem".into());
    let validator = spec.validator(&problem);
    assert!(
        validator.is_valid(
            &json!({"type": "about:blank", "title": "Bad", "status": 400, "detail": "x"})
        )
    );
    assert!(!validator.is_valid(
        &json!({"type": "about:blank", "title": "Bad", "status": 400, "detail": "x", "hint": "y"})
    ));
    assert!(!validator.is_valid(&json!({"type": "about:blank", "title": "Bad", "status": 400})));
    let user = spec.validator("/components/schemas/User");
    assert!(!user.is_valid(
        &json!({"username": "foo", "email": "foo@bar.com", "created_at": "2026-11-24T03:10:29.442Z"})
    ));
    assert!(!user.is_valid(
        &json!({"id": "not-a-uuid", "username": "foo", "email": "foo@bar.com", "created_at": "2026-11-24T03:10:29.442Z"})
    ));
}
