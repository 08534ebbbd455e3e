//! `coldstart`: cold start, warm latency and peak memory of the functions' release bootstraps, each run as Lambda
//! runs it, against a Lambda runtime API this harness serves on loopback and a DynamoDB-compatible server.
//!
//! ```sh
//! infra/with-moto cargo run --release -p vimcar-bench --bin coldstart -- \
//!     --out target/bench/coldstart.md target/release/register target/release/auth target/release/refresh \
//!     target/release/logout target/release/list-users
//! ```
//!
//! `infra/bench-coldstart` builds everything and runs exactly that. Every bootstrap is started `--runs` times; each
//! time it serves one event cold and `--warm` more, all of which must answer 2xx, and its `VmHWM` is read before it is
//! killed.

mod cold_start;
mod events;
mod report;
mod runtime_api;
mod setup;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use cold_start::cold_start;
use events::{Events, Function};
use report::FunctionReport;
use runtime_api::RuntimeApi;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The signing secret the bootstraps get (at least 32 bytes, as config.rs requires).
const SECRET: &str = "coldstart-benchmark-secret-0123456789abcdef";

const USAGE: &str = "usage: coldstart [--runs N] [--warm N] [--out FILE] [--admin PATH] [--table NAME] [--env NAME=VALUE]...
                 [--unset NAME]... BOOTSTRAP...

Each BOOTSTRAP is a release build of a function of vimcar::routes::FUNCTIONS (named as its package, or
.../<name>/bootstrap). DynamoDB comes
from DYNAMODB_ENDPOINT (run under infra/with-moto).

  --runs N      cold starts per bootstrap (default 20)
  --warm N      invocations after the first, per cold start, before VmHWM is read (default 50, at least 2)
  --out FILE    also write the markdown table to FILE
  --admin PATH  the vimcar-admin command that creates the table and the login user (default target/debug/vimcar-admin)
  --table NAME  DynamoDB table for the functions but register and delete-account (default vimcar-coldstart); each of
                their runs gets a table of its own, NAME-<nonce>-<function>-<run>
  --env NAME=VALUE  one more variable for the bootstraps, or a different value (e.g. MALLOC_ARENA_MAX=2)
  --unset NAME  a variable the bootstraps do not get (e.g. VIMCAR_SECRET, with --env VIMCAR_SECRET_ID=...)";

