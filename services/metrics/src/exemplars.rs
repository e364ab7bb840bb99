//! Exemplars: for each histogram bucket of each series, the last measurement that fell in it
//! and the trace it belongs to, so a slow bucket on a dashboard leads to a trace in Jaeger.
//!
//! The OpenTelemetry Rust SDK (0.33) keeps no exemplars of its own (its data points carry an
//! always-empty list), so the kit keeps them beside the SDK's aggregation, keyed the way the
//! renderer finds them again: metric name, the series' attributes, bucket index.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use opentelemetry::KeyValue;

/// One kept measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// Lowercase hex trace id (32 characters).
    pub trace_id: String,
    pub value: f64,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
}

/// The series key: the attributes as `key=value` pairs in key order.
pub fn series_key<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> String {
    let mut pairs: Vec<String> = attributes.map(|kv| format!("{}={}", kv.key.as_str(), kv.value.as_str())).collect();
    pairs.sort();
    pairs.join("\u{1f}")
}

/// The exemplars of one series, by bucket index.
type SeriesExemplars = HashMap<usize, Exemplar>;

/// The latest exemplar per metric, series and bucket.
#[derive(Debug, Default)]
pub struct Exemplars {
    /// Metric name → series key → bucket index → exemplar.
    kept: Mutex<HashMap<&'static str, HashMap<String, SeriesExemplars>>>,
}

impl Exemplars {
    /// Keeps `value` (traced by `trace_id`) as the exemplar of its bucket among `bounds`.
    pub fn keep(&self, metric: &'static str, attributes: &[KeyValue], bounds: &[f64], value: f64, trace_id: String) {
        let bucket = bucket_of(bounds, value);
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.entry(metric)
            .or_default()
            .entry(series_key(attributes.iter()))
            .or_default()
            .insert(bucket, Exemplar { trace_id, value, timestamp });
    }

    /// The exemplar of one bucket of one series, if a traced measurement fell in it.
    pub fn get(&self, metric: &str, series: &str, bucket: usize) -> Option<Exemplar> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(metric)?.get(series)?.get(&bucket).cloned()
    }
}

/// The index of the bucket `value` falls in: the first bound it does not exceed, or the
/// overflow bucket (`+Inf`) past the last. Upper bounds are inclusive, as in the SDK.
pub fn bucket_of(bounds: &[f64], value: f64) -> usize {
    bounds.iter().position(|bound| value <= *bound).unwrap_or(bounds.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_the_first_bound_not_exceeded() {
        let bounds = [0.01, 0.1, 1.0];
        assert_eq!(bucket_of(&bounds, 0.005), 0);
        assert_eq!(bucket_of(&bounds, 0.01), 0, "upper bounds are inclusive");
        assert_eq!(bucket_of(&bounds, 0.5), 2);
        assert_eq!(bucket_of(&bounds, 7.0), 3, "past the last bound: +Inf");
    }

    #[test]
    fn the_latest_measurement_of_a_bucket_is_kept_per_series() {
        let exemplars = Exemplars::default();
        let get = [KeyValue::new("http.request.method", "GET")];
        let post = [KeyValue::new("http.request.method", "POST")];
        exemplars.keep("d", &get, &[0.1], 0.05, "a".repeat(32));
        exemplars.keep("d", &get, &[0.1], 0.07, "b".repeat(32));
        exemplars.keep("d", &post, &[0.1], 3.0, "c".repeat(32));
        let series = series_key(get.iter());
        assert_eq!(exemplars.get("d", &series, 0).map(|e| e.trace_id), Some("b".repeat(32)));
        assert_eq!(exemplars.get("d", &series, 1), None);
        assert_eq!(exemplars.get("d", &series_key(post.iter()), 1).map(|e| e.value), Some(3.0));
    }
}
