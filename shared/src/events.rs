//! Security events: one JSON line per security-relevant event (a registration, a login and its failures, a refresh
//! and a reused refresh token, a logout, a password change, an account's deletion, an administrator's grant or
//! revoke, an import), each with a stable `event` name, and the CloudWatch metric it counts in the same line.
//!
//! A line says when (`time`, UTC), where (`function`, `request_id`), who (`source_ip`, and `user_id` when known),
//! what (`event`) and how it ended (`outcome`), as OWASP ASVS 5.0 V16.2.1 asks. It never carries a username (a user
//! may type a password into it), an email, a password, a hash or any token: an [`Event`] has no field that could
//! hold one.
//!
//! A line with a metric is also a CloudWatch embedded metric format (EMF) document: an `_aws` block at the root
//! names the namespace (`METRICS_NAMESPACE`), the one dimension `Function` (the registry's function name: ten values,
//! never a username, user id or address) and the metric, whose value (1) and dimension value sit at the root beside
//! it. CloudWatch Logs turns each such line into a data point as it ingests it: no call to CloudWatch, no buffer to
//! flush. Written by hand rather than with `metrics_cloudwatch_embedded`: that crate is a backend of the `metrics`
//! facade that aggregates counters and flushes separate documents after each invocation through its own
//! lambda_http (0.13) and tower integration, so it would add a second Lambda runtime stack to every bootstrap and
//! could not make the event's own line the metric; the format here is one `serde_json` object.
//!
//! The line is written whole, as one `write` of one line, to the [`EventSink`] in the state: standard output in the
//! functions ([`Stdout`]), standard error in `vimcar-admin` (whose standard output is the command's result), an
//! in-memory [`Collector`] in tests, nowhere in benchmarks ([`Discard`]). It bypasses the tracing subscriber, whatever `AWS_LAMBDA_LOG_FORMAT` and the log
//! level say: EMF needs `_aws` at the root of the line, where tracing's JSON formatter would nest it under `fields`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// `METRICS_NAMESPACE` when unset.
pub const DEFAULT_NAMESPACE: &str = "vimcar";

/// The `function` of events `vimcar-admin` records.
pub const ADMIN: &str = "vimcar-admin";

/// What happened: each kind has a fixed `event` name, alarms and dashboards are built on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UserRegistered,
    LoginSucceeded,
    /// A wrong password, an unknown username, or a user without a password.
    LoginFailed,
    /// The login-attempts throttle refused the attempt before any password work.
    LoginThrottled,
    SessionRefreshed,
    /// A refresh token used again after it was replaced: the session was ended for every holder.
    SessionReuseDetected,
    SessionLoggedOut,
    PasswordChanged,
    AccountDeleted,
    AdminGranted,
    AdminRevoked,
    ImportRun,
}

impl Kind {
    /// Every kind, in the README's order.
    pub const ALL: [Kind; 12] = [
        Kind::UserRegistered,
        Kind::LoginSucceeded,
        Kind::LoginFailed,
        Kind::LoginThrottled,
        Kind::SessionRefreshed,
        Kind::SessionReuseDetected,
        Kind::SessionLoggedOut,
        Kind::PasswordChanged,
        Kind::AccountDeleted,
        Kind::AdminGranted,
        Kind::AdminRevoked,
        Kind::ImportRun,
    ];

    /// The line's `event`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::UserRegistered => "user.registered",
            Kind::LoginSucceeded => "login.succeeded",
            Kind::LoginFailed => "login.failed",
            Kind::LoginThrottled => "login.throttled",
            Kind::SessionRefreshed => "session.refreshed",
            Kind::SessionReuseDetected => "session.reuse_detected",
            Kind::SessionLoggedOut => "session.logged_out",
            Kind::PasswordChanged => "password.changed",
            Kind::AccountDeleted => "account.deleted",
            Kind::AdminGranted => "admin.granted",
            Kind::AdminRevoked => "admin.revoked",
            Kind::ImportRun => "import.run",
        }
    }

    /// The CloudWatch metric (a `Count`) the event adds 1 to, if any.
    pub const fn metric(self) -> Option<&'static str> {
        match self {
            Kind::UserRegistered => Some("Registrations"),
            Kind::LoginSucceeded => Some("LoginSuccesses"),
            Kind::LoginFailed => Some("LoginFailures"),
            Kind::LoginThrottled => Some("LoginsThrottled"),
            Kind::SessionRefreshed => Some("Refreshes"),
            Kind::SessionReuseDetected => Some("RefreshTokenReuse"),
            Kind::SessionLoggedOut => Some("Logouts"),
            Kind::PasswordChanged => Some("PasswordChanges"),
            Kind::AccountDeleted => Some("AccountDeletions"),
            Kind::AdminGranted | Kind::AdminRevoked | Kind::ImportRun => None,
        }
    }

    /// `failure` for what was refused, `success` for what was done (an [`Event`] may say it failed all the same).
    pub const fn outcome(self) -> &'static str {
        match self {
            Kind::LoginFailed | Kind::LoginThrottled | Kind::SessionReuseDetected => "failure",
            _ => "success",
        }
    }
}

