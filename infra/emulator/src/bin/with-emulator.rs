//! `with-emulator`: runs a command against the API as `cargo lambda watch` serves it, and stops the emulator after.
//!
//! ```sh
//! with-emulator [--user NAME --password PASSWORD] [--watch-arg ARG]... -- COMMAND [ARG]...
//! ```
//!
//! Starts the emulator on a free loopback port with this process's environment (storage, secret, `RUST_LOG`),
//! waits until every function has answered once and fails if the emulator compiled anything, optionally registers
//! and logs in a user, then runs COMMAND with `VIMCAR_BASE_URL` (and `VIMCAR_TOKEN`) in its environment. The
//! emulator and its functions are stopped when COMMAND ends, on SIGINT or SIGTERM, and on any failure, which prints
//! the emulator's last log lines. Exits with COMMAND's status. `infra/contract-test` runs schemathesis through it.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use vimcar_emulator::{LambdaWatch, Options, sign_up, termination_flag, wait_unless_terminated};

const USAGE: &str = "usage: with-emulator [--user NAME --password PASSWORD] [--watch-arg ARG]... -- COMMAND [ARG]...";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("with-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut args = std::env::args().skip(1);
    let mut user = None;
    let mut password = None;
    let mut options = Options::default();
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--user" => user = Some(value()?),
            "--password" => password = Some(value()?),
            "--watch-arg" => options = options.arg(value()?),
            "--" => {
                command.extend(args.by_ref());
                break;
            }
            _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
        }
    }
    if command.is_empty() || user.is_some() != password.is_some() {
        return Err(USAGE.to_owned());
    }
    if let Ok(level) = std::env::var("RUST_LOG") {
        options = options.env("RUST_LOG", level);
    }

    let terminated = termination_flag()?;
    options = options.abort_on(terminated.clone());
    let mut server = LambdaWatch::spawn(&options)?;
    let base_url = server.base_url();
    let ready =
        server
            .wait_until_every_function_answers()
            .and_then(|()| match (&user, &password) {
                (Some(user), Some(password)) => sign_up(&base_url, user, password).map(Some),
                _ => Ok(None),
            });
    let token = match ready {
        Ok(token) => token,
        Err(error) => {
            eprintln!(
                "with-emulator: the emulator's last log lines:\n{}",
                server.log_tail(40)
            );
            return Err(error);
        }
    };

    let mut child = Command::new(&command[0]);
    // A process group of its own, stopped whole on a signal (the terminal's Ctrl-C reaches this process, which
    // passes it on as SIGTERM).
    child
        .args(&command[1..])
        .env("VIMCAR_BASE_URL", &base_url)
        .process_group(0);
    if let Some(token) = &token {
        child.env("VIMCAR_TOKEN", token);
    }
    let mut child = child
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", command[0]))?;
    let status = wait_unless_terminated(&mut child, &terminated)
        .map_err(|e| format!("waiting for {}: {e}", command[0]))?;
    match status {
        Some(status) if status.success() => Ok(ExitCode::SUCCESS),
        Some(status) => {
            eprintln!(
                "with-emulator: {} failed ({status}); the emulator's last log lines:\n{}",
                command[0],
                server.log_tail(40)
            );
            Ok(ExitCode::from(
                status.code().map_or(1, |code| code.clamp(1, 255) as u8),
            ))
        }
        None => {
            eprintln!("with-emulator: stopped by a signal");
            Ok(ExitCode::from(130))
        }
    }
}
