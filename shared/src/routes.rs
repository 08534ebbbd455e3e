//! The registry: every Lambda function, the routes it serves, its handler, the DynamoDB actions it may call, and
//! its memory and timeout. This is the one place these facts are written.
//!
//! Everything else is derived from it or held to it by one test (`tests/deployment/registry.rs`): the functions'
//! packages under `functions/`, the `cargo lambda watch` router in the workspace `Cargo.toml`, the functions,
//! events and IAM actions of `template.yaml`, the paths of `openapi.yaml`, and the benchmarks. Each function's
//! `main.rs` is one line, [`serve`] of its entry here. `CONTRIBUTING.md` lists the steps for a new route.

use std::future::Future;
use std::pin::Pin;

use lambda_http::{Body, Error, Request, Response, run, service_fn};

use crate::handlers;
use crate::keys::KeyUse;
use crate::state::AppState;
use crate::storage::{OpenStorage, Storage};

/// A request handler: always answers (a Lambda `Err` would reach the client as a bodiless 502).
pub type Handler =
    for<'a> fn(&'a AppState, Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

/// Every port of the configured backend.
const ALL_PORTS: OpenStorage = |config| Box::pin(Storage::open(config));

/// One Lambda function.
pub struct Function {
    /// Its package, binary and `target/lambda/<name>/` directory, and its name in the router.
    pub name: &'static str,
    /// Its logical id in `template.yaml`.
    pub resource: &'static str,
    /// The routes API Gateway sends it.
    pub routes: &'static [Route],
    pub handler: Handler,
    /// How it opens its storage: only the ports it calls, so that its bootstrap links no other port's code.
    pub storage: OpenStorage,
    /// The DynamoDB actions its role allows (`dynamodb:<Action>`); the template narrows each to the keys and
    /// attributes the function touches.
    pub dynamodb: &'static [&'static str],
    /// `MemorySize` in MB, which also sets its CPU share; the template says why each is what it is.
    pub memory_mb: u32,
    /// `Timeout` in seconds.
    pub timeout_s: u32,
    /// The signing material it loads at start-up, and so the secrets its role may read: no function holds a key it
    /// does not use.
    pub keys: KeyUse,
}

/// An HTTP method and path, as API Gateway matches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// `POST /api/users`.
pub const REGISTER: Function = Function {
    name: "register",
    resource: "RegisterFunction",
    routes: &[Route {
        method: "POST",
        path: "/api/users",
    }],
    handler: |state, request| Box::pin(handlers::register(state, request)),
    // It neither logs in nor checks a token: no login-attempt or session code in its bootstrap.
    storage: |config| Box::pin(Storage::open_users_only(config)),
    dynamodb: &["PutItem"],
    memory_mb: 1769,
    timeout_s: 10,
    // Signs and verifies nothing.
    keys: KeyUse::NONE,
};

/// `POST /auth`.
pub const AUTH: Function = Function {
    name: "auth",
    resource: "AuthFunction",
    routes: &[Route {
        method: "POST",
        path: "/auth",
    }],
    handler: |state, request| Box::pin(handlers::log_in(state, request)),
    storage: ALL_PORTS,
    dynamodb: &["DeleteItem", "GetItem", "PutItem", "UpdateItem"],
    memory_mb: 1769,
    timeout_s: 25,
    // Signs the new session's tokens; the HMAC secret for the refresh token and the login counters' keys.
    keys: KeyUse {
        hmac: true,
        sign: true,
        verify: false,
        publish: false,
    },
};

/// `POST /auth/refresh`.
pub const REFRESH: Function = Function {
    name: "refresh",
    resource: "RefreshFunction",
    routes: &[Route {
        method: "POST",
        path: "/auth/refresh",
    }],
    handler: |state, request| Box::pin(handlers::refresh(state, request)),
    storage: ALL_PORTS,
    // Reads the session, rotates it with one conditional UpdateItem; reuse ends it (a DeleteItem of the session
    // and an UpdateItem of its user's list, in one transaction).
    dynamodb: &["DeleteItem", "GetItem", "UpdateItem"],
    memory_mb: 256,
    timeout_s: 10,
    // Checks and signs refresh tokens (the HMAC secret) and signs access tokens.
    keys: KeyUse {
        hmac: true,
        sign: true,
        verify: false,
        publish: false,
    },
};

/// `POST /auth/logout`.
pub const LOG_OUT: Function = Function {
    name: "logout",
    resource: "LogoutFunction",
    routes: &[Route {
        method: "POST",
        path: "/auth/logout",
    }],
    handler: |state, request| Box::pin(handlers::log_out(state, request)),
    storage: ALL_PORTS,
    // Ends sessions (DeleteItem, and UpdateItem of the user's list, in transactions); a global logout reads the
    // user's list first (GetItem), as does checking an access token.
    dynamodb: &["DeleteItem", "GetItem", "UpdateItem"],
    memory_mb: 256,
    timeout_s: 10,
    // Checks refresh tokens (the HMAC secret) or access tokens.
    keys: KeyUse {
        hmac: true,
        sign: false,
        verify: true,
        publish: false,
    },
};

