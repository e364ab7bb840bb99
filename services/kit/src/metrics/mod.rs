//! Metrics, through the OpenTelemetry metrics SDK: one set of instruments, read two ways.
//!
//! - Prometheus scrapes `/metrics` ([`render`]): `shopmetrics` collects the SDK's cumulative
//!   state and writes it as OpenMetrics text, histogram buckets carrying exemplars (trace ids)
//!   when the measurement was made inside an exported trace.
//! - When an OTLP endpoint is set, a periodic reader pushes the same instruments over OTLP
//!   (see [`crate::telemetry`]), beside the traces and logs.
//!
//! The stack (and why the OpenTelemetry SDK) is `shopmetrics`'s, shared with the operator. The
//! instruments every service uses live here, named by the `opentelemetry-semantic-conventions`
//! constants: HTTP server and client request durations, database operation durations.
//! Business counters are made with [`counter`] ([`business`]).

pub mod business;

pub use shopmetrics::{DURATION_BOUNDS, openmetrics};

use std::{
    sync::{LazyLock, OnceLock},
    time::Duration,
};

use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram, Meter},
};
use opentelemetry_sdk::{
    Resource,
    metrics::{PeriodicReader, SdkMeterProvider},
};
use opentelemetry_semantic_conventions::{attribute as attr, metric as names};
use shopmetrics::Metrics;

/// The meter's instrumentation scope name.
const SCOPE: &str = "microshop";

static PIPELINE: OnceLock<Metrics> = OnceLock::new();

/// Sets the process's metrics pipeline: `resource` on every metric, and `push` (the OTLP
/// reader) beside `/metrics` when an endpoint is set. Called by [`crate::telemetry::init`]
/// before any instrument is made; a later call (tests) keeps the first pipeline. Returns the
/// provider to shut down (flushing the push reader) when this call installed it.
pub(crate) fn install(
    resource: Resource,
    push: Option<PeriodicReader<opentelemetry_otlp::MetricExporter>>,
) -> Option<SdkMeterProvider> {
    let mut installed = None;
    PIPELINE.get_or_init(|| {
        let metrics = Metrics::new(resource, push);
        installed = Some(metrics.provider().clone());
        metrics
    });
    installed
}

fn pipeline() -> &'static Metrics {
    PIPELINE.get_or_init(|| {
        Metrics::new(
            crate::telemetry::resource("unknown_service"),
            None::<PeriodicReader<opentelemetry_otlp::MetricExporter>>,
        )
    })
}

/// The meter every instrument of the process is made from.
pub fn meter() -> Meter {
    pipeline().meter(SCOPE)
}

/// A monotonic counter: a business event (`microshop.orders.placed`, unit `{order}`).
pub fn counter(name: &'static str, unit: &'static str, description: &'static str) -> Counter<u64> {
    meter().u64_counter(name).with_unit(unit).with_description(description).build()
}

/// Every metric of the process, as OpenMetrics text.
pub fn render() -> Result<String, opentelemetry_sdk::error::OTelSdkError> {
    pipeline().render()
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
        pipeline().keep_exemplar(name, attributes, &DURATION_BOUNDS, seconds, trace_id);
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
