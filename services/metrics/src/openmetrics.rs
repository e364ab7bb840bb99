//! The SDK's collected metrics in the OpenMetrics 1.0 text format, for Prometheus to scrape.
//!
//! Names follow the OpenTelemetry-to-Prometheus compatibility rules: characters outside
//! `[a-zA-Z0-9_:]` become `_` (`http.server.request.duration` → `http_server_request_duration`),
//! the unit is appended (`_seconds` for `s`; none for annotations such as `{order}`), counters
//! end in `_total`, and the resource's attributes are one `target_info` series. Histogram
//! buckets carry the exemplars the kit kept ([`super::exemplars`]). Written here because the
//! `opentelemetry-prometheus` crate is not maintained for the 0.33 SDK and writes no exemplars.

use std::fmt::Write as _;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, HistogramDataPoint, Metric, MetricData, ResourceMetrics};

use super::exemplars::{Exemplars, series_key};

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Renders every metric of `collected`, with the exemplars kept in `exemplars`.
pub fn render(collected: &ResourceMetrics, exemplars: &Exemplars) -> String {
    let mut out = String::new();
    let resource: Vec<KeyValue> =
        collected.resource().iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect();
    if !resource.is_empty() {
        out.push_str("# TYPE target info\n# HELP target The entity that produced these metrics.\n");
        let _ = writeln!(out, "target_info{} 1", labels(&resource, None));
    }
    for scope in collected.scope_metrics() {
        for metric in scope.metrics() {
            match metric.data() {
                AggregatedMetrics::F64(data) => family(&mut out, metric, data, exemplars),
                AggregatedMetrics::U64(data) => family(&mut out, metric, data, exemplars),
                AggregatedMetrics::I64(data) => family(&mut out, metric, data, exemplars),
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// A number as OpenMetrics writes it.
trait Sample: Copy {
    fn as_f64(self) -> f64;
}

impl Sample for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

impl Sample for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Sample for i64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

fn family<T: Sample>(out: &mut String, metric: &Metric, data: &MetricData<T>, exemplars: &Exemplars) {
    let name = prometheus_name(metric.name(), metric.unit());
    match data {
        MetricData::Sum(sum) if sum.is_monotonic() => {
            header(out, &name, "counter", metric.description());
            for point in sum.data_points() {
                let attributes: Vec<KeyValue> = point.attributes().cloned().collect();
                let _ = writeln!(out, "{name}_total{} {}", labels(&attributes, None), number(point.value().as_f64()));
            }
        }
        MetricData::Sum(sum) => {
            header(out, &name, "gauge", metric.description());
            for point in sum.data_points() {
                let attributes: Vec<KeyValue> = point.attributes().cloned().collect();
                let _ = writeln!(out, "{name}{} {}", labels(&attributes, None), number(point.value().as_f64()));
            }
        }
        MetricData::Gauge(gauge) => {
            header(out, &name, "gauge", metric.description());
            for point in gauge.data_points() {
                let attributes: Vec<KeyValue> = point.attributes().cloned().collect();
                let _ = writeln!(out, "{name}{} {}", labels(&attributes, None), number(point.value().as_f64()));
            }
        }
        MetricData::Histogram(histogram) => {
            header(out, &name, "histogram", metric.description());
            for point in histogram.data_points() {
                histogram_point(out, &name, metric.name(), point, exemplars);
            }
        }
        // The kit creates no exponential histograms (no view asks for them).
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn histogram_point<T: Sample>(
    out: &mut String,
    name: &str,
    otel_name: &str,
    point: &HistogramDataPoint<T>,
    exemplars: &Exemplars,
) {
    let attributes: Vec<KeyValue> = point.attributes().cloned().collect();
    let series = series_key(attributes.iter());
    let bounds: Vec<f64> = point.bounds().collect();
    let mut cumulative = 0u64;
    for (index, count) in point.bucket_counts().enumerate() {
        cumulative += count;
        let le = bounds.get(index).map_or_else(|| "+Inf".to_owned(), |b| number(*b));
        let _ = write!(out, "{name}_bucket{} {cumulative}", labels(&attributes, Some(&le)));
        if let Some(exemplar) = exemplars.get(otel_name, &series, index) {
            let _ = write!(
                out,
                " # {{trace_id=\"{}\"}} {} {:.3}",
                exemplar.trace_id,
                number(exemplar.value),
                exemplar.timestamp
            );
        }
        out.push('\n');
    }
    let plain = labels(&attributes, None);
    let _ = writeln!(out, "{name}_sum{plain} {}", number(point.sum().as_f64()));
    let _ = writeln!(out, "{name}_count{plain} {}", point.count());
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# TYPE {name} {kind}");
    if !help.is_empty() {
        let _ = writeln!(out, "# HELP {name} {}", escape(help));
    }
}

/// The Prometheus name of an OpenTelemetry metric with its unit.
pub fn prometheus_name(name: &str, unit: &str) -> String {
    let mut out = sanitize(name);
    let suffix = match unit {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "1" => "ratio",
        _ => "",
    };
    if !suffix.is_empty() && !out.ends_with(suffix) {
        out.push('_');
        out.push_str(suffix);
    }
    out
}

/// Replaces every character Prometheus does not allow in a name with `_`.
pub fn sanitize(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' }).collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `{key="value",...}` with sanitised keys, plus `le` for a bucket; empty without labels.
fn labels(attributes: &[KeyValue], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = attributes
        .iter()
        .map(|kv| format!("{}=\"{}\"", sanitize(kv.key.as_str()), escape(&kv.value.as_str())))
        .collect();
    pairs.sort();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() { String::new() } else { format!("{{{}}}", pairs.join(",")) }
}

/// A number as OpenMetrics expects it (integers without a fraction, `+Inf`/`NaN` spelt out).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() }
    } else {
        format!("{value}")
    }
}

/// Escapes a label value or help text as the exposition format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_compatibility_rules() {
        assert_eq!(prometheus_name("http.server.request.duration", "s"), "http_server_request_duration_seconds");
        assert_eq!(prometheus_name("microshop.orders.placed", "{order}"), "microshop_orders_placed");
        assert_eq!(prometheus_name("queue.size_bytes", "By"), "queue_size_bytes");
        assert_eq!(sanitize("9lives.x-y"), "_9lives_x_y");
    }

    #[test]
    fn label_values_are_escaped_and_keys_sanitised() {
        let attributes = [KeyValue::new("http.route", "/a\"b\\c\n")];
        assert_eq!(labels(&attributes, Some("0.5")), "{http_route=\"/a\\\"b\\\\c\\n\",le=\"0.5\"}");
        assert_eq!(labels(&[], None), "");
    }
}
