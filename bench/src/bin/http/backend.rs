//! One backend's run: the storage, the emulator and the function instances, the warm-up, then wrk per route.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vimcar_emulator::{LambdaWatch, Options, sign_up, termination_flag};

use crate::credentials::{self, Token};
use crate::flask::{self, Flask};
use crate::wrk::{self, Figures, Run};
use crate::{Result, Scratch, Settings, seed};

/// Every user this benchmark registers or logs in with has this password.
const PASSWORD: &str = "correct horse battery staple";
/// What POST /api/users/me/password changes it to.
const NEW_PASSWORD: &str = "plum tractor violin harbour seventeen";
const SECRET: &str = "bench-http-secret-that-is-at-least-32-bytes";
/// The table on moto (a fresh server per run, from `infra/with-moto`).
const TABLE: &str = "vimcar-bench-http";

/// Runs every route on `backend` with the function builds in `functions`; answers a line of figures per route.
pub fn run(backend: &str, functions: &Path, settings: &Settings) -> Result<Vec<Figures>> {
    let scratch = Scratch::new("vimcar-bench-http")?;
    let mut instances = Instances::default();
    let result = measure_all(backend, functions, settings, &scratch, &mut instances);
    if result.is_err() {
        instances.print_logs();
    }
    result
}

/// The variables both the functions and the seeding read (`vimcar::config`), besides the process's own.
fn storage_env(backend: &str, scratch: &Path) -> Result<Vec<(String, String)>> {
    let mut env = vec![
        ("USERS_BACKEND", backend.to_owned()),
        ("VIMCAR_SECRET", SECRET.to_owned()),
        ("JWT_TTL_SECONDS", "3600".to_owned()),
        (
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
        ),
    ];
    match backend {
        "sqlite" => env.push((
            "SQLITE_PATH",
            scratch.join("bench.db").display().to_string(),
        )),
        "dynamodb" => {
            let endpoint = std::env::var("DYNAMODB_ENDPOINT")
                .ok()
                .filter(|value| !value.is_empty())
                .ok_or("DYNAMODB_ENDPOINT is not set: run under infra/with-moto")?;
            env.extend([
                ("DYNAMODB_ENDPOINT", endpoint),
                ("USERS_TABLE", TABLE.to_owned()),
                ("AWS_REGION", "us-east-1".to_owned()),
                ("AWS_ACCESS_KEY_ID", "local".to_owned()),
                ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            ]);
        }
        other => return Err(format!("unknown backend {other}").into()),
    }
    Ok(env
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect())
}

