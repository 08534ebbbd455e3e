//! wrk, the load generator, with its script (`bench.lua`), and the figures of each of its runs: parsed from the
//! script's `BENCH` line, kept as one tab-separated line per route and backend, and laid out as the report's table.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;

use crate::{Result, Settings};

/// The script wrk runs for every route; its arguments choose the request.
pub const SCRIPT: &str = include_str!("bench.lua");

/// One route on one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub route: String,
    pub backend: String,
    pub rps: String,
    pub p50_ms: String,
    pub p99_ms: String,
    pub requests: u64,
    pub non2xx: u64,
    pub emulator_errors: u64,
    /// The functions' 503s: their storage did not answer within its budget.
    pub unavailable: u64,
    pub socket_errors: u64,
    /// Threads whose pre-made credentials ran out before the end: then req/s is too low (a lower bound).
    pub spent: u64,
    /// The size of one successful answer's body.
    pub bytes: u64,
}

/// One wrk run: the row's route and backend, and the URL it sends to (the route's path, its `{id}` filled in).
pub struct Run<'a> {
    pub backend: &'a str,
    pub route: &'a str,
    pub url: String,
}

impl<'a> Run<'a> {
    /// `route`'s own path under `base_url`.
    pub fn at(backend: &'a str, route: &'a str, base_url: &str) -> Self {
        let path = route.split_once(' ').map_or(route, |(_, path)| path);
        Self {
            backend,
            route,
            url: format!("{base_url}{path}"),
        }
    }
}

/// Drives `run`'s URL with wrk and the script at `script`, passing `args` to it. wrk's own output goes to standard
/// error.
pub fn measure(
    settings: &Settings,
    script: &Path,
    run: &Run,
    args: &[&str],
    terminated: &AtomicBool,
) -> Result<Figures> {
    let Run {
        backend,
        route,
        url,
    } = run;
    eprintln!("bench-http: {backend}: {route} for {}", settings.duration);
    let mut child = Command::new("wrk")
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}", settings.duration))
        .args(["--timeout", "10s", "--latency", "-s"])
        .arg(script)
        .arg(url)
        .arg("--")
        .args(args)
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run wrk ({e}): install it (apt-get install wrk)"))?;
    let stdout = child.stdout.take().ok_or("wrk has no standard output")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout));
    let status = vimcar_emulator::wait_unless_terminated(&mut child, terminated)?
        .ok_or("stopped by a signal")?;
    let output = reader.join().map_err(|_| "reading wrk's output")??;
    std::io::stderr().write_all(output.as_bytes())?;
    if !status.success() {
        return Err(format!("wrk failed ({status})").into());
    }
    let line = output
        .lines()
        .find(|line| line.starts_with("BENCH "))
        .ok_or("no figures from wrk")?;
    parse(line, route, backend)
}

/// `BENCH requests=N rps=X p50_ms=X p99_ms=X non2xx=N emulator_errors=N unavailable=N socket_errors=N spent=N
/// bytes=N`, as
/// `done()` prints it.
fn parse(line: &str, route: &str, backend: &str) -> Result<Figures> {
    let field = |name: &str| -> Result<&str> {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .ok_or_else(|| format!("no {name} in wrk's figures: {line}").into())
    };
    let count = |name: &str| -> Result<u64> {
        field(name)?
            .parse()
            .map_err(|_| format!("{name} is not a count: {line}").into())
    };
    Ok(Figures {
        route: route.to_owned(),
        backend: backend.to_owned(),
        rps: field("rps")?.to_owned(),
        p50_ms: field("p50_ms")?.to_owned(),
        p99_ms: field("p99_ms")?.to_owned(),
        requests: count("requests")?,
        non2xx: count("non2xx")?,
        emulator_errors: count("emulator_errors")?,
        unavailable: count("unavailable")?,
        socket_errors: count("socket_errors")?,
        spent: count("spent")?,
        bytes: count("bytes")?,
    })
}

impl Figures {
    /// One tab-separated line: route, backend, req/s, p50, p99, requests, non-2xx, emulator 500s, 503s, socket
    /// errors, spent threads, body bytes.
    pub fn tsv(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.route,
            self.backend,
            self.rps,
            self.p50_ms,
            self.p99_ms,
            self.requests,
            self.non2xx,
            self.emulator_errors,
            self.unavailable,
            self.socket_errors,
            self.spent,
            self.bytes
        )
    }

    fn from_tsv(line: &str) -> Result<Self> {
        let fields: Vec<&str> = line.split('\t').collect();
        let [
            route,
            backend,
            rps,
            p50,
            p99,
            requests,
            non2xx,
            emulator,
            unavailable,
            socket,
            spent,
            bytes,
        ] = fields[..]
        else {
            return Err(format!("not a line of figures: {line}").into());
        };
        Ok(Self {
            route: route.to_owned(),
            backend: backend.to_owned(),
            rps: rps.to_owned(),
            p50_ms: p50.to_owned(),
            p99_ms: p99.to_owned(),
            requests: requests.parse()?,
            non2xx: non2xx.parse()?,
            emulator_errors: emulator.parse()?,
            unavailable: unavailable.parse()?,
            socket_errors: socket.parse()?,
            spent: spent.parse()?,
            bytes: bytes.parse()?,
        })
    }
}

