//! Logs and traces, set up once per process.
//!
//! Everything goes through `tracing`. This module decides where it ends up:
//! - log lines (JSON by default, or compact text), each carrying the `trace_id` and `span_id`
//!   of the span it was written in, so a log line leads to its trace;
//! - OpenTelemetry spans (via `tracing-opentelemetry`), exported over OTLP in batches when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, with
//!   `OTEL_EXPORTER_OTLP_PROTOCOL` `grpc` (default) or `http/protobuf`. Sampling
//!   (`OTEL_TRACES_SAMPLER[_ARG]`) and resource attributes (`OTEL_SERVICE_NAME`,
//!   `OTEL_RESOURCE_ATTRIBUTES`) follow the standard variables. `OTEL_SDK_DISABLED=true` turns
//!   tracing off entirely. Without an endpoint nothing is exported, so the OpenTelemetry
//!   layer is not installed at all (it cost a fifth of a simple request's CPU for spans no
//!   one sees); each request then still gets a trace id of its own (or the caller's, from
//!   `traceparent`) in its `x-trace-id` header and request log line, see `server.rs`.
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
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
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

/// Keeps telemetry alive; [`TelemetryGuard::shutdown`] (or drop) flushes buffered spans.
#[must_use = "dropping the guard shuts telemetry down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
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

fn tracer_provider(service_name: &'static str, export: &Export) -> Result<SdkTracerProvider, String> {
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service_name);
    }
    let mut builder = SdkTracerProvider::builder().with_resource(resource.build());
    match export {
        Export::Grpc => {
            let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic();
            if std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
                && let Ok(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            {
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
    let provider = match &export {
        Export::Disabled | Export::None => None,
        export => match tracer_provider(service_name, export) {
            Ok(provider) => Some(provider),
            Err(err) => {
                eprintln!("telemetry: cannot set up the OTLP exporter: {err}; traces will not be exported");
                None
            }
        },
    };
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
    let subscriber = tracing_subscriber::registry().with(otel_layer).with(fmt_layer.with_filter(filter));
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
    TelemetryGuard { provider, _writer: writer_guard }
}

/// Spans worth exporting: the kit's and the service's own at `info` and above, everything
/// else only at `warn`, so library internals (hyper, sqlx, tonic) do not flood the trace.
/// Each service's crate is named after the service, so `service_name` is its tracing target.
fn otel_filter(service_name: &str) -> EnvFilter {
    EnvFilter::new(otel_directives(service_name))
}

fn otel_directives(service_name: &str) -> String {
    format!("warn,{}=info,{service_name}=info", env!("CARGO_CRATE_NAME"))
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
        assert_eq!(otel_directives("products"), "warn,shopkit=info,products=info");
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