/// `GET /api/users`.
pub const LIST_USERS: Function = Function {
    name: "list-users",
    resource: "ListUsersFunction",
    routes: &[Route {
        method: "GET",
        path: "/api/users",
    }],
    handler: |state, request| Box::pin(handlers::list_users(state, request)),
    storage: ALL_PORTS,
    dynamodb: &["GetItem", "Query"],
    memory_mb: 512,
    timeout_s: 15,
    keys: VERIFIES,
};

/// `GET /api/users/me`.
pub const ME: Function = Function {
    name: "me",
    resource: "MeFunction",
    routes: &[Route {
        method: "GET",
        path: "/api/users/me",
    }],
    handler: |state, request| Box::pin(handlers::me(state, request)),
    storage: ALL_PORTS,
    // The caller's session and account, two GetItems in parallel.
    dynamodb: &["GetItem"],
    memory_mb: 256,
    timeout_s: 10,
    keys: VERIFIES,
};

/// `GET /api/users/{id}`.
pub const GET_USER: Function = Function {
    name: "get-user",
    resource: "GetUserFunction",
    routes: &[Route {
        method: "GET",
        path: "/api/users/{id}",
    }],
    handler: |state, request| Box::pin(handlers::get_user(state, request)),
    storage: ALL_PORTS,
    // The caller's session and account, then the user asked for.
    dynamodb: &["GetItem"],
    memory_mb: 256,
    timeout_s: 10,
    keys: VERIFIES,
};

/// `POST /api/users/me/password`.
pub const CHANGE_PASSWORD: Function = Function {
    name: "change-password",
    resource: "ChangePasswordFunction",
    routes: &[Route {
        method: "POST",
        path: "/api/users/me/password",
    }],
    handler: |state, request| Box::pin(handlers::change_password(state, request)),
    storage: ALL_PORTS,
    // A login's calls (the throttle's counters, the credentials), the hash's conditional UpdateItem, ending every
    // session (GetItem of the user's list, a transaction of Deletes and an Update) and beginning one (Put, Update).
    dynamodb: &["DeleteItem", "GetItem", "PutItem", "UpdateItem"],
    // Two Argon2 computations (the current password's check and the new one's hash): a login's memory and more time.
    memory_mb: 1769,
    timeout_s: 25,
    // Checks the caller's access token and the login counters' keys (the HMAC secret), signs the new session's.
    keys: KeyUse::ALL_BUT_PUBLISH,
};

/// `DELETE /api/users/me`.
pub const DELETE_ACCOUNT: Function = Function {
    name: "delete-account",
    resource: "DeleteAccountFunction",
    routes: &[Route {
        method: "DELETE",
        path: "/api/users/me",
    }],
    handler: |state, request| Box::pin(handlers::delete_account(state, request)),
    storage: ALL_PORTS,
    // A login's calls to prove the password, then one transaction of Deletes: the user, its reservations, its
    // sessions and its counters.
    dynamodb: &["DeleteItem", "GetItem", "PutItem", "UpdateItem"],
    memory_mb: 1769,
    timeout_s: 25,
    // Checks the caller's access token; names the login counters it deletes (the HMAC secret).
    keys: KeyUse {
        hmac: true,
        sign: false,
        verify: true,
        publish: false,
    },
};

/// `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`.
pub const JWKS: Function = Function {
    name: "jwks",
    resource: "JwksFunction",
    routes: &[
        Route {
            method: "GET",
            path: "/.well-known/jwks.json",
        },
        Route {
            method: "GET",
            path: "/.well-known/openid-configuration",
        },
    ],
    handler: |state, request| {
        Box::pin(async move {
            if request.uri().path().ends_with("/openid-configuration") {
                handlers::discovery(state, request).await
            } else {
                handlers::jwks(state, request).await
            }
        })
    },
    // Reads no table: the user store alone is opened (and never called).
    storage: |config| Box::pin(Storage::open_users_only(config)),
    dynamodb: &[],
    memory_mb: 256,
    timeout_s: 5,
    // The public keys with ES256; nothing with HS256.
    keys: KeyUse {
        hmac: false,
        sign: false,
        verify: false,
        publish: true,
    },
};

/// Verifies access tokens, and nothing else.
const VERIFIES: KeyUse = KeyUse {
    hmac: false,
    sign: false,
    verify: true,
    publish: false,
};

/// Every function, in the order the README lists their routes.
pub const FUNCTIONS: &[Function] = &[
    REGISTER,
    AUTH,
    REFRESH,
    LOG_OUT,
    LIST_USERS,
    ME,
    GET_USER,
    CHANGE_PASSWORD,
    DELETE_ACCOUNT,
    JWKS,
];

/// The function named `name`.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}

/// A function's whole `main`: telemetry, the state built once from the environment, then requests until the
/// runtime stops.
pub async fn serve(function: &'static Function) -> Result<(), Error> {
    crate::telemetry::init();
    let state = AppState::from_env_for(function)
        .await
        .inspect_err(|error| {
            tracing::error!(
                error = format!("{error:#}"),
                "{} cannot start",
                function.name
            );
        })?;
    let state = &state;
    let handler = function.handler;
    run(service_fn(move |request: Request| async move {
        // A rotated key set reaches a running function within JWT_KEYS_REFRESH_SECONDS.
        state.tokens.refresh_keys().await;
        Ok::<_, Error>(handler(state, request).await)
    }))
    .await
}
