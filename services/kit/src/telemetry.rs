//! Logging (and, with the tracing work, trace export) set up once per process.
//!
//! Everything goes through `tracing`; this module only decides where spans and events
//! end up. The OTLP exporter will be added here as one more layer, so services keep
//! calling [`init`] and nothing else changes for them.

use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// Keeps telemetry alive; dropping it (at the end of `main`) flushes what is buffered.
#[must_use = "dropping the guard shuts telemetry down"]
pub struct TelemetryGuard {
    _private: (),
}

/// Installs the global subscriber: `RUST_LOG` filter (default `info`) and JSON or pretty
/// output. Safe to call more than once (tests): later calls keep the first subscriber.
pub fn init(service_name: &'static str, format: LogFormat) -> TelemetryGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer().compact()).try_init(),
    };
    if result.is_ok() {
        tracing::info!(service = service_name, "telemetry initialised");
    }
    TelemetryGuard { _private: () }
}

/// The W3C trace context headers of the request being served (`traceparent`, `tracestate`),
/// kept for the duration of the request so outgoing calls can pass them on.
#[derive(Debug, Clone, Default)]
pub struct TraceHeaders {
    /// `traceparent`, if the caller sent one.
    pub traceparent: Option<String>,
    /// `tracestate`, if the caller sent one.
    pub tracestate: Option<String>,
}

tokio::task_local! {
    static CURRENT_TRACE: TraceHeaders;
}

/// Runs `fut` with `headers` as the current request's trace context.
pub async fn with_trace_headers<F: std::future::Future>(headers: TraceHeaders, fut: F) -> F::Output {
    CURRENT_TRACE.scope(headers, fut).await
}

/// Adds the current request's trace context to an outgoing request, so the callee's work
/// joins the caller's trace.
pub fn propagate_context(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let headers = CURRENT_TRACE.try_with(Clone::clone).unwrap_or_default();
    let mut request = request;
    if let Some(traceparent) = headers.traceparent {
        request = request.header("traceparent", traceparent);
    }
    if let Some(tracestate) = headers.tracestate {
        request = request.header("tracestate", tracestate);
    }
    request
}