struct Options {
    bootstraps: Vec<PathBuf>,
    runs: usize,
    warm: usize,
    out: Option<PathBuf>,
    admin: PathBuf,
    table: String,
    /// Added to (or replacing) the bootstraps' environment.
    env: Vec<(String, String)>,
    /// Removed from the bootstraps' environment.
    unset: Vec<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("coldstart: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let options = parse_options(std::env::args().skip(1))?;
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or("DYNAMODB_ENDPOINT is not set: run under infra/with-moto, or point it at a DynamoDB-compatible server")?;

    let mut functions = Vec::new();
    for path in &options.bootstraps {
        if !path.is_file() {
            return Err(format!("{}: no such bootstrap; build it first", path.display()).into());
        }
        functions.push((Function::of_bootstrap(path)?, path.clone()));
    }
    // Logins first among the functions given, so that list-users has a token.
    functions.sort_by_key(|(function, _)| *function);

    let nonce = format!(
        "{:08x}",
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() & 0xffff_ffff
    );
    let storage = storage_env(&endpoint, &options.table);
    let login = format!("csauth{nonce}");
    eprintln!("coldstart: preparing table {} on {endpoint}", options.table);
    setup::create_table(&options.admin, &storage)?;
    setup::create_user(&options.admin, &storage, &login)?;

    // Other work on the machine shows in every figure; the table says how busy it was.
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let certificates = lambda_like_certificates()?;
    let api = RuntimeApi::start()?;
    let mut events = Events::new(&nonce, &login)?;
    let mut reports = Vec::new();
    for (function, bootstrap) in &functions {
        let mut samples = Vec::with_capacity(options.runs);
        for run in 1..=options.runs {
            // Each register run gets an empty table of its own, so that every run starts from the same state. One
            // shared table would grow by a user per invocation, and moto copies a whole table for every item of a
            // transaction: registrations would slow down run after run, until they exceeded the SDK's attempt
            // timeout. delete-account's runs get one each too, for the same reason: its accounts, one per
            // invocation, made in one table (a thousand of them) slow moto's transactions past that timeout, and
            // the SDK's retry of a registration that did land then finds its id taken (moto ignores
            // ClientRequestToken, which makes the retry harmless in DynamoDB).
            let deletes = function.name() == vimcar::routes::DELETE_ACCOUNT.name;
            let storage = if function.is_register() || deletes {
                let table = format!("{}-{nonce}-{}-{run}", options.table, function.name());
                let storage = storage_env(&endpoint, &table);
                setup::create_table(&options.admin, &storage)?;
                storage
            } else {
                storage.clone()
            };
            let mut base = bootstrap_env(*function, bootstrap, &api, &storage);
            base.extend_from_slice(&certificates);
            if deletes {
                // Each deletion ends an account for good: every invocation gets one of its own.
                let accounts = setup::deletable_accounts(
                    &base,
                    &format!("csdel{nonce}r{run}"),
                    options.warm + 1,
                )
                .map_err(|e| format!("{} run {run}: preparing accounts: {e}", function.name()))?;
                events.prepare_deletions(accounts);
            }
            let mut env = base;
            env.retain(|(name, _)| {
                options.env.iter().all(|(extra, _)| extra != name) && !options.unset.contains(name)
            });
            env.extend_from_slice(&options.env);
            let sample = cold_start(&api, *function, bootstrap, &env, options.warm, &mut events)
                .map_err(|e| format!("{} run {run}: {e}", function.name()))?;
            samples.push(sample);
        }
        eprintln!(
            "coldstart: {}: {} cold starts, {} invocations each",
            function.name(),
            options.runs,
            options.warm + 1
        );
        reports.push(FunctionReport {
            name: function.name(),
            bootstrap_bytes: bootstrap.metadata()?.len(),
            samples,
        });
    }

    let context = format!(
        "Cold starts of the native release bootstraps on {} ({} cores, load average {} before the runs), DynamoDB \
         on {endpoint}: {} runs per function, each 1 cold + {} warm invocations (register and delete-account: each \
         run on a table of its own); memory sizes as in template.yaml; {}.",
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average,
        options.runs,
        options.warm,
        match certificates.first() {
            Some((_, bundle)) => format!(
                "root certificates from {bundle} alone (one bundle, as provided.al2023 keeps them)"
            ),
            None => "root certificates wherever the machine keeps them".to_owned(),
        }
    );
    let table = report::markdown(&reports, &context);
    print!("{table}");
    if let Some(out) = &options.out {
        if let Some(dir) = out.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(out, &table)?;
        eprintln!("coldstart: wrote {}", out.display());
    }
    Ok(())
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options> {
    let mut options = Options {
        bootstraps: Vec::new(),
        runs: 20,
        warm: 50,
        out: None,
        admin: PathBuf::from("target/debug/vimcar-admin"),
        table: "vimcar-coldstart".to_owned(),
        env: Vec::new(),
        unset: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--runs" => options.runs = value()?.parse()?,
            "--warm" => options.warm = value()?.parse()?,
            "--out" => options.out = Some(value()?.into()),
            "--admin" => options.admin = value()?.into(),
            "--table" => options.table = value()?,
            "--env" => {
                let pair = value()?;
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--env wants NAME=VALUE, not {pair}"))?;
                options.env.push((name.to_owned(), value.to_owned()));
            }
            "--unset" => options.unset.push(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option {flag}\n\n{USAGE}").into());
            }
            _ => options.bootstraps.push(arg.into()),
        }
    }
    if options.bootstraps.is_empty() || options.runs == 0 || options.warm < 2 {
        return Err(USAGE.into());
    }
    Ok(options)
}

/// The machine's CA bundle alone as the bootstraps' root certificates (`SSL_CERT_FILE`, with `SSL_CERT_DIR` an empty
/// directory), as a function finds them in Lambda: the SDK's HTTPS client loads the platform's roots while the
/// function starts (rustls-native-certs), and provided.al2023 keeps them in one bundle, while Debian's
/// /etc/ssl/certs also holds every certificate again as a file of its own, which tripled the init's CPU time here
/// (BENCHMARKS.md, "Init CPU"). Empty when no bundle is found: then the bootstraps look where the machine keeps them.
/// `--unset SSL_CERT_DIR --unset SSL_CERT_FILE` measures that instead.
fn lambda_like_certificates() -> Result<Vec<(String, String)>> {
    const BUNDLES: [&str; 4] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ];
    let Some(bundle) = BUNDLES.into_iter().find(|path| Path::new(path).is_file()) else {
        return Ok(Vec::new());
    };
    let empty = std::env::temp_dir().join("vimcar-coldstart-no-certificate-dir");
    std::fs::create_dir_all(&empty)?;
    Ok(vec![
        ("SSL_CERT_FILE".to_owned(), bundle.to_owned()),
        ("SSL_CERT_DIR".to_owned(), empty.display().to_string()),
    ])
}