fn measure_all(
    backend: &str,
    functions: &Path,
    settings: &Settings,
    scratch: &Scratch,
    instances: &mut Instances,
) -> Result<Vec<Figures>> {
    let terminated = termination_flag()?;
    let env = storage_env(backend, scratch.path())?;
    let store = seed::Store::open(&env)?;

    let options = env.iter().fold(
        Options::default()
            .arg("--only-lambda-apis")
            .abort_on(terminated.clone()),
        |options, (name, value)| options.env(name, value),
    );
    let mut server = LambdaWatch::spawn(&options)?;
    let base_url = server.base_url();
    for function in vimcar::routes::FUNCTIONS {
        for i in 1..=settings.instances {
            let log = scratch.path().join(format!("{}-{i}.log", function.name));
            let output = File::create(&log)?;
            let child = Command::new(functions.join(function.name))
                .env_remove(if backend == "sqlite" {
                    "DYNAMODB_ENDPOINT"
                } else {
                    "SQLITE_PATH"
                })
                .envs(env.iter().map(|(name, value)| (name, value)))
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("{base_url}/.rt/{}", function.name),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", function.name)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env(
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    function.memory_mb.to_string(),
                )
                .stdin(Stdio::null())
                .stdout(output.try_clone()?)
                .stderr(output)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", function.name))?;
            instances.children.push((child, log));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    if !instances.all_running() {
        return Err("a function instance exited at start".into());
    }
    let nonce = nonce()?;
    let login = format!("bench{nonce}");
    // Every function answers once, then the login user is registered, logged in and listed through the API: every
    // function serves a real request before wrk measures anything.
    let token = match server
        .wait_until_every_function_answers()
        .and_then(|()| sign_up(&base_url, &login, PASSWORD))
    {
        Ok(token) => token,
        Err(error) => {
            eprintln!(
                "bench-http: the emulator's last log lines:\n{}",
                server.log_tail(20)
            );
            return Err(error.into());
        }
    };

    let script = scratch.path().join("bench.lua");
    std::fs::write(&script, wrk::SCRIPT)?;
    let measure = |route: &str, args: &[&str]| {
        wrk::measure(
            settings,
            &script,
            &Run::at(backend, route, &base_url),
            args,
            &terminated,
        )
    };
    // The original stands beside the SQLite runs only: it has no other backend.
    let mut flask = match (&settings.flask, backend) {
        (Some(dir), "sqlite") => {
            let mut flask = Flask::start(dir, scratch.path(), settings.users)?;
            flask.log_in()?;
            Some(flask)
        }
        _ => None,
    };
    let measure_flask = |flask: &Flask, route: &str, args: &[&str]| {
        wrk::measure(
            settings,
            &script,
            &Run::at(wrk::FLASK, route, &flask.base_url),
            args,
            &terminated,
        )
    };
    let mut figures = Vec::new();
    // Registration first, while the store holds one user: moto copies the whole table for every item of a
    // transaction (three per registration), so on a table of a thousand users each registration would cost moto
    // seconds, past the SDK's 2 s attempt timeout. The original's registration right after it.
    figures.push(measure(
        "POST /api/users",
        &["register", &format!("b{nonce}"), PASSWORD],
    )?);
    if let Some(flask) = &flask {
        figures.push(measure_flask(
            flask,
            "POST /api/users",
            &["register", &format!("f{nonce}"), PASSWORD],
        )?);
    }

    // The routes that spend a credential, each on credentials made just before its run, still on a small table for
    // the same reason.
    let issuer = credentials::Issuer::open(&store, &env)?;
    let threads = settings.threads.to_string();
    let seconds = duration_seconds(&settings.duration)?;
    let credentials =
        |name: &str, sessions: usize, per_user: usize, token: Token| -> Result<String> {
            let file = scratch.path().join(format!("{name}.tokens"));
            eprintln!("bench-http: {backend}: making {sessions} credentials for {name}");
            issuer.write(
                &store,
                &file,
                &format!("{name}{nonce}"),
                sessions,
                per_user,
                PASSWORD,
                token,
            )?;
            Ok(file.display().to_string())
        };
    let ceiling = |route: &str| -> usize {
        let per_second = match (backend, route) {
            ("sqlite", "logout") => 3000,
            ("sqlite", "change-password") => 80,
            ("sqlite", _) => 150,
            // moto slows as its table grows (it copies the table for each item of a transaction), and each
            // credential is a transaction: above what moto serves (2026-12-07: logout 10-29 req/s, a password
            // change 3-7, a deletion 3-5), so the table stays small and making them stays short.
            (_, "logout") => 40,
            (_, "change-password") => 12,
            _ => 10,
        };
        per_second * seconds
    };
    let connections = usize::try_from(settings.connections)?;
    let file = credentials("refresh", 4 * connections, 20, Token::Refresh)?;
    figures.push(measure(
        "POST /auth/refresh",
        &["refresh", &file, &threads],
    )?);
    let file = credentials("logout", ceiling("logout"), 20, Token::Refresh)?;
    figures.push(measure("POST /auth/logout", &["logout", &file, &threads])?);
    let file = credentials("chpw", ceiling("change-password"), 1, Token::Access)?;
    figures.push(measure(
        "POST /api/users/me/password",
        &["change-password", &file, &threads, PASSWORD, NEW_PASSWORD],
    )?);
    let file = credentials("delete", ceiling("delete"), 1, Token::Access)?;
    figures.push(measure(
        "DELETE /api/users/me",
        &["delete", &file, &threads, PASSWORD],
    )?);

    eprintln!("bench-http: {backend}: storing {} users", settings.users);
    store.seed(settings.users, &format!("seed{nonce}"))?;
    // A full first page, now that the users are stored: the seeding reached the functions' storage.
    let (status, body) = vimcar_emulator::list_users(&base_url, &token)?;
    let page = serde_json::from_str::<serde_json::Value>(&body).ok();
    let listed = page.as_ref().and_then(|page| page.as_array().map(Vec::len));
    if status != 200 || listed != Some(100) {
        return Err(format!(
            "after seeding, GET /api/users answered {status} with {listed:?} users, not 100: {}",
            body.chars().take(300).collect::<String>()
        )
        .into());
    }
    let other = page
        .as_ref()
        .and_then(|page| page.as_array()?.last()?["id"].as_str().map(str::to_owned))
        .ok_or("the first page has no user id")?;

    // Each of the original's runs back to back with vimcar's counterpart, in alternating order, so that a
    // neighbour's burst of work lands on both of a pair.
    let flask_token = match &mut flask {
        Some(flask) => {
            flask.reseed(settings.users)?;
            Some(flask.log_in()?)
        }
        None => None,
    };
    if let (Some(flask), Some(flask_token)) = (&flask, &flask_token) {
        figures.push(measure_flask(
            flask,
            "GET /api/users",
            &["get", flask_token],
        )?);
    }
    // The original's payload, for the comparison beside SQLite. On moto a Query reads every item of the table, and
    // a page of 1,000 takes about the store's whole-call budget (5 s): a measure of moto, which answers 503 at times.
    if backend == "sqlite" {
        figures.push(measure("GET /api/users?limit=1000", &["get", &token])?);
    }
    figures.push(measure("GET /api/users", &["get", &token])?);

    // Before the logins: each begins a session, and past 25 a user's oldest session (the token's) ends.
    figures.push(measure("GET /api/users/me", &["get", &token])?);
    figures.push(wrk::measure(
        settings,
        &script,
        &Run {
            backend,
            route: "GET /api/users/{id}",
            url: format!("{base_url}/api/users/{other}"),
        },
        &["get", &token],
        &terminated,
    )?);
    figures.push(measure("GET /.well-known/jwks.json", &["get", &token])?);
    // The original's login beside vimcar's, last: a login begins a session each time.
    if let Some(flask) = &flask {
        figures.push(measure_flask(
            flask,
            "POST /auth",
            &["auth", flask::USERNAME, flask::PASSWORD],
        )?);
    }
    figures.push(measure("POST /auth", &["auth", &login, PASSWORD])?);
    drop(flask);
    if !server.is_running() {
        return Err("`cargo lambda watch` exited during the runs".into());
    }
    Ok(figures)
}

/// BENCH_DURATION in whole seconds, as wrk reads it (`10s`, `2m`, `1h` or a bare number of seconds).
fn duration_seconds(duration: &str) -> Result<usize> {
    let (number, unit) = duration
        .find(|c: char| !c.is_ascii_digit())
        .map_or((duration, ""), |at| duration.split_at(at));
    let number: usize = number
        .parse()
        .map_err(|_| format!("BENCH_DURATION {duration} is not a duration like 10s"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("BENCH_DURATION {duration} is not a duration like 10s").into()),
    };
    Ok(number * scale)
}

/// Six hex digits that tell this run's usernames from an earlier run's.
fn nonce() -> Result<String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    Ok(format!(
        "{:06x}",
        (nanos ^ u128::from(std::process::id())) & 0xff_ffff
    ))
}

/// The function instances this benchmark started (the emulator starts none with `--only-lambda-apis`), each with
/// its log; stopped when dropped.
#[derive(Default)]
struct Instances {
    children: Vec<(Child, PathBuf)>,
}

impl Instances {
    fn all_running(&mut self) -> bool {
        self.children
            .iter_mut()
            .all(|(child, _)| matches!(child.try_wait(), Ok(None)))
    }

    /// The last 20 lines of every instance's log that has any.
    fn print_logs(&self) {
        for (_, log) in &self.children {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.is_empty() {
                continue;
            }
            let lines: Vec<&str> = text.lines().collect();
            eprintln!(
                "bench-http: the last lines of {}:\n{}",
                log.file_name().unwrap_or_default().to_string_lossy(),
                lines[lines.len().saturating_sub(20)..].join("\n")
            );
        }
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stderr(Stdio::null())
                .status();
        }
        for (child, _) in &mut self.children {
            for _ in 0..50 {
                if !matches!(child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
