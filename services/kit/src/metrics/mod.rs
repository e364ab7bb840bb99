//! Metrics, through the OpenTelemetry metrics SDK: one set of instruments, read two ways.
//!
//! - Prometheus scrapes `/metrics` ([`render`]): a manual reader collects the SDK's cumulative
//!   state and [`openmetrics`] writes it as OpenMetrics text, histogram buckets carrying
//!   exemplars (trace ids) when the measurement was made inside a traced request.
//! - When an OTLP endpoint is set, a periodic reader pushes the same instruments over OTLP
//!   (see [`crate::telemetry`]), beside the traces and logs.
//!
//! Why the OpenTelemetry SDK and not `prometheus-client`: the names and attributes are the
//! semantic conventions' own (`http.server.request.duration`, `db.client.operation.duration`,
//! taken from the `opentelemetry-semantic-conventions` constants), and OTLP export needs no
//! bridge; `prometheus-client` would have given exemplars for free but no OTLP. The
//! instruments every service uses live here: HTTP server and client request durations,
//! database operation durations. Business counters are made with [`counter`].

pub mod business;
pub mod exemplars;
pub mod openmetrics;

use std::{
    sync::{Arc, LazyLock, OnceLock},
    time::Duration,
};

use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram, Meter, MeterProvider as _},
};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    metrics::{ManualReader, SdkMeterProvider, Temporality, data::ResourceMetrics, reader::MetricReader},
};
use opentelemetry_semantic_conventions::{attribute as attr, metric as names};

use exemplars::Exemplars;

/// Histogram bounds (seconds) for request and database durations. The conventions advise
/// 5 ms to 10 s; most of this shop's requests take 1-5 ms, so the low end is finer.
pub const DURATION_BOUNDS: [f64; 15] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The meter's instrumentation scope name.
const SCOPE: &str = "microshop";

/// The manual reader, shared: the provider owns one handle, `/metrics` collects through another.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: std::sync::Weak<opentelemetry_sdk::metrics::Pipeline>) {
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
    fn temporality(&self, kind: opentelemetry_sdk::metrics::InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// The process's metrics pipeline.
struct MetricsPipeline {
    provider: SdkMeterProvider,
    reader: SharedReader,
    exemplars: Exemplars,
}

static PIPELINE: OnceLock<MetricsPipeline> = OnceLock::new();

fn pipeline_with(
    resource: Resource,
    push: Option<opentelemetry_sdk::metrics::PeriodicReader<opentelemetry_otlp::MetricExporter>>,
) -> MetricsPipeline {
    let reader = SharedReader(Arc::new(ManualReader::builder().with_temporality(Temporality::Cumulative).build()));
    let mut builder = SdkMeterProvider::builder().with_resource(resource).with_reader(reader.clone());
    if let Some(push) = push {
        builder = builder.with_reader(push);
    }
    MetricsPipeline { provider: builder.build(), reader, exemplars: Exemplars::default() }
}

/// Sets the process's metrics pipeline: `resource` on every metric, and `push` (the OTLP
/// reader) beside `/metrics` when an endpoint is set. Called by [`crate::telemetry::init`]
/// before any instrument is made; a later call (tests) keeps the first pipeline.
pub(crate) fn install(
    resource: Resource,
    push: Option<opentelemetry_sdk::metrics::PeriodicReader<opentelemetry_otlp::MetricExporter>>,
) -> Option<SdkMeterProvider> {
    let mut installed = None;
    PIPELINE.get_or_init(|| {
        let pipeline = pipeline_with(resource, push);
        installed = Some(pipeline.provider.clone());
        pipeline
    });
    installed
}

fn pipeline() -> &'static MetricsPipeline {
    PIPELINE.get_or_init(|| pipeline_with(crate::telemetry::resource("unknown_service"), None))
}

/// The meter every instrument of the process is made from.
pub fn meter() -> Meter {
    pipeline().provider.meter(SCOPE)
}

/// A monotonic counter: a business event (`microshop.orders.placed`, unit `{order}`).
pub fn counter(name: &'static str, unit: &'static str, description: &'static str) -> Counter<u64> {
    meter().u64_counter(name).with_unit(unit).with_description(description).build()
}