/// What both the admin command and the bootstraps need to reach the table.
fn storage_env(endpoint: &str, table: &str) -> Vec<(String, String)> {
    [
        ("USERS_BACKEND", "dynamodb"),
        ("USERS_TABLE", table),
        ("DYNAMODB_ENDPOINT", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "coldstart"),
        ("AWS_SECRET_ACCESS_KEY", "coldstart"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .to_vec()
}

/// The environment Lambda gives a `provided.al2023` function as `template.yaml` configures it, plus `storage`.
fn bootstrap_env(
    function: Function,
    bootstrap: &Path,
    api: &RuntimeApi,
    storage: &[(String, String)],
) -> Vec<(String, String)> {
    let name = function.name();
    let task_root = bootstrap
        .parent()
        .map_or_else(|| ".".to_owned(), |dir| dir.display().to_string());
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", api.address()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb().to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("LAMBDA_TASK_ROOT", task_root),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ("VIMCAR_SECRET", SECRET.to_owned()),
        // Tokens from the first login must outlive every list-users run.
        ("JWT_TTL_SECONDS", "3600".to_owned()),
    ]
    .map(|(key, value)| (key.to_owned(), value))
    .to_vec();
    env.extend_from_slice(storage);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &str) -> Result<Options> {
        parse_options(args.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn options_default_to_twenty_runs_of_fifty_warm_invocations() {
        let parsed = options("target/release/auth").unwrap();
        assert_eq!((parsed.runs, parsed.warm), (20, 50));
        assert_eq!(parsed.bootstraps, [PathBuf::from("target/release/auth")]);
        let parsed = options("--runs 3 --warm 4 --out x.md a b").unwrap();
        assert_eq!(
            (parsed.runs, parsed.warm, parsed.bootstraps.len()),
            (3, 4, 2)
        );
        assert_eq!(parsed.out, Some(PathBuf::from("x.md")));
        let parsed = options("--unset VIMCAR_SECRET --env VIMCAR_SECRET_ID=s auth").unwrap();
        assert_eq!(parsed.unset, ["VIMCAR_SECRET"]);
    }

    #[test]
    fn unknown_options_and_missing_bootstraps_are_refused() {
        assert!(options("--fast auth").is_err());
        assert!(options("--runs 3").is_err());
        assert!(options("--warm 1 auth").is_err());
        assert!(options("--env A auth").is_err());
        assert!(options("--unset").is_err());
    }
}
