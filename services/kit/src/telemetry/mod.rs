//! Logs, traces and metrics, set up once per process.
//!
//! Everything goes through `tracing` (and [`crate::metrics`] for measurements). This module
//! decides where it ends up:
//! - log lines (JSON by default, or compact text) on stdout, each carrying the `trace_id` and
//!   `span_id` of the span it was written in, so a log line leads to its trace;
//! - when `OTEL_EXPORTER_OTLP_ENDPOINT` (or a signal's own `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`)
//!   is set, over OTLP as well: spans (via `tracing-opentelemetry`), metrics (a periodic
//!   reader, every `OTEL_METRIC_EXPORT_INTERVAL` ms, 60 s by default) and the same log events
//!   as OpenTelemetry log records (via `opentelemetry-appender-tracing`, correlated with the
//!   span they were written in). `OTEL_METRICS_EXPORTER=none` / `OTEL_LOGS_EXPORTER=none`
//!   keep a signal off OTLP (a Jaeger endpoint takes traces only).
//!   `OTEL_EXPORTER_OTLP_PROTOCOL` is `grpc` (default) or `http/protobuf`. Sampling (`OTEL_TRACES_SAMPLER[_ARG]`) and resource attributes
//!   (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) follow the standard variables; the kit
//!   adds `service.version` (see [`resource`]). `OTEL_SDK_DISABLED=true` turns export off
//!   entirely. Without an endpoint nothing is exported, so the OpenTelemetry layers are not
//!   installed at all (they cost a fifth of a simple request's CPU for spans no one sees);
//!   each request then still gets a trace id of its own (or the caller's, from
//!   `traceparent`) in its `x-trace-id` header and request log line, see `server.rs`.
//!   Metrics are always readable on `/metrics`.
//! - W3C trace context and baggage are the propagation formats.
//! - Log lines are written by a thread of their own ([`writer`]), never on a request's path.

mod json;
pub mod propagation;
mod writer;

use std::sync::{
    OnceLock,
    atomic::{AtomicBool, Ordering},
};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{
    Resource,
    logs::SdkLoggerProvider,
    metrics::{PeriodicReader, SdkMeterProvider},
    trace::SdkTracerProvider,
};
use tracing::dispatcher::WeakDispatch;
use tracing_subscriber::{EnvFilter, Layer as _, fmt::writer::BoxMakeWriter, layer::SubscriberExt};

use crate::config::LogFormat;

/// The installed dispatcher, so the log formatter can look up a span's trace context from
/// inside an event callback (where `tracing` hides the current dispatcher).
static DISPATCH: OnceLock<WeakDispatch> = OnceLock::new();

/// Whether the installed subscriber has the OpenTelemetry layer (spans are exported).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans go to an OTLP endpoint. When not, the OpenTelemetry layer is absent and
/// request spans carry no trace context of their own.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Keeps telemetry alive; [`TelemetryGuard::shutdown`] (or drop) flushes buffered spans,
/// metrics and log records.
#[must_use = "dropping the guard shuts telemetry down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
    logs: Option<SdkLoggerProvider>,
    /// Flushes the queued log lines when dropped (after the provider, whose errors it logs).
    _writer: Option<writer::WriterGuard>,
}

impl TelemetryGuard {
    /// Exports the spans still buffered and stops the exporter. Call it after the server has
    /// drained, so the last requests' spans are not lost.
    pub fn shutdown(mut self) {
        self.flush_and_stop();
    }

    fn flush_and_stop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("telemetry: flushing spans failed: {err}");
        }
        if let Some(meters) = self.meters.take()
            && let Err(err) = meters.shutdown()
        {
            eprintln!("telemetry: flushing metrics failed: {err}");
        }
        if let Some(logs) = self.logs.take()
            && let Err(err) = logs.shutdown()
        {
            eprintln!("telemetry: flushing log records failed: {err}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.flush_and_stop();
    }
}

/// How spans leave the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// `OTEL_SDK_DISABLED=true`: no spans at all.
    Disabled,
    /// No endpoint: spans for ids and propagation, nothing exported.
    None,
    /// OTLP over gRPC.
    Grpc,
    /// OTLP over HTTP with protobuf bodies.
    HttpProtobuf,
}

/// Reads the export settings from the standard environment variables.
pub fn export_from_env() -> Result<Export, String> {
    export_from(|name| std::env::var(name).ok())
}

/// The export settings given a variable lookup (blank counts as unset).
fn export_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Export, String> {
    let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(Export::Disabled);
    }
    if var("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() && var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none() {
        return Ok(Export::None);
    }
    let protocol = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"));
    match protocol.as_deref().map(str::trim) {
        None | Some("grpc") => Ok(Export::Grpc),
        Some("http/protobuf") => Ok(Export::HttpProtobuf),
        Some(other) => {
            Err(format!("OTEL_EXPORTER_OTLP_PROTOCOL `{other}` is not supported (use grpc or http/protobuf)"))
        }
    }
}

