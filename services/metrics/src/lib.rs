//! `shopmetrics`: the one metrics stack of microshop, for the services (through `shopkit`) and
//! the operator alike.
//!
//! Instruments are the OpenTelemetry metrics SDK's. A [`Metrics`] is a meter provider with a
//! manual reader that `/metrics` collects through on each scrape, rendered by [`openmetrics`]
//! as OpenMetrics text whose histogram buckets carry the exemplars kept in [`exemplars`]; the
//! services add a periodic OTLP reader beside it when an endpoint is set.
//!
//! Why the OpenTelemetry SDK rather than `prometheus-client` (which the operator used before):
//! the instrument names and attributes are the semantic conventions' own, OTLP export needs no
//! bridge, and a platform team gets the same names from Prometheus and from an OTLP backend.
//! `prometheus-client` would have given exemplars, but no OTLP; the SDK gives OTLP, and the
//! exemplars (which the Rust SDK does not sample yet) are kept here, beside it.

pub mod exemplars;
pub mod openmetrics;

use std::{sync::Arc, time::Duration};

use opentelemetry::{
    KeyValue,
    metrics::{Meter, MeterProvider as _},
};
use opentelemetry_sdk::{
    Resource,
    error::{OTelSdkError, OTelSdkResult},
    metrics::{
        InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality, data::ResourceMetrics,
        reader::MetricReader,
    },
};

use exemplars::Exemplars;

/// Histogram bounds (seconds) for request, database and reconcile durations. The conventions
/// advise 5 ms to 10 s; most of this shop's requests take 1-5 ms, so the low end is finer.
pub const DURATION_BOUNDS: [f64; 15] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The manual reader, shared: the provider owns one handle, `/metrics` collects through another.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: std::sync::Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// A meter provider read by `/metrics` (and pushed elsewhere by the readers it was given).
pub struct Metrics {
    provider: SdkMeterProvider,
    reader: SharedReader,
    exemplars: Exemplars,
}

impl Metrics {
    /// A provider whose metrics carry `resource`, read on demand by [`Metrics::render`], and
    /// by `push` too when given (the services' OTLP reader).
    pub fn new(resource: Resource, push: Option<impl MetricReader>) -> Self {
        let reader = SharedReader(Arc::new(ManualReader::builder().with_temporality(Temporality::Cumulative).build()));
        let mut builder = SdkMeterProvider::builder().with_resource(resource).with_reader(reader.clone());
        if let Some(push) = push {
            builder = builder.with_reader(push);
        }
        Self { provider: builder.build(), reader, exemplars: Exemplars::default() }
    }

    /// The provider, for the owner that shuts it down (flushing the push reader).
    pub fn provider(&self) -> &SdkMeterProvider {
        &self.provider
    }

    /// A meter of this provider, named after what instruments with it.
    pub fn meter(&self, scope: &'static str) -> Meter {
        self.provider.meter(scope)
    }

    /// Keeps `value` of the histogram `metric` (bucketed by `bounds`) as its bucket's exemplar,
    /// with the trace it was measured in.
    pub fn keep_exemplar(
        &self,
        metric: &'static str,
        attributes: &[KeyValue],
        bounds: &[f64],
        value: f64,
        trace_id: String,
    ) {
        self.exemplars.keep(metric, attributes, bounds, value, trace_id);
    }

    /// Every metric, as OpenMetrics text.
    pub fn render(&self) -> Result<String, OTelSdkError> {
        let mut collected = ResourceMetrics::default();
        self.reader.collect(&mut collected)?;
        Ok(openmetrics::render(&collected, &self.exemplars))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruments_render_with_their_units_attributes_and_exemplars() {
        let metrics = Metrics::new(
            Resource::builder_empty().with_service_name("test").build(),
            None::<opentelemetry_sdk::metrics::ManualReader>,
        );
        let meter = metrics.meter("test");
        let counter = meter.u64_counter("shop.things.done").with_unit("{thing}").build();
        counter.add(2, &[KeyValue::new("shop.reason", "a")]);
        let histogram = meter.f64_histogram("op.duration").with_unit("s").with_boundaries(vec![0.1, 1.0]).build();
        let attributes = [KeyValue::new("op.name", "x")];
        histogram.record(0.05, &attributes);
        metrics.keep_exemplar("op.duration", &attributes, &[0.1, 1.0], 0.05, "ab".repeat(16));
        let text = metrics.render().expect("render");
        assert!(text.contains("target_info{service_name=\"test\"} 1"), "{text}");
        assert!(text.contains("# TYPE shop_things_done counter"), "{text}");
        assert!(text.contains("shop_things_done_total{shop_reason=\"a\"} 2"), "{text}");
        assert!(text.contains("# TYPE op_duration_seconds histogram"), "{text}");
        let bucket = text.lines().find(|l| l.starts_with("op_duration_seconds_bucket{op_name=\"x\",le=\"0.1\"}"));
        let bucket = bucket.unwrap_or_else(|| panic!("bucket line in {text}"));
        assert!(
            bucket.starts_with("op_duration_seconds_bucket{op_name=\"x\",le=\"0.1\"} 1 # {trace_id=\""),
            "{bucket}"
        );
        assert!(text.contains("op_duration_seconds_bucket{op_name=\"x\",le=\"+Inf\"} 1\n"), "{text}");
        assert!(text.contains("op_duration_seconds_count{op_name=\"x\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
