//! Prometheus metrics for HTTP traffic: request count and latency by method, route and status.
//!
//! Hand-written rather than taken from poem's `prometheus` feature, which would pull a second
//! OpenTelemetry version into the tree. The route label is the route template
//! (`/products/:id`), never the raw path, so label cardinality stays bounded.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Duration};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
}

/// Label values of one series.
type Labels = (String, String, u16);

/// Request metrics of one server, rendered in the Prometheus text format.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    series: Mutex<BTreeMap<Labels, Series>>,
}

impl HttpMetrics {
    /// Records one finished request.
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(BUCKETS.len());
        // A poisoned lock only means another thread panicked mid-update of counters; the
        // data is still usable, so keep counting rather than propagate the panic.
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let entry = series.entry((method.to_owned(), route.to_owned(), status)).or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        entry.buckets[bucket] += 1;
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut out = String::new();
        out.push_str("# HELP http_requests_total HTTP requests served, by method, route template and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, route, status), s) in &series {
            let _ = writeln!(out, "http_requests_total{{{}}} {}", labels(method, route, *status), s.count);
        }
        out.push_str(
            "# HELP http_request_duration_seconds HTTP request latency, by method, route template and status.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &series {
            let l = labels(method, route, *status);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i];
                let _ = writeln!(out, "http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}");
            }
            cumulative += s.buckets[BUCKETS.len()];
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {cumulative}");
            let _ = writeln!(out, "http_request_duration_seconds_sum{{{l}}} {}", s.sum_seconds);
            let _ = writeln!(out, "http_request_duration_seconds_count{{{l}}} {}", s.count);
        }
        out
    }
}

fn labels(method: &str, route: &str, status: u16) -> String {
    format!("method=\"{}\",route=\"{}\",status=\"{status}\"", escape(method), escape(route))
}

/// Escapes a label value as the exposition format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_cumulative_per_series() {
        let metrics = HttpMetrics::default();
        metrics.record("GET", "/products/:id", 200, Duration::from_millis(3));
        metrics.record("GET", "/products/:id", 200, Duration::from_millis(300));
        metrics.record("GET", "/products/:id", 404, Duration::from_secs(10));
        let text = metrics.render();
        let base = "method=\"GET\",route=\"/products/:id\"";
        assert!(text.contains(&format!("http_requests_total{{{base},status=\"200\"}} 2")), "{text}");
        assert!(
            text.contains(&format!("http_request_duration_seconds_bucket{{{base},status=\"200\",le=\"0.005\"}} 1")),
            "{text}"
        );
        assert!(
            text.contains(&format!("http_request_duration_seconds_bucket{{{base},status=\"200\",le=\"0.5\"}} 2")),
            "{text}"
        );
        assert!(
            text.contains(&format!("http_request_duration_seconds_bucket{{{base},status=\"404\",le=\"5\"}} 0")),
            "{text}"
        );
        assert!(
            text.contains(&format!("http_request_duration_seconds_bucket{{{base},status=\"404\",le=\"+Inf\"}} 1")),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
