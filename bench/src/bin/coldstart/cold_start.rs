//! One cold start of one bootstrap: spawn it, time its first request for an event and its first answer, serve it
//! warm invocations, read its peak memory, kill it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::Result;
use crate::events::{Events, Function};
use crate::report::Sample;
use crate::runtime_api::{Invocation, Message, RuntimeApi};

/// How long a bootstrap may take to ask for an event or answer one before the run fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a wait checks whether the bootstrap died; a message ends the wait at once regardless.
const POLL: Duration = Duration::from_millis(50);

/// One cold start: spawn, first event, `warm` more, then `VmHWM`.
pub fn cold_start(
    api: &RuntimeApi,
    function: Function,
    bootstrap: &Path,
    env: &[(String, String)],
    warm: usize,
    events: &mut Events,
) -> Result<Sample> {
    api.discard_pending();
    let log_path = std::env::temp_dir().join(format!("vimcar-coldstart-{}.log", function.name()));
    let log = File::create(&log_path)?;
    let mut command = Command::new(bootstrap);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let mut next = events.next(function)?;

    let spawned = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bootstrap.display()))?;
    let mut process = Bootstrap {
        child,
        log: log_path,
    };
    let (ready, reply) = process.await_next(api)?;
    // Asleep until the event arrives: what it has computed so far is its whole init.
    let ready_cpu = cpu_time(process.child.id())?;
    let (sent, answered, payload) = process.invoke(api, reply, next)?;
    process.check(events, function, &payload)?;
    let mut sample = Sample {
        ready: ready - spawned,
        ready_cpu,
        first_response: answered - spawned,
        first_invocation: answered - sent,
        warm: Vec::with_capacity(warm),
        peak_rss_kib: 0,
    };
    for _ in 0..warm {
        next = events.next(function)?;
        let (_, reply) = process.await_next(api)?;
        let (sent, answered, payload) = process.invoke(api, reply, next)?;
        process.check(events, function, &payload)?;
        sample.warm.push(answered - sent);
    }
    // Idle again, waiting for an event: everything the last invocation allocated has been counted.
    let (_, idle) = process.await_next(api)?;
    sample.peak_rss_kib = peak_rss_kib(process.child.id())?;
    drop(idle);
    // The log only matters when a run fails: then the error quotes it and it stays behind.
    let _ = std::fs::remove_file(&process.log);
    Ok(sample)
}

/// A running bootstrap, killed when dropped, whatever happened.
struct Bootstrap {
    child: Child,
    log: PathBuf,
}

impl Bootstrap {
    /// Waits for the bootstrap to ask for an event: when it asked, and where the event goes.
    fn await_next(&mut self, api: &RuntimeApi) -> Result<(Instant, Sender<Invocation>)> {
        match self.message(api)? {
            Message::Next { at, reply } => Ok((at, reply)),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Hands `invocation` over and waits for its response: when it was handed over, when it was answered, and the
    /// answer.
    fn invoke(
        &mut self,
        api: &RuntimeApi,
        reply: Sender<Invocation>,
        invocation: Invocation,
    ) -> Result<(Instant, Instant, Vec<u8>)> {
        let id = invocation.request_id.clone();
        let sent = Instant::now();
        reply
            .send(invocation)
            .map_err(|_| "the runtime API connection closed before the event was handed over")?;
        match self.message(api)? {
            Message::Response {
                at,
                request_id,
                payload,
            } if request_id == id => Ok((sent, at, payload)),
            other => Err(self.unexpected(&other)),
        }
    }

    /// [`Events::check`], with the bootstrap's last log lines (which say why) when the answer is not a 2xx.
    fn check(&self, events: &mut Events, function: Function, payload: &[u8]) -> Result<()> {
        events
            .check(function, payload)
            .map_err(|error| format!("{error}{}", self.log_tail()).into())
    }

    fn message(&mut self, api: &RuntimeApi) -> Result<Message> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            match api.recv_timeout(POLL) {
                Ok(message) => return Ok(message),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err("the runtime API stopped".into()),
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("the bootstrap exited ({status}){}", self.log_tail()).into());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no call from the bootstrap within {STEP_TIMEOUT:?}{}",
                    self.log_tail()
                )
                .into());
            }
        }
    }

    fn unexpected(&self, message: &Message) -> Box<dyn std::error::Error> {
        let what = match message {
            Message::Next { .. } => "asked for an event while one was pending".to_owned(),
            Message::Response { request_id, .. } => {
                format!("answered {request_id}, not the pending event")
            }
            Message::Error { what, payload } => {
                format!("called {what}: {}", String::from_utf8_lossy(payload))
            }
        };
        format!("the bootstrap {what}{}", self.log_tail()).into()
    }

    /// The last lines the bootstrap logged, to explain a failure.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(8)..].join("\n");
        format!("\n--- {} ---\n{tail}", self.log.display())
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmHWM` of process `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .ok_or("no VmHWM in /proc/<pid>/status")?;
    let kib = line.trim().trim_end_matches("kB").trim();
    Ok(kib.parse()?)
}

/// The CPU time process `pid` has used so far, summed over its threads: each thread's time on a CPU, in
/// nanoseconds, is the first field of `/proc/<pid>/task/<tid>/schedstat` (the clock-tick counters of
/// `/proc/<pid>/stat` are too coarse for an init of a few ms). A thread that already exited is not counted; the
/// bootstraps start theirs (Tokio's workers) for good.
fn cpu_time(pid: u32) -> Result<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
        let on_cpu = stat.split_whitespace().next().ok_or("an empty schedstat")?;
        nanos += on_cpu.parse::<u64>()?;
    }
    Ok(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_peak_resident_set() {
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn cpu_time_counts_a_busy_process() {
        let mut busy = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let used = cpu_time(busy.id());
        let _ = busy.kill();
        let _ = busy.wait();
        // 300 ms of spinning gets well over 10 ms of CPU unless the machine is starved.
        let used = used.unwrap();
        assert!(used > Duration::from_millis(10), "{used:?}");
        assert!(used < Duration::from_secs(2), "{used:?}");
    }
}
