//! `cargo lambda watch` as a child process: started on a free port in its own process group, waited for until every
//! function has answered once, checked for compiles, and stopped on drop (with every function process it started),
//! whether the caller succeeded, failed or panicked.
//!
//! The one emulator harness: the end-to-end tests use it through `vimcar_tests::server`, `infra/contract-test` through
//! the `with-emulator` binary, and the HTTP benchmark (`bench/src/bin/http`) directly.

mod client;
mod probes;
mod process;

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use client::{EMULATOR_ERROR_TYPE, list_users, sign_up};
use probes::probes;
pub use process::{
    cargo, cargo_metadata, free_port, stop_group, termination_flag, wait_unless_terminated,
    workspace_root,
};

/// How long the emulator may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long each function may take to give its first answer. Not a prediction: the wait goes on only while the
/// emulator lives, and ends at the first answer, so a slow machine is waited for rather than failed.
const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
        process::stop_group(&mut self.child, Duration::from_secs(5));
        let _ = std::fs::remove_file(&self.log);
    }
}
