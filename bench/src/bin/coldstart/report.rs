//! What one cold start measured, and the markdown table that sums up the runs.

use std::fmt::Write as _;
use std::time::Duration;

/// The most a function's resident set may peak at (issue 16): 64 MiB.
pub const PEAK_LIMIT_KIB: u64 = 64 * 1024;

/// One cold start of one bootstrap, with its warm invocations.
#[derive(Debug, Clone)]
pub struct Sample {
    /// From just before the spawn to the runtime's first `GET .../invocation/next`: process start, configuration,
    /// SDK client, hasher and keys.
    pub ready: Duration,
    /// The CPU time the bootstrap had used by then, over all its threads: the part of `ready` that a smaller CPU
    /// share slows down (the rest is exec, page-ins and the harness's own answer).
    pub ready_cpu: Duration,
    /// From just before the spawn to the first `POST .../response`.
    pub first_response: Duration,
    /// From handing over the first event to its response: lazy set-up (the first connection to DynamoDB) included.
    pub first_invocation: Duration,
    /// The same for each later invocation, in order; the first of them is the second invocation.
    pub warm: Vec<Duration>,
    /// `VmHWM` after every invocation: the peak resident set, in KiB.
    pub peak_rss_kib: u64,
}

/// Every sample of one function.
pub struct FunctionReport {
    pub name: &'static str,
    pub bootstrap_bytes: u64,
    pub samples: Vec<Sample>,
}

/// The table, with a line saying what was measured and how.
pub fn markdown(reports: &[FunctionReport], context: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{context}\n");
    text.push_str(
        "| function | bootstrap | exec → /next | init CPU | exec → 1st response | 1st invocation | 2nd invocation | \
         later invocations | VmHWM p50 / max |\n",
    );
    text.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for report in reports {
        let pick = |f: fn(&Sample) -> Duration| -> Vec<Duration> {
            report.samples.iter().map(f).collect()
        };
        let second: Vec<Duration> = report
            .samples
            .iter()
            .filter_map(|s| s.warm.first().copied())
            .collect();
        let later: Vec<Duration> = report
            .samples
            .iter()
            .flat_map(|s| s.warm.iter().skip(1).copied())
            .collect();
        let mut peaks: Vec<u64> = report.samples.iter().map(|s| s.peak_rss_kib).collect();
        peaks.sort_unstable();
        let _ = writeln!(
            text,
            "| {} | {:.1} MiB | {} | {} | {} | {} | {} | {} | {} / {} |",
            report.name,
            mib(report.bootstrap_bytes, 1024 * 1024),
            summary(pick(|s| s.ready)),
            summary(pick(|s| s.ready_cpu)),
            summary(pick(|s| s.first_response)),
            summary(pick(|s| s.first_invocation)),
            summary(second),
            summary(later),
            kib_as_mib(percentile(&peaks, 50)),
            kib_as_mib(peaks.last().copied()),
        );
    }
    // Issue 16: every function's peak under 64 MiB after its warm invocations.
    let over: Vec<String> = reports
        .iter()
        .filter_map(|report| {
            let peak = report.samples.iter().map(|s| s.peak_rss_kib).max()?;
            (peak > PEAK_LIMIT_KIB).then(|| format!("{} ({})", report.name, kib_as_mib(Some(peak))))
        })
        .collect();
    let _ = writeln!(
        text,
        "\nPeak memory target (VmHWM ≤ {} after every run): {}",
        kib_as_mib(Some(PEAK_LIMIT_KIB)),
        if over.is_empty() {
            "met by every function".to_owned()
        } else {
            format!("**missed** by {}", over.join(", "))
        }
    );
    text.push_str(
        "\nTimes in ms as p50 / p90 / min over every run (later invocations: over all of them). exec → /next is \
         process start to the runtime's first request for an event (configuration, SDK client, hasher, keys); \
         init CPU is the CPU time the process had used by then, over all its threads (what a smaller CPU share \
         slows down); \
         1st invocation is event handed over → response, so it includes lazy set-up such as the first DynamoDB \
         connection; VmHWM is the peak resident set after the last invocation.\n",
    );
    text
}

/// `p50 / p90 / min` in milliseconds.
fn summary(mut values: Vec<Duration>) -> String {
    if values.is_empty() {
        return "–".to_owned();
    }
    values.sort_unstable();
    let [p50, p90, min] = [
        percentile(&values, 50),
        percentile(&values, 90),
        values.first().copied(),
    ]
    .map(|d| ms(d.unwrap_or_default()));
    format!("{p50} / {p90} / {min}")
}

/// Nearest-rank percentile of sorted `values`.
pub fn percentile<T: Copy>(sorted: &[T], p: usize) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}

/// `amount` in units of `unit`; exact enough for sizes of a few MiB.
fn mib(amount: u64, unit: u64) -> f64 {
    amount as f64 / unit as f64
}

fn kib_as_mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "–".to_owned(),
        |kib| format!("{:.1} MiB", mib(kib, 1024)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<u32> = (1..=20).collect();
        assert_eq!(percentile(&values, 50), Some(10));
        assert_eq!(percentile(&values, 90), Some(18));
        assert_eq!(percentile(&values, 100), Some(20));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile::<u32>(&[], 50), None);
    }

    #[test]
    fn the_table_has_a_row_per_function() {
        let sample = Sample {
            ready: Duration::from_millis(3),
            ready_cpu: Duration::from_millis(2),
            first_response: Duration::from_millis(9),
            first_invocation: Duration::from_millis(6),
            warm: vec![Duration::from_millis(2), Duration::from_millis(1)],
            peak_rss_kib: 10 * 1024,
        };
        let report = FunctionReport {
            name: "auth",
            bootstrap_bytes: 3 * 1024 * 1024,
            samples: vec![sample],
        };
        let table = markdown(&[report], "context");
        assert!(
            table.contains(
                "| auth | 3.0 MiB | 3.00 / 3.00 / 3.00 | 2.00 / 2.00 / 2.00 | 9.00 / 9.00 / 9.00 |"
            ),
            "{table}"
        );
        assert!(table.contains("| 10.0 MiB / 10.0 MiB |"), "{table}");
        assert!(table.contains("met by every function"), "{table}");
    }
}