/// Every metric of the process, as OpenMetrics text.
pub fn render() -> Result<String, opentelemetry_sdk::error::OTelSdkError> {
    let pipeline = pipeline();
    let mut collected = ResourceMetrics::default();
    pipeline.reader.collect(&mut collected)?;
    Ok(openmetrics::render(&collected, &pipeline.exemplars))
}

/// The duration histograms the kit records.
struct Durations {
    server: Histogram<f64>,
    client: Histogram<f64>,
    database: Histogram<f64>,
}

static DURATIONS: LazyLock<Durations> = LazyLock::new(|| {
    let meter = meter();
    let histogram = |name: &'static str, description: &'static str| {
        meter
            .f64_histogram(name)
            .with_unit("s")
            .with_description(description)
            .with_boundaries(DURATION_BOUNDS.to_vec())
            .build()
    };
    Durations {
        server: histogram(names::HTTP_SERVER_REQUEST_DURATION, "Duration of HTTP server requests."),
        client: histogram(names::HTTP_CLIENT_REQUEST_DURATION, "Duration of HTTP client requests."),
        database: histogram(names::DB_CLIENT_OPERATION_DURATION, "Duration of database client operations."),
    }
});

fn record(
    histogram: &Histogram<f64>,
    name: &'static str,
    elapsed: Duration,
    attributes: &[KeyValue],
    trace_id: Option<String>,
) {
    let seconds = elapsed.as_secs_f64();
    histogram.record(seconds, attributes);
    if let Some(trace_id) = trace_id {
        pipeline().exemplars.keep(name, attributes, &DURATION_BOUNDS, seconds, trace_id);
    }
}

/// One finished server request. `route` is the route template (`None` when nothing matched,
/// as the conventions ask rather than a made-up value); `error.type` is the status code of a
/// 5xx (a 4xx is the client's error, not the server's).
pub fn record_server_request(
    method: &str,
    route: Option<&str>,
    status: u16,
    elapsed: Duration,
    trace_id: Option<String>,
) {
    let mut attributes = vec![
        KeyValue::new(attr::HTTP_REQUEST_METHOD, method.to_owned()),
        KeyValue::new(attr::URL_SCHEME, "http"),
        KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, i64::from(status)),
    ];
    if let Some(route) = route {
        attributes.push(KeyValue::new(attr::HTTP_ROUTE, route.to_owned()));
    }
    if status >= 500 {
        attributes.push(KeyValue::new(attr::ERROR_TYPE, status.to_string()));
    }
    record(&DURATIONS.server, names::HTTP_SERVER_REQUEST_DURATION, elapsed, &attributes, trace_id);
}

/// How a client request ended: a status code, or the error that kept it from getting one.
pub enum ClientOutcome<'a> {
    Status(u16),
    Error(&'a str),
}

/// One finished client request (one attempt) to `server.address`:`server.port`.
pub fn record_client_request(
    method: &str,
    address: &str,
    port: u16,
    outcome: ClientOutcome<'_>,
    elapsed: Duration,
    trace_id: Option<String>,
) {
    let mut attributes = vec![
        KeyValue::new(attr::HTTP_REQUEST_METHOD, method.to_owned()),
        KeyValue::new(attr::SERVER_ADDRESS, address.to_owned()),
        KeyValue::new(attr::SERVER_PORT, i64::from(port)),
    ];
    match outcome {
        ClientOutcome::Status(status) => {
            attributes.push(KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
            if status >= 400 {
                attributes.push(KeyValue::new(attr::ERROR_TYPE, status.to_string()));
            }
        }
        ClientOutcome::Error(kind) => attributes.push(KeyValue::new(attr::ERROR_TYPE, kind.to_owned())),
    }
    record(&DURATIONS.client, names::HTTP_CLIENT_REQUEST_DURATION, elapsed, &attributes, trace_id);
}

/// One finished database operation; `attributes` are the operation's stable attributes
/// (built by [`crate::db::Operation`]).
pub fn record_db_operation(attributes: &[KeyValue], elapsed: Duration, trace_id: Option<String>) {
    record(&DURATIONS.database, names::DB_CLIENT_OPERATION_DURATION, elapsed, attributes, trace_id);
}
