//! `http`: load-tests the API end to end over HTTP on loopback, through `cargo lambda watch`, on SQLite (a scratch
//! file) and on DynamoDB (moto, through `infra/with-moto`), with wrk; writes the table to `target/bench/http.md`.
//!
//! ```sh
//! infra/bench-http                                   # builds what it needs, then runs this
//! BENCH_BACKENDS=sqlite BENCH_DURATION=5s infra/bench-http
//! ```
//!
//! The functions are release builds (every function of `vimcar::routes::FUNCTIONS`, from `--functions DIR`), copied
//! aside first; the emulator runs with `--only-lambda-apis` and this program starts those copies against its runtime
//! API. Each request takes the same path as under `make dev` (HTTP, the emulator's API Gateway event, its runtime
//! API, the function), but no `cargo run` sits between the emulator and a function: in a working tree that others
//! edit and build at the same time, that nested cargo would block on the build lock or recompile in the middle of a
//! measurement.
//!
//! Per backend, each route is driven for BENCH_DURATION (default 10s) with BENCH_THREADS threads (2) and
//! BENCH_CONNECTIONS connections (4): first POST /api/users with a new user per request, on a store that holds only
//! the login user; then the routes that spend a credential (refresh, logout, password change, delete), each on
//! credentials made in-process just before its run (`credentials.rs`); then BENCH_USERS more users (default 1000)
//! are stored through the user store (not through the API: a thousand Argon2 hashes would take minutes on moto), and
//! GET /api/users (the default page, and `?limit=1000` on SQLite), me, a user by id, the JWKS and POST /auth run.
//! BENCH_INSTANCES (default 2, one per core, as Lambda would scale out) instances of each function serve requests;
//! with fewer instances than connections, requests queue in the emulator.
//!
//! Beside the SQLite runs, unless BENCH_FLASK=0 or `../shared/flask-original` is absent, the Flask original
//! (`flask.rs`) gets the same wrk runs of POST /api/users, GET /api/users and POST /auth, each back to back with
//! vimcar's, and the table sets them side by side with the ratio and the targets.
//!
//! Any non-2xx answer from a function or socket error fails the run, after the table is written. Under load the
//! emulator itself now and then loses an invocation and answers 500 with its own problem document (type
//! https://httpstatuses.com/500), whatever the function did: those are counted in a column of their own and only
//! warned about.

mod backend;
mod credentials;
mod flask;
mod seed;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use wrk::Figures;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: http --functions DIR [--out FILE]
       http --backend sqlite|dynamodb --functions DIR --results FILE   (one backend; the first form runs these)

DIR holds a release build of every function (each named as its package). Settings come from the environment:
BENCH_BACKENDS (default \"sqlite dynamodb\"), BENCH_USERS (1000), BENCH_DURATION (10s), BENCH_THREADS (2),
BENCH_CONNECTIONS (4), BENCH_INSTANCES (2). DynamoDB runs under infra/with-moto.";

/// What one run measures with, read from the environment (the names `infra/bench-http` has always taken).
#[derive(Debug, Clone)]
pub struct Settings {
    pub backends: Vec<String>,
    pub users: usize,
    pub duration: String,
    pub threads: u32,
    pub connections: u32,
    pub instances: u32,
    /// The Flask original's folder, to run beside the SQLite runs; `None` without one, or with BENCH_FLASK=0.
    pub flask: Option<PathBuf>,
}

impl Settings {
    fn from_env() -> Result<Self> {
        fn var(name: &str, default: &str) -> String {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        }
        fn number<T: std::str::FromStr>(name: &str, default: &str) -> Result<T> {
            var(name, default)
                .parse()
                .map_err(|_| format!("{name} must be a number").into())
        }
        Ok(Self {
            backends: var("BENCH_BACKENDS", "sqlite dynamodb")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            users: number("BENCH_USERS", "1000")?,
            duration: var("BENCH_DURATION", "10s"),
            threads: number("BENCH_THREADS", "2")?,
            connections: number("BENCH_CONNECTIONS", "4")?,
            instances: number("BENCH_INSTANCES", "2")?,
            flask: flask_original(&var("BENCH_FLASK", "1")),
        })
    }
}

/// `../shared/flask-original` from the repository root, unless `enabled` is 0 or the folder is absent (said once).
fn flask_original(enabled: &str) -> Option<PathBuf> {
    if enabled == "0" {
        return None;
    }
    let dir = vimcar_emulator::workspace_root().join("../shared/flask-original");
    if dir.join("run.sh").is_file() {
        return Some(dir);
    }
    eprintln!(
        "bench-http: {} is absent: measuring vimcar alone, without the Flask original beside it",
        dir.display()
    );
    None
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("bench-http: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let (mut backend, mut functions, mut results, mut out) = (None, None, None, None);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--backend" => backend = Some(value()?),
            "--functions" => functions = Some(PathBuf::from(value()?)),
            "--results" => results = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            _ => return Err(USAGE.into()),
        }
    }
    let functions = functions.ok_or(USAGE)?;
    let settings = Settings::from_env()?;
    match (backend, results) {
        (Some(backend), Some(results)) => {
            let figures = backend::run(&backend, &functions, &settings)?;
            wrk::append(&results, &figures)?;
            Ok(ExitCode::SUCCESS)
        }
        (None, None) => run_all(&functions, out, &settings),
        _ => Err(USAGE.into()),
    }
}

