//! Per-operation counts and latencies, and the tables made of them.
//!
//! Latencies are kept whole (one `u32` of microseconds per request) rather than in buckets:
//! a run of minutes at tens of requests per second is a few megabytes, and exact percentiles
//! are worth that. A run without an end resets its window at every periodic report.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How an answer counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// What a shopper may meet in a healthy shop (including declines and sold-out refusals).
    Expected,
    /// A failure of the shop: a 5xx, a timeout, a refusal the shopper did not cause. The text
    /// names it for the report (`503`, `timeout`, ...).
    Unexpected(String),
}

#[derive(Debug, Default)]
struct Operation {
    latencies_us: Vec<u32>,
    unexpected: HashMap<String, u64>,
}

/// What every shopper records into; shared by reference.
#[derive(Debug)]
pub struct Stats {
    window: Mutex<(Instant, BTreeMap<&'static str, Operation>)>,
}

impl Default for Stats {
    fn default() -> Self {
        Self { window: Mutex::new((Instant::now(), BTreeMap::new())) }
    }
}

/// One operation's line of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Operation name, e.g. `search`.
    pub operation: &'static str,
    /// Requests made.
    pub requests: u64,
    /// Requests with an unexpected answer.
    pub errors: u64,
    /// The most frequent unexpected answer, with its count.
    pub top_error: Option<(String, u64)>,
    /// Latency percentiles (50, 95, 99).
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
}

/// The figures of one window of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// How long the window lasted.
    pub elapsed: Duration,
    /// One row per operation, by name.
    pub rows: Vec<Row>,
}

impl Stats {
    /// Records one request.
    pub fn record(&self, operation: &'static str, latency: Duration, outcome: Outcome) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let entry = window.1.entry(operation).or_default();
        entry.latencies_us.push(micros);
        if let Outcome::Unexpected(kind) = outcome {
            *entry.unexpected.entry(kind).or_default() += 1;
        }
    }

    /// Requests and unexpected answers so far in this window, for the live line.
    pub fn totals(&self) -> (u64, u64, Duration) {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let requests = window.1.values().map(|o| o.latencies_us.len() as u64).sum();
        let errors = window.1.values().flat_map(|o| o.unexpected.values()).sum();
        (requests, errors, window.0.elapsed())
    }

    /// The report of the window so far.
    pub fn report(&self) -> Report {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        report_of(window.0.elapsed(), &window.1)
    }

    /// The report of the window so far, and a new window.
    pub fn report_and_reset(&self) -> Report {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let report = report_of(window.0.elapsed(), &window.1);
        *window = (Instant::now(), BTreeMap::new());
        report
    }
}

fn report_of(elapsed: Duration, operations: &BTreeMap<&'static str, Operation>) -> Report {
    let rows = operations
        .iter()
        .map(|(name, op)| {
            let mut sorted = op.latencies_us.clone();
            sorted.sort_unstable();
            let top_error = op.unexpected.iter().max_by_key(|(kind, n)| (**n, std::cmp::Reverse((*kind).clone())));
            Row {
                operation: name,
                requests: sorted.len() as u64,
                errors: op.unexpected.values().sum(),
                top_error: top_error.map(|(kind, n)| (kind.clone(), *n)),
                p50: percentile(&sorted, 50.0),
                p95: percentile(&sorted, 95.0),
                p99: percentile(&sorted, 99.0),
            }
        })
        .collect();
    Report { elapsed, rows }
}

/// The nearest-rank percentile of sorted microsecond samples.
fn percentile(sorted_us: &[u32], pct: f64) -> Duration {
    if sorted_us.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((pct / 100.0) * sorted_us.len() as f64).ceil() as usize;
    Duration::from_micros(u64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]))
}

impl Report {
    /// All requests of the window.
    pub fn requests(&self) -> u64 {
        self.rows.iter().map(|r| r.requests).sum()
    }

    /// All unexpected answers of the window.
    pub fn unexpected(&self) -> u64 {
        self.rows.iter().map(|r| r.errors).sum()
    }

    /// The report as a Markdown table (readable as is on a terminal), with a total line.
    pub fn to_markdown(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(f64::EPSILON);
        let mut out = String::new();
        let _ =
            writeln!(out, "| operation | requests | errors | req/s | p50 ms | p95 ms | p99 ms | most frequent error |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|");
        for row in &self.rows {
            let top = row.top_error.as_ref().map(|(kind, n)| format!("{kind} x{n}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {} | {} | {} | {} |",
                row.operation,
                row.requests,
                row.errors,
                row.requests as f64 / secs,
                ms(row.p50),
                ms(row.p95),
                ms(row.p99),
                top
            );
        }
        let _ = writeln!(
            out,
            "| **all** | {} | {} | {:.1} | | | | |",
            self.requests(),
            self.unexpected(),
            self.requests() as f64 / secs
        );
        out
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 95.0), Duration::from_millis(95));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[7000], 99.0), Duration::from_millis(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn rows_count_requests_and_unexpected_answers_per_operation() {
        let stats = Stats::default();
        for _ in 0..3 {
            stats.record("pay", Duration::from_millis(10), Outcome::Expected);
        }
        stats.record("pay", Duration::from_millis(40), Outcome::Unexpected("503".into()));
        stats.record("pay", Duration::from_millis(40), Outcome::Unexpected("503".into()));
        stats.record("pay", Duration::from_millis(900), Outcome::Unexpected("timeout".into()));
        stats.record("search", Duration::from_millis(5), Outcome::Expected);

        let report = stats.report_and_reset();
        assert_eq!(report.requests(), 7);
        assert_eq!(report.unexpected(), 3);
        let pay = &report.rows[0];
        assert_eq!((pay.operation, pay.requests, pay.errors), ("pay", 6, 3));
        assert_eq!(pay.top_error, Some(("503".to_owned(), 2)));
        assert_eq!(pay.p99, Duration::from_millis(900));
        let table = report.to_markdown();
        assert!(table.contains("| pay | 6 | 3 |"), "{table}");
        assert!(table.contains("503 x2"), "{table}");
        assert_eq!(stats.report().requests(), 0, "the window was reset");
    }
}
