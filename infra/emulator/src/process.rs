//! Child processes and their environment: signals, process groups, a clean nested cargo, the workspace.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

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
            stop_group(child, Duration::from_secs(5));
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

/// Stops `child` and its whole process group (it must lead one: `process_group(0)`): SIGTERM, up to `grace` for it to
/// exit, then SIGKILL, and reaps it. For drops: errors are ignored.
pub fn stop_group(child: &mut Child, grace: Duration) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-TERM", "--", &group])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}