/// The resource every signal carries: the standard variables (`OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`, where Kubernetes puts `k8s.*` and `deployment.environment.name`
/// from the downward API), the service's name when no variable gives one, and the
/// workspace's version as `service.version` unless a variable gives one.
pub fn resource(service_name: &'static str) -> Resource {
    use opentelemetry::{Key, KeyValue};
    use opentelemetry_semantic_conventions::resource::{SERVICE_NAME, SERVICE_VERSION};
    // The SDK's detectors (run once) fall back to `unknown_service:<binary>` without a name.
    let detected = Resource::builder().build();
    let mut missing = Vec::new();
    if detected.get(&Key::from_static_str(SERVICE_NAME)).is_none_or(|n| n.as_str().starts_with("unknown_service")) {
        missing.push(KeyValue::new(SERVICE_NAME, service_name));
    }
    if detected.get(&Key::from_static_str(SERVICE_VERSION)).is_none() {
        missing.push(KeyValue::new(SERVICE_VERSION, env!("CARGO_PKG_VERSION")));
    }
    if missing.is_empty() {
        return detected;
    }
    let attributes = detected.iter().map(|(key, value)| KeyValue::new(key.clone(), value.clone()));
    Resource::builder_empty().with_attributes(attributes.chain(missing)).build()
}

/// The gRPC endpoint of one signal: the generic variable unless the signal has its own (which
/// the exporter reads itself).
fn grpc_endpoint(signal_variable: &str) -> Option<String> {
    if std::env::var_os(signal_variable).is_some() {
        return None;
    }
    std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|v| !v.trim().is_empty())
}

/// Whether a signal goes over OTLP: it has an endpoint (its own variable or the generic one)
/// and its exporter variable (`OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`) is not `none`, as
/// where the endpoint is a Jaeger, which keeps traces only.
fn pushes(signal_variable: &str, exporter_variable: &str) -> bool {
    let off = std::env::var(exporter_variable).is_ok_and(|v| v.split(',').any(|e| e.trim() == "none"));
    !off && [signal_variable, "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// The OTLP metrics reader, when metrics have an endpoint.
fn metrics_reader(export: &Export) -> Result<Option<PeriodicReader<opentelemetry_otlp::MetricExporter>>, String> {
    if !pushes("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_METRICS_EXPORTER") {
        return Ok(None);
    }
    let exporter = match export {
        Export::Grpc => {
            let mut exporter = opentelemetry_otlp::MetricExporter::builder().with_tonic();
            if let Some(endpoint) = grpc_endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") {
                exporter = exporter.with_endpoint(endpoint);
            }
            exporter.build()
        }
        Export::HttpProtobuf => opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build(),
        Export::None | Export::Disabled => return Ok(None),
    };
    Ok(Some(PeriodicReader::builder(exporter.map_err(|e| e.to_string())?).build()))
}

/// The OTLP log-record pipeline, when logs have an endpoint.
fn logger_provider(resource: Resource, export: &Export) -> Result<Option<SdkLoggerProvider>, String> {
    if !pushes("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_LOGS_EXPORTER") {
        return Ok(None);
    }
    let exporter = match export {
        Export::Grpc => {
            let mut exporter = opentelemetry_otlp::LogExporter::builder().with_tonic();
            if let Some(endpoint) = grpc_endpoint("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
                exporter = exporter.with_endpoint(endpoint);
            }
            exporter.build()
        }
        Export::HttpProtobuf => opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build(),
        Export::None | Export::Disabled => return Ok(None),
    };
    let exporter = exporter.map_err(|e| e.to_string())?;
    Ok(Some(SdkLoggerProvider::builder().with_resource(resource).with_batch_exporter(exporter).build()))
}

fn tracer_provider(resource: Resource, export: &Export) -> Result<SdkTracerProvider, String> {
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    match export {
        Export::Grpc => {
            let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic();
            if let Some(endpoint) = grpc_endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
                exporter = exporter.with_endpoint(endpoint);
            }
            builder = builder.with_batch_exporter(exporter.build().map_err(|e| e.to_string())?);
        }
        Export::HttpProtobuf => {
            // The HTTP exporter resolves the endpoint variables itself (appending /v1/traces
            // to the generic one, as the specification says).
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .build()
                .map_err(|e| e.to_string())?;
            builder = builder.with_batch_exporter(exporter);
        }
        Export::None | Export::Disabled => {}
    }
    Ok(builder.build())
}