/// Every backend, each in a process of its own (DynamoDB's inside `infra/with-moto`), then the table.
fn run_all(functions: &Path, out: Option<PathBuf>, settings: &Settings) -> Result<ExitCode> {
    let root = vimcar_emulator::workspace_root();
    let work = Scratch::new("vimcar-bench-http")?;
    // Copies, so that a build started meanwhile in the shared target directory cannot swap them mid-measurement.
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin)?;
    for function in vimcar::routes::FUNCTIONS {
        let built = functions.join(function.name);
        let copy = bin.join(function.name);
        std::fs::copy(&built, &copy)
            .map_err(|e| format!("{}: {e}; build the functions first", built.display()))?;
        let bytes = std::fs::read(&copy)?;
        if !bytes.windows(15).any(|window| window == b"SQLite format 3") {
            return Err(format!(
                "{} has no SQLite: another build replaced it; run again",
                built.display()
            )
            .into());
        }
    }
    let results = work.path().join("results.tsv");
    // Each backend's process stops what it started on SIGINT or SIGTERM; this one outlives it to clean up.
    let _terminated = vimcar_emulator::termination_flag()?;
    let me = std::env::current_exe()?;
    let mut failed_backends = Vec::new();
    for backend in &settings.backends {
        let mut command = if backend == "dynamodb" {
            let mut command = Command::new(root.join("infra/with-moto"));
            command.arg(&me);
            command
        } else {
            Command::new(&me)
        };
        command
            .args(["--backend", backend, "--functions"])
            .arg(&bin)
            .arg("--results")
            .arg(&results);
        let status = command.status()?;
        if !status.success() {
            // The table still gets the backends that finished.
            eprintln!("bench-http: the {backend} run failed ({status})");
            failed_backends.push(backend.as_str());
        }
    }

    let figures = if results.exists() {
        wrk::read(&results)?
    } else {
        Vec::new()
    };
    let out = out.unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("bench/http.md")
    });
    let table = wrk::markdown(&figures, settings);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &table)?;
    print!("{table}");
    eprintln!("bench-http: wrote {}", out.display());

    if figures.iter().any(|f| f.emulator_errors != 0) {
        eprintln!(
            "bench-http: warning: the emulator answered some requests with its own 500 (see the table), not with a \
             function's answer"
        );
    }
    if figures
        .iter()
        .any(|f| f.unavailable != 0 && f.backend == "dynamodb")
    {
        eprintln!(
            "bench-http: warning: some functions answered 503 on moto (their storage missed its budget; see the table)"
        );
    }
    let failed: Vec<&Figures> = figures
        .iter()
        .filter(|f| {
            f.non2xx != 0 || f.socket_errors != 0 || (f.unavailable != 0 && f.backend != "dynamodb")
        })
        .collect();
    if failed.is_empty() && failed_backends.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !failed_backends.is_empty() {
        eprintln!(
            "bench-http: these runs failed: {}",
            failed_backends.join(", ")
        );
    }
    eprintln!(
        "bench-http: some requests failed (non-2xx answers from the functions, 503s on SQLite, or socket errors):"
    );
    for figures in failed {
        eprintln!("{}", figures.tsv());
    }
    Ok(ExitCode::FAILURE)
}

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(prefix: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let path = std::env::temp_dir().join(format!("{prefix}.{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
