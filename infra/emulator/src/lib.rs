//! `cargo lambda watch` as a child process: started on a free port in its own process group, waited for until every
//! function has answered once, checked for compiles, and stopped on drop (with every function process it started),
//! whether the caller succeeded, failed or panicked.
//!
//! The one emulator harness: the end-to-end tests use it through `vimcar_tests::server`, `infra/contract-test` through
//! the `with-emulator` binary, and the HTTP benchmark (`bench/src/bin/http`) directly.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the emulator may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long each function may take to give its first answer. Not a prediction: the wait goes on only while the
/// emulator lives, and ends at the first answer, so a slow machine is waited for rather than failed.
const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The problem type of the emulator's own 500, when it loses an invocation under load (not a function's answer).
pub const EMULATOR_ERROR_TYPE: &str = "httpstatuses.com";

/// What to start the emulator with, beyond the workspace's router table.
#[derive(Debug, Clone, Default)]
pub struct Options {
    env: Vec<(String, String)>,
    args: Vec<String>,
    abort: Option<Arc<AtomicBool>>,
}

impl Options {
    /// One more variable for the emulator and the functions it starts (the last value given wins).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// One more argument for `cargo lambda watch` (e.g. `--only-lambda-apis`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Gives up waiting for the emulator or its functions once `flag` is set (see [`termination_flag`]).
    pub fn abort_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.abort = Some(flag);
        self
    }
}

/// A running `cargo lambda watch` serving the workspace's functions through its router table.
pub struct LambdaWatch {
    child: Child,
    port: u16,
    log: PathBuf,
    abort: Option<Arc<AtomicBool>>,
}

impl LambdaWatch {
    /// Starts the emulator with `env` added to the environment the functions inherit, and waits until every function
    /// has answered once. Panics, loudly, on any failure, for tests: when `cargo lambda` is not installed (`make
    /// tools` installs it into `.venv`), when a function never answers, when the emulator had to compile.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let options = env
            .iter()
            .fold(Options::default(), |options, (name, value)| {
                options.env(*name, *value)
            });
        let mut server = Self::spawn(&options).unwrap_or_else(|error| panic!("{error}"));
        server
            .wait_until_every_function_answers()
            .unwrap_or_else(|error| panic!("{error}"));
        server
    }

    /// Starts the emulator and waits until it accepts connections; its functions have not been asked anything yet.
    pub fn spawn(options: &Options) -> Result<Self, String> {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("vimcar-watch-{port}.log"));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("creating the emulator log: {e}"))?;
        let log_copy = log_file
            .try_clone()
            .map_err(|e| format!("cloning the log handle: {e}"))?;
        let mut command = cargo();
        command
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .args(&options.args)
            .current_dir(workspace_root())
            .env("RUST_LOG", "info")
            .envs(options.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(log_copy)
            .stderr(log_file)
            // Its own process group, so that stopping it also stops the function processes it spawned.
            .process_group(0);
        let child = command.spawn().map_err(|e| {
            format!("cannot run `cargo lambda watch` ({e}): run `make tools`, which installs it into .venv")
        })?;
        let mut server = Self {
            child,
            port,
            log,
            abort: options.abort.clone(),
        };
        server.wait_until_listening()?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the emulator and the functions logged so far.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// The last `lines` lines of [`Self::logs`].
    pub fn log_tail(&self, lines: usize) -> String {
        let logs = self.logs();
        let all: Vec<&str> = logs.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Whether the emulator is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn exited(&mut self) -> Option<String> {
        if self
            .abort
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            return Some("stopped by a signal while waiting for the emulator".to_owned());
        }
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "`cargo lambda watch` exited with {status}:\n{}",
                self.logs()
            )),
            _ => None,
        }
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(error) = self.exited() {
                return Err(error);
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "`cargo lambda watch` did not listen on port {} within {START_TIMEOUT:?}:\n{}",
            self.port,
            self.logs()
        ))
    }

    /// Sends each function its first request (one cheap request per function, found in the router table, each
    /// refused before any real work, so any status is an answer) and waits for the answer, then checks that the
    /// emulator compiled nothing (see [`Self::check_nothing_compiled`]).
    pub fn wait_until_every_function_answers(&mut self) -> Result<(), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let deadline = Instant::now() + FIRST_ANSWER_TIMEOUT;
        for probe in probes()? {
            let url = format!("{}{}", self.base_url(), probe.path);
            let started = Instant::now();
            loop {
                if let Some(error) = self.exited() {
                    return Err(error);
                }
                match probe.send(&agent, &url) {
                    Ok(()) => break,
                    Err(error) if Instant::now() < deadline => {
                        eprintln!(
                            "emulator: waiting for {} ({} {}): {error}",
                            probe.function, probe.method, probe.path
                        );
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    Err(error) => {
                        return Err(format!(
                            "{} {} got no answer within {FIRST_ANSWER_TIMEOUT:?}: {error}\n{}",
                            probe.method,
                            probe.path,
                            self.logs()
                        ));
                    }
                }
            }
            eprintln!(
                "emulator: {} answers {} {} ({:.1} s)",
                probe.function,
                probe.method,
                probe.path,
                started.elapsed().as_secs_f64()
            );
        }
        self.check_nothing_compiled()
    }

    /// Fails when the emulator's log shows a compile: it must run what `make functions` built (the workspace's
    /// default-members), or a fresh machine's first requests would wait for a compile.
    pub fn check_nothing_compiled(&self) -> Result<(), String> {
        let logs = self.logs();
        let compiled: Vec<&str> = logs
            .lines()
            .filter(|line| line.contains("Compiling"))
            .collect();
        if compiled.is_empty() {
            return Ok(());
        }
        Err(format!(
            "`cargo lambda watch` compiled on its first requests, so it does not run what `make functions` built \
             (the workspace's default-members):\n{}",
            compiled.join("\n")
        ))
    }
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        // The whole group: the emulator and every function process it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One function's first request.
struct Probe {
    function: String,
    method: String,
    path: String,
}

