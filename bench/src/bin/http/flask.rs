//! The Flask original (`../shared/flask-original` from the repository root), served beside vimcar for the same wrk
//! runs: its own scripts make its virtualenv (in `~/.cache/flask-original`), seed its users and serve it under
//! gunicorn with 2 workers; its database is a file in this run's scratch directory, so nothing is written inside the
//! shared folder.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Result;

/// The user `seed-users.sh` stores first: foo, password bar (every seeded user shares its bcrypt hash).
pub const USERNAME: &str = "foo";
pub const PASSWORD: &str = "bar";
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running Flask original; stopped (the gunicorn master and its workers) when dropped.
pub struct Flask {
    dir: PathBuf,
    database_url: String,
    child: Child,
    pub base_url: String,
    /// The log of gunicorn and its access log.
    log: PathBuf,
}

impl Flask {
    /// Makes its virtualenv if needed, stores `users` users in a fresh database in `scratch`, and serves it.
    pub fn start(dir: &Path, scratch: &Path, users: usize) -> Result<Self> {
        eprintln!(
            "bench-http: setting up the Flask original ({})",
            dir.display()
        );
        let status = Command::new(dir.join("setup.sh"))
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("{}/setup.sh: {e}", dir.display()))?;
        if !status.success() {
            return Err(format!("{}/setup.sh failed ({status})", dir.display()).into());
        }
        let database_url = format!("sqlite:///{}", scratch.join("flask.db").display());
        let port = vimcar_emulator::free_port();
        let log = scratch.join("flask.log");
        let output = File::create(&log)?;
        seed(dir, &database_url, users)?;
        let child = Command::new(dir.join("run.sh"))
            .env("VIMCAR_DATABASE_URL", &database_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("WORKERS", "2")
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{}/run.sh: {e}", dir.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            database_url,
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        })
    }

    /// Resets its database to exactly `users` users (`seed-users.sh`): after its registration run, the list sees
    /// 1,000 users again, as vimcar's does.
    pub fn reseed(&self, users: usize) -> Result<()> {
        seed(&self.dir, &self.database_url, users)
    }

    /// Waits until it answers a login, and answers the access token.
    pub fn log_in(&mut self) -> Result<String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let started = Instant::now();
        let body = serde_json::json!({"username": USERNAME, "password": PASSWORD}).to_string();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(
                    format!("the Flask original exited ({status}):\n{}", self.log_tail()).into(),
                );
            }
            if let Ok(mut response) = agent
                .post(format!("{}/auth", self.base_url))
                .header("content-type", "application/json")
                .send(&body)
            {
                let text = response.body_mut().read_to_string()?;
                if response.status() == 200 {
                    return serde_json::from_str::<Value>(&text)?["access_token"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            format!("the original's login answered no access_token: {text}").into()
                        });
                }
                return Err(format!(
                    "the original's login answered {}: {text}",
                    response.status()
                )
                .into());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "the Flask original did not answer within {START_TIMEOUT:?}:\n{}",
                    self.log_tail()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// `seed-users.sh USERS` on the database at `database_url`.
fn seed(dir: &Path, database_url: &str, users: usize) -> Result<()> {
    let status = Command::new(dir.join("seed-users.sh"))
        .arg(users.to_string())
        .env("VIMCAR_DATABASE_URL", database_url)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("seed-users.sh {users} failed ({status})").into());
    }
    Ok(())
}

impl Drop for Flask {
    fn drop(&mut self) {
        vimcar_emulator::stop_group(&mut self.child, Duration::from_secs(5));
    }
}