/// Installs the global subscriber: `RUST_LOG` filter (default `info`), JSON or compact log
/// lines, and OpenTelemetry spans as configured by the environment. Safe to call more than
/// once (tests): later calls keep the first subscriber. `service_name` is also the name of the
/// service's crate, whose spans are exported beside the kit's.
pub fn init(service_name: &'static str, format: LogFormat) -> TelemetryGuard {
    let export = export_from_env().unwrap_or_else(|err| {
        eprintln!("telemetry: {err}; traces will not be exported");
        Export::None
    });
    let resource = resource(service_name);
    let provider = match &export {
        Export::Disabled | Export::None => None,
        export => match tracer_provider(resource.clone(), export) {
            Ok(provider) => Some(provider),
            Err(err) => {
                eprintln!("telemetry: cannot set up the OTLP exporter: {err}; traces will not be exported");
                None
            }
        },
    };
    let push = metrics_reader(&export).unwrap_or_else(|err| {
        eprintln!("telemetry: cannot set up the OTLP metrics exporter: {err}; metrics stay on /metrics only");
        None
    });
    let meters = crate::metrics::install(resource.clone(), push);
    let logs = logger_provider(resource, &export).unwrap_or_else(|err| {
        eprintln!("telemetry: cannot set up the OTLP log exporter: {err}; logs stay on stdout only");
        None
    });
    // Log records leave through tonic/hyper/reqwest: their own events must not become log
    // records, or one failed export would log, export, fail and log again.
    let logs_layer = logs.as_ref().map(|logs| {
        opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(logs).with_filter(EnvFilter::new(
            "info,hyper=off,hyper_util=off,h2=off,tonic=off,tower=off,reqwest=off,opentelemetry=off,opentelemetry_sdk=off",
        ))
    });
    propagation::install_propagator();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let otel_layer = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer().with_tracer(p.tracer(service_name)).with_filter(otel_filter(service_name))
    });
    let (writer, writer_guard) = writer::stdout();
    let (writer, writer_guard) = (BoxMakeWriter::new(writer), Some(writer_guard));
    let fmt_layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(json::NoSpanFields)
            .event_format(json::JsonWithTrace)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().with_writer(writer).boxed(),
    };
    let exporting = otel_layer.is_some();
    let subscriber =
        tracing_subscriber::registry().with(otel_layer).with(logs_layer).with(fmt_layer.with_filter(filter));
    let dispatch = tracing::Dispatch::new(subscriber);
    let weak = dispatch.downgrade();
    if tracing::dispatcher::set_global_default(dispatch).is_ok() {
        let _ = DISPATCH.set(weak);
        EXPORTING.store(exporting, Ordering::Relaxed);
        if let Some(provider) = &provider {
            opentelemetry::global::set_tracer_provider(provider.clone());
        }
        tracing::info!(service = service_name, export = ?export, "telemetry initialised");
    }
    TelemetryGuard { provider, meters, logs, _writer: writer_guard }
}

/// Spans worth exporting: the kit's and the service's own at `info` and above, everything
/// else only at `warn`, so library internals (hyper, sqlx, tonic) do not flood the trace.
/// Each service's crate is named after the service, so `service_name` is its tracing target.
fn otel_filter(service_name: &str) -> EnvFilter {
    EnvFilter::new(otel_directives(service_name))
}

fn otel_directives(service_name: &str) -> String {
    format!("warn,{}=info,{service_name}=info,{}=debug", env!("CARGO_CRATE_NAME"), crate::faults::EVALUATION_TARGET)
}

/// The trace and span ids of the current span, as lowercase hex, when there is one.
pub fn current_trace_ids() -> Option<(String, String)> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| (span_context.trace_id().to_string(), span_context.span_id().to_string()))
}

/// The trace id of a span, as lowercase hex, when the OpenTelemetry layer gave it one.
pub fn trace_id_of(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let context = span.context();
    let ids = context.span().span_context().clone();
    ids.is_valid().then(|| ids.trace_id().to_string())
}

/// The installed dispatcher, if [`init`] installed one.
pub(crate) fn installed_dispatch() -> Option<tracing::Dispatch> {
    DISPATCH.get().and_then(WeakDispatch::upgrade)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Environment variables, the expected outcome, and why.
    type Case<'a> = (&'a [(&'a str, &'a str)], Result<Export, ()>, &'a str);

    #[test]
    fn exported_spans_are_the_kits_and_the_services_own() {
        assert_eq!(otel_directives("products"), "warn,shopkit=info,products=info,feature_flag=debug");
    }

    #[test]
    fn export_settings_follow_the_standard_variables() {
        let cases: &[Case<'_>] = &[
            (&[], Ok(Export::None), "no endpoint: nothing exported"),
            (&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")], Ok(Export::Grpc), "grpc is the default"),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")],
                Ok(Export::HttpProtobuf),
                "http",
            ),
            (
                &[
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces"),
                    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
                ],
                Ok(Export::HttpProtobuf),
                "signal-specific variables",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_SDK_DISABLED", "TRUE")],
                Ok(Export::Disabled),
                "disabled wins",
            ),
            (&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")], Ok(Export::None), "blank endpoint"),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
                Err(()),
                "unsupported protocol",
            ),
        ];
        for (vars, expected, message) in cases {
            let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned());
            assert_eq!(export_from(lookup).map_err(|_| ()), *expected, "{message}");
        }
    }
}