impl Probe {
    /// Any answer, whatever its status, is a success; only no answer at all is an error.
    fn send(&self, agent: &ureq::Agent, url: &str) -> Result<(), ureq::Error> {
        let json = "application/json";
        match self.method.as_str() {
            "GET" => agent.get(url).call(),
            "DELETE" => agent.delete(url).call(),
            "PUT" => agent.put(url).header("content-type", json).send("{}"),
            "PATCH" => agent.patch(url).header("content-type", json).send("{}"),
            _ => agent.post(url).header("content-type", json).send("{}"),
        }
        .map(drop)
    }
}

/// One request per function of the router table in the workspace `Cargo.toml` (`metadata.lambda.watch.router`), the
/// routes `cargo lambda watch` serves: each function's first route, `{param}` segments filled in.
fn probes() -> Result<Vec<Probe>, String> {
    let metadata = cargo_metadata()?;
    let router = metadata["metadata"]["lambda"]["watch"]["router"]
        .as_object()
        .ok_or("no [workspace.metadata.lambda.watch.router] table in Cargo.toml")?;
    let mut probes: Vec<Probe> = Vec::new();
    for (path, routes) in router {
        let path = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "probe"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let routes: Vec<(&str, &str)> = match routes {
            // A string routes every method to one function.
            Value::String(function) => vec![("POST", function.as_str())],
            Value::Array(routes) => routes
                .iter()
                .filter_map(|route| Some((route["method"].as_str()?, route["function"].as_str()?)))
                .collect(),
            _ => Vec::new(),
        };
        for (method, function) in routes {
            if probes.iter().all(|probe| probe.function != function) {
                probes.push(Probe {
                    function: function.to_owned(),
                    method: method.to_owned(),
                    path: path.clone(),
                });
            }
        }
    }
    if probes.is_empty() {
        return Err("the router table in Cargo.toml routes to no function".to_owned());
    }
    Ok(probes)
}

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

/// Set once SIGINT or SIGTERM arrives, from then on; the signals no longer end the process, so that whoever polls
/// the flag can stop the emulator (and whatever else it started) before exiting.
pub fn termination_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    Ok(flag)
}

/// Waits for `child`, which was started in a process group of its own (`process_group(0)`); when `flag` is set
/// first, stops that whole group (TERM, then KILL after 5 s), so that nothing the child started outlives it, and
/// answers `None`.
pub fn wait_unless_terminated(
    child: &mut Child,
    flag: &AtomicBool,
) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if flag.load(Ordering::Relaxed) {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill")
                .args(["-TERM", "--", &group])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && child.try_wait()?.is_none() {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `cargo` command with the variables an outer cargo (`cargo test`, `cargo run`) set for this process removed.
/// Build scripts that watch `CARGO_MANIFEST_DIR` and the like would otherwise see them change, and the nested cargo
/// would rebuild half the dependency tree that `make functions` had just built.
pub fn cargo() -> Command {
    let mut command = Command::new("cargo");
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let kept =
            matches!(name, "CARGO_HOME" | "CARGO_TARGET_DIR") || name.starts_with("CARGO_TERM_");
        if (name == "CARGO" || name.starts_with("CARGO_")) && !kept {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_RECURSION_COUNT");
    command
}

/// `cargo metadata` for the workspace's own packages: the router table (`metadata.lambda.watch.router`) and the
/// binaries, as `cargo lambda watch` sees them.
pub fn cargo_metadata() -> Result<Value, String> {
    let output = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cargo metadata does not run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata's output: {e}"))
}

/// The workspace root, where `Cargo.toml` holds the router table.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("infra/emulator sits in the workspace")
        .to_path_buf()
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("binding an ephemeral port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_the_router_table_gets_one_probe() {
        let probes = probes().unwrap();
        let mut functions: Vec<&str> = probes.iter().map(|p| p.function.as_str()).collect();
        functions.sort_unstable();
        let mut packages: Vec<String> = std::fs::read_dir(workspace_root().join("functions"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        packages.sort_unstable();
        assert_eq!(functions, packages);
        assert!(probes.iter().all(|p| !p.path.contains('{')));
    }
}