/// Appends `figures` to the results file, one line each.
pub fn append(results: &Path, figures: &[Figures]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(results)?;
    for figures in figures {
        writeln!(file, "{}", figures.tsv())?;
    }
    Ok(())
}

/// Every line of the results file.
pub fn read(results: &Path) -> Result<Vec<Figures>> {
    std::fs::read_to_string(results)
        .map_err(|e| format!("{}: {e}", results.display()))?
        .lines()
        .filter(|line| !line.is_empty())
        .map(Figures::from_tsv)
        .collect()
}

/// The backend label of the Flask original's rows.
pub const FLASK: &str = "flask-original";

/// What a row measures, by route: one request of each kind, as its row sends it.
fn what(route: &str) -> &'static str {
    match route {
        "POST /api/users" => "a new user per request (Argon2 hash, or bcrypt 13 for the original)",
        "GET /api/users" => "the default page: 100 users (the original: all of them)",
        "GET /api/users?limit=1000" => "a page of 1,000 users: the original's payload",
        "POST /auth" => "the same user logs in again (one password verification, a new session)",
        "POST /auth/refresh" => {
            "a live session refreshed once, with the token its last refresh gave"
        }
        "POST /auth/logout" => "a session ended by its refresh token, a fresh session per request",
        "GET /api/users/me" => "the caller's own account",
        "GET /api/users/{id}" => "another user by id",
        "POST /api/users/me/password" => {
            "a fresh account's password changed (verification, hash, new session)"
        }
        "DELETE /api/users/me" => "a fresh account deleted (verification, one transaction)",
        "GET /.well-known/jwks.json" => "the public keys",
        _ => "",
    }
}

/// The report's section: how it was measured, then a row per route and backend, then vimcar beside the original.
pub fn markdown(figures: &[Figures], settings: &Settings) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let mut text = format!(
        "End to end over HTTP on loopback: wrk -t{} -c{} -d{} through `cargo lambda watch` to\n\
         {} instance(s) of each function (release builds) on {cores} cores (load average {load}\n\
         after the runs); SQLite in a scratch file, DynamoDB on moto (one request at a time). POST /api/users runs first,\n\
         on a store holding one user, then the routes that spend credentials (made before each run); the others after {}\n\
         more users were stored. Latencies in ms; bytes: one answer's body. A req/s marked ≥ ran out of credentials.\n\
         `?limit=1000` runs on SQLite only, beside the original: on moto one such Query takes about the store's 5 s\n\
         budget (moto reads the whole table per Query), which measures moto (criterion's list_scaling has its pages).\n\
         503s: the functions answering that their storage missed its budget; on moto (one request at a time) a burst\n\
         of slow calls does that, and such a row is reported, not failed; on SQLite a 503 fails the run.\n\
         \n\
         | route | backend | what one request is | req/s | p50 ms | p99 ms | requests | bytes | non-2xx | 503s | emulator 500s | socket errors |\n\
         |---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
        settings.threads,
        settings.connections,
        settings.duration,
        settings.instances,
        settings.users
    );
    for f in figures {
        text.push_str(&format!(
            "| {} | {} | {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            f.route,
            f.backend,
            what(&f.route),
            if f.spent > 0 { "≥ " } else { "" },
            f.rps,
            f.p50_ms,
            f.p99_ms,
            f.requests,
            f.bytes,
            f.non2xx,
            f.unavailable,
            f.emulator_errors,
            f.socket_errors
        ));
    }
    let comparison = side_by_side(figures);
    if !comparison.is_empty() {
        text.push_str(&format!(
            "\nSide by side with the Flask original (gunicorn, 2 workers, SQLite, bcrypt 13 rounds), in the same run with \
             the same wrk settings, each\npair back to back; vimcar on SQLite. 1,000 users stored in each.\n\
             \n\
             | comparison | vimcar req/s | p50 ms | p99 ms | bytes | original req/s | p50 ms | p99 ms | bytes | ratio (req/s) | target | met |\n\
             |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n{comparison}"
        ));
    }
    text
}