/// One event: its kind, the user it concerns when known, and any fields of its own (counts, a scope), none of which
/// may be a secret or a username.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    /// `success` or `failure`: the kind's own unless [`Event::failed`].
    pub outcome: &'static str,
    pub user_id: Option<Uuid>,
    fields: Vec<(&'static str, Value)>,
}

impl Event {
    /// An event of `kind` about no known user.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            outcome: kind.outcome(),
            user_id: None,
            fields: Vec::new(),
        }
    }

    /// The event of something that did not finish (an import stopped by a storage error).
    pub fn failed(mut self) -> Self {
        self.outcome = "failure";
        self
    }

    /// The event about `user_id`.
    pub fn user(mut self, user_id: Uuid) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// The event with one more field of its own (a word or a count: never a secret, a username or an email).
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }
}

/// Where an event happened: the function, the request and the address it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The registry's function name (`auth`), or [`ADMIN`].
    pub function: &'static str,
    /// The Lambda request id; `None` outside a request (`vimcar-admin`).
    pub request_id: Option<String>,
    /// API Gateway's `requestContext.http.sourceIp`, when there is one.
    pub source_ip: Option<String>,
}

impl Origin {
    /// A command of `vimcar-admin`.
    pub fn admin() -> Self {
        Self {
            function: ADMIN,
            request_id: None,
            source_ip: None,
        }
    }
}

/// Where event lines go. `write` gets one whole line, without its newline.
pub trait EventSink: Send + Sync {
    fn write(&self, line: &str);
}

/// Standard output, one `write` a line, as the Lambda functions log.
pub struct Stdout;

impl EventSink for Stdout {
    fn write(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        // A log line that cannot be written has nowhere else to go.
        let _ = out.write_all(format!("{line}\n").as_bytes());
        let _ = out.flush();
    }
}

/// Standard error, for `vimcar-admin`: its standard output is the command's result (`users list --json`).
pub struct Stderr;

impl EventSink for Stderr {
    fn write(&self, line: &str) {
        let _ = std::io::stderr()
            .lock()
            .write_all(format!("{line}\n").as_bytes());
    }
}

/// Drops every line, for benchmarks (the line is still made).
pub struct Discard;

impl EventSink for Discard {
    fn write(&self, _line: &str) {}
}

/// Keeps every line in memory, for tests to read.
#[derive(Default)]
pub struct Collector {
    lines: Mutex<Vec<String>>,
}

impl Collector {
    /// Every line written so far, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("the collector's lock").clone()
    }
}

impl EventSink for Collector {
    fn write(&self, line: &str) {
        self.lines
            .lock()
            .expect("the collector's lock")
            .push(line.to_owned());
    }
}

/// Records events: the metrics' namespace and the sink, built once with the state.
#[derive(Clone)]
pub struct Events {
    namespace: Arc<str>,
    sink: Arc<dyn EventSink>,
}

impl Events {
    /// Events in `namespace`, written to `sink`.
    pub fn new(namespace: &str, sink: Arc<dyn EventSink>) -> Self {
        Self {
            namespace: namespace.into(),
            sink,
        }
    }

    /// The metrics' namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Writes `event`'s line, as it happens now.
    pub fn record(&self, origin: &Origin, event: Event) {
        let line = line(&self.namespace, Utc::now(), origin, &event);
        self.sink.write(&line.to_string());
    }
}

/// The JSON line of `event` at `at`: the event's own fields, then, if it counts in a metric, the EMF block.
pub fn line(namespace: &str, at: DateTime<Utc>, origin: &Origin, event: &Event) -> Value {
    let kind = event.kind;
    let mut line = Map::new();
    line.insert(
        "time".into(),
        at.to_rfc3339_opts(SecondsFormat::Millis, true).into(),
    );
    line.insert(
        "level".into(),
        if event.outcome == "failure" {
            "WARN"
        } else {
            "INFO"
        }
        .into(),
    );
    line.insert("event".into(), kind.name().into());
    line.insert("outcome".into(), event.outcome.into());
    line.insert("function".into(), origin.function.into());
    if let Some(request_id) = &origin.request_id {
        line.insert("request_id".into(), request_id.as_str().into());
    }
    if let Some(source_ip) = &origin.source_ip {
        line.insert("source_ip".into(), source_ip.as_str().into());
    }
    if let Some(user_id) = event.user_id {
        line.insert("user_id".into(), user_id.to_string().into());
    }
    for (name, value) in &event.fields {
        line.insert((*name).into(), value.clone());
    }
    if let Some(metric) = kind.metric() {
        line.insert("Function".into(), origin.function.into());
        line.insert(metric.into(), 1.into());
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [["Function"]],
                    "Metrics": [{"Name": metric, "Unit": "Count"}],
                }],
            }),
        );
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests;
