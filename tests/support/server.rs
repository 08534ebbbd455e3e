//! `cargo lambda watch` as a child process, for the end-to-end tests: started on a free port, stopped on drop,
//! whether the test passed or panicked.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the emulator may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long each function may take to give its first answer. Not a prediction: the wait goes on only while the
/// emulator lives, and ends at the first answer, so a slow machine is waited for rather than failed.
const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// One cheap request per function, each refused before any real work (so any status is an answer).
const PROBES: &[(&str, &str)] = &[
    ("POST", "/api/users"),
    ("POST", "/auth"),
    ("GET", "/api/users"),
];

/// A running `cargo lambda watch` serving the workspace's functions through its router table.
pub struct LambdaWatch {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl LambdaWatch {
    /// Starts the emulator with `env` added to the environment the functions inherit. Panics, loudly, when
    /// `cargo lambda` is not installed (`make tools` installs it into `.venv`).
    pub fn start(env: &[(&str, &str)]) -> Self {
        let root = workspace_root();
        let port = free_port();
        let log = std::env::temp_dir().join(format!("vimcar-watch-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("creating the emulator log");
        let mut command = cargo();
        command
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .current_dir(&root)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("cloning the log handle"))
            .stderr(log_file)
            // Its own process group, so that stopping it also stops the function processes it spawned.
            .process_group(0);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot run `cargo lambda watch` ({e}): run the tests with `make test`, which installs it")
        });
        let mut server = Self { child, port, log };
        server.wait_until_listening();
        server.wait_until_every_function_answers();
        server
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

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "`cargo lambda watch` exited with {status}:\n{}",
                    self.logs()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "`cargo lambda watch` did not listen on port {} within {START_TIMEOUT:?}:\n{}",
            self.port,
            self.logs()
        );
    }
}

impl LambdaWatch {
    /// Sends each function its first request and waits for the answer, then checks that the emulator compiled
    /// nothing: it must run what `make functions` built (the workspace's default-members), or a fresh machine's first
    /// requests would wait for a compile.
    fn wait_until_every_function_answers(&mut self) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let deadline = Instant::now() + FIRST_ANSWER_TIMEOUT;
        for (method, path) in PROBES {
            let url = format!("{}{path}", self.base_url());
            loop {
                if let Ok(Some(status)) = self.child.try_wait() {
                    panic!(
                        "`cargo lambda watch` exited with {status}:\n{}",
                        self.logs()
                    );
                }
                let answered = match *method {
                    "GET" => agent.get(&url).call(),
                    _ => agent
                        .post(&url)
                        .header("content-type", "application/json")
                        .send("{}"),
                };
                match answered {
                    Ok(_) => break,
                    Err(error) if Instant::now() < deadline => {
                        eprintln!("e2e: waiting for {method} {path}: {error}");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    Err(error) => panic!(
                        "{method} {path} got no answer within {FIRST_ANSWER_TIMEOUT:?}: {error}\n{}",
                        self.logs()
                    ),
                }
            }
        }
        let logs = self.logs();
        let compiled: Vec<&str> = logs
            .lines()
            .filter(|line| line.contains("Compiling"))
            .collect();
        assert!(
            compiled.is_empty(),
            "`cargo lambda watch` compiled on its first requests, so it does not run what `make functions` built \
             (the workspace's default-members):\n{}",
            compiled.join("\n")
        );
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

/// A `cargo` command with the variables `cargo test` set for this test process removed. Build scripts that watch
/// `CARGO_MANIFEST_DIR` and the like would otherwise see them change, and the nested cargo would rebuild half the
/// dependency tree that `make functions` had just built.
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
pub fn cargo_metadata() -> serde_json::Value {
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
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// The workspace root, where `Cargo.toml` holds the router table.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("binding an ephemeral port")
}