/// vimcar's SQLite rows beside the original's: (what, vimcar's route, the original's route, the target ratio).
const COMPARISONS: &[(&str, &str, &str, Option<f64>)] = &[
    (
        "GET /api/users, equal payload (1,000 users each)",
        "GET /api/users?limit=1000",
        "GET /api/users",
        Some(20.0),
    ),
    (
        "GET /api/users, a page of 100 against all 1,000",
        "GET /api/users",
        "GET /api/users",
        None,
    ),
    ("POST /auth", "POST /auth", "POST /auth", Some(10.0)),
    (
        "POST /api/users",
        "POST /api/users",
        "POST /api/users",
        None,
    ),
];

fn side_by_side(figures: &[Figures]) -> String {
    let find = |route: &str, backend: &str| {
        figures
            .iter()
            .find(|f| f.route == route && f.backend == backend)
    };
    let mut text = String::new();
    for (label, ours, theirs, target) in COMPARISONS {
        let (Some(a), Some(b)) = (find(ours, "sqlite"), find(theirs, FLASK)) else {
            continue;
        };
        let ratio = match (a.rps.parse::<f64>(), b.rps.parse::<f64>()) {
            (Ok(x), Ok(y)) if y > 0.0 => Some(x / y),
            _ => None,
        };
        let (target_text, met) = match (target, ratio) {
            (Some(t), Some(r)) => (
                format!("≥ {t}×"),
                if r >= *t { "met" } else { "**missed**" }.to_owned(),
            ),
            (Some(t), None) => (format!("≥ {t}×"), "not measured".to_owned()),
            (None, _) => ("reported".to_owned(), String::new()),
        };
        text.push_str(&format!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {target_text} | {met} |\n",
            a.rps,
            a.p50_ms,
            a.p99_ms,
            a.bytes,
            b.rps,
            b.p50_ms,
            b.p99_ms,
            b.bytes,
            ratio.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}×")),
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_line_becomes_figures_and_survives_the_results_file() {
        let line = "BENCH requests=1200 rps=120.5 p50_ms=30.10 p99_ms=80.02 non2xx=0 unavailable=2 emulator_errors=3 \
                    socket_errors=1 spent=0 bytes=5120";
        let figures = parse(line, "GET /api/users", "sqlite").unwrap();
        assert_eq!(figures.requests, 1200);
        assert_eq!(figures.rps, "120.5");
        assert_eq!(figures.p99_ms, "80.02");
        assert_eq!(
            (
                figures.unavailable,
                figures.emulator_errors,
                figures.socket_errors
            ),
            (2, 3, 1)
        );
        assert_eq!(Figures::from_tsv(&figures.tsv()).unwrap(), figures);
        assert!(parse("BENCH requests=1", "GET /", "sqlite").is_err());
    }

    /// The settings of a default run on SQLite.
    fn settings() -> Settings {
        Settings {
            backends: vec!["sqlite".to_owned()],
            users: 1000,
            duration: "10s".to_owned(),
            threads: 2,
            connections: 4,
            instances: 2,
            flask: None,
        }
    }

    #[test]
    fn the_table_has_a_row_per_route_and_backend() {
        let settings = settings();
        let line = "BENCH requests=5 rps=1.0 p50_ms=1.00 p99_ms=2.00 non2xx=0 unavailable=0 emulator_errors=0 socket_errors=0 \
                    spent=1 bytes=300";
        let figures = parse(line, "POST /auth/logout", "dynamodb").unwrap();
        let table = markdown(&[figures], &settings);
        assert!(table.contains("wrk -t2 -c4 -d10s"), "{table}");
        assert!(
            table.ends_with(
                "| POST /auth/logout | dynamodb | a session ended by its refresh token, a fresh session per request \
                 | ≥ 1.0 | 1.00 | 2.00 | 5 | 300 | 0 | 0 | 0 | 0 |\n"
            ),
            "{table}"
        );
    }

    #[test]
    fn the_original_stands_beside_vimcar_with_the_ratio_and_the_target() {
        let settings = settings();
        let row = |route: &str, backend: &str, rps: &str| {
            let line = format!(
                "BENCH requests=5 rps={rps} p50_ms=1.00 p99_ms=2.00 non2xx=0 unavailable=0 emulator_errors=0 socket_errors=0 \
                 spent=0 bytes=10"
            );
            parse(&line, route, backend).unwrap()
        };
        let figures = [
            row("POST /auth", "sqlite", "40.0"),
            row("POST /auth", FLASK, "3.2"),
            row("GET /api/users?limit=1000", "sqlite", "500.0"),
            row("GET /api/users", FLASK, "50.0"),
        ];
        let table = markdown(&figures, &settings);
        assert!(
            table.contains("| POST /auth | 40.0 | 1.00 | 2.00 | 10 | 3.2 | 1.00 | 2.00 | 10 | 12.5× | ≥ 10× | met |"),
            "{table}"
        );
        assert!(table.contains("| 10.0× | ≥ 20× | **missed** |"), "{table}");
    }
}
