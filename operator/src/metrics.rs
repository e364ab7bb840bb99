//! Metrics of the controller (OpenTelemetry instruments, OpenMetrics on `/metrics`, the
//! services' stack), and the HTTP server that exposes them with the health endpoints
//! (`/metrics`, `/healthz`, `/readyz`).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::time::Instant;

use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram},
};
use opentelemetry_sdk::Resource;
use poem::{EndpointExt, Route, Server, get, handler, http::StatusCode, listener::TcpListener, web::Data};
use shopmetrics::{DURATION_BOUNDS, Metrics as Pipeline, openmetrics};

/// The attribute of a failed reconcile: the error's kind, never an object name (bounded
/// cardinality). `error.type`, as the conventions name an error's class.
const ERROR_TYPE: &str = "error.type";

/// The controller's metrics, on the same stack as the services' (`shopmetrics`: OpenTelemetry
/// instruments rendered as OpenMetrics), in a pipeline of its own per controller so tests that
/// run several controllers in one process count separately.
pub struct Metrics {
    pipeline: Pipeline,
    reconciles: Counter<u64>,
    failures: Counter<u64>,
    duration: Histogram<f64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let resource = Resource::builder()
            .with_service_name("microshop-operator")
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let pipeline = Pipeline::new(resource, None::<opentelemetry_sdk::metrics::ManualReader>);
        let meter = pipeline.meter("microshop-operator");
        let reconciles = meter
            .u64_counter("microshop.operator.reconciles")
            .with_unit("{reconcile}")
            .with_description("Reconciliations started.")
            .build();
        let failures = meter
            .u64_counter("microshop.operator.reconcile_errors")
            .with_unit("{reconcile}")
            .with_description("Failed reconciliations by error type.")
            .build();
        let duration = meter
            .f64_histogram("microshop.operator.reconcile_duration")
            .with_unit("s")
            .with_description("Duration of reconciliations.")
            .with_boundaries(DURATION_BOUNDS.to_vec())
            .build();
        // Exported at 0 from the start, so a dashboard sees a flat line rather than no data.
        reconciles.add(0, &[]);
        failures.add(0, &[]);
        Self { pipeline, reconciles, failures, duration }
    }
}

/// Observes a reconcile's duration when dropped, so early returns are measured too.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics.duration.record(self.start.elapsed().as_secs_f64(), &[]);
    }
}

impl Metrics {
    /// Counts a reconcile and times it until the returned guard is dropped.
    pub fn reconcile_started(&self) -> ReconcileTimer<'_> {
        self.reconciles.add(1, &[]);
        ReconcileTimer { metrics: self, start: Instant::now() }
    }

    /// Counts a failed reconcile under its error type.
    pub fn reconcile_failed(&self, reason: &str) {
        self.failures.add(1, &[KeyValue::new(ERROR_TYPE, reason.to_owned())]);
    }

    /// Failures counted so far for one error type (read back from the rendered metrics).
    pub fn failures(&self, reason: &str) -> u64 {
        let line = format!("microshop_operator_reconcile_errors_total{{error_type=\"{reason}\"}} ");
        self.render().lines().find_map(|l| l.strip_prefix(&line).and_then(|n| n.trim().parse().ok())).unwrap_or(0)
    }

    /// The OpenMetrics exposition of every metric.
    pub fn render(&self) -> String {
        self.pipeline.render().unwrap_or_else(|err| format!("# metrics unavailable: {err}\n# EOF\n"))
    }
}

/// What the HTTP server reports: metrics, and whether the controller is up.
#[derive(Default)]
pub struct Health {
    pub metrics: Metrics,
    ready: AtomicBool,
}

impl Health {
    /// Marks the controller as serving (its CRD is reachable and watches have started).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

#[handler]
fn metrics(health: Data<&Arc<Health>>) -> poem::Response {
    poem::Response::builder().content_type(openmetrics::CONTENT_TYPE).body(health.metrics.render())
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
fn readyz(health: Data<&Arc<Health>>) -> (StatusCode, &'static str) {
    if health.is_ready() { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "starting") }
}

/// The HTTP app: `/metrics`, `/healthz` (process alive), `/readyz` (controller serving).
pub fn app(health: Arc<Health>) -> impl poem::Endpoint {
    Route::new().at("/metrics", get(metrics)).at("/healthz", get(healthz)).at("/readyz", get(readyz)).data(health)
}

/// Serves [`app`] on `addr` until `shutdown` resolves.
pub async fn serve(
    addr: String,
    health: Arc<Health>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    Server::new(TcpListener::bind(addr))
        .run_with_graceful_shutdown(app(health), shutdown, Some(std::time::Duration::from_secs(5)))
        .await
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;

    use super::*;

    #[tokio::test]
    async fn endpoints_report_metrics_health_and_readiness() {
        let health = Arc::new(Health::default());
        drop(health.metrics.reconcile_started());
        health.metrics.reconcile_failed("apply");
        let client = TestClient::new(app(health.clone()));

        client.get("/healthz").send().await.assert_status_is_ok();
        client.get("/readyz").send().await.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        health.set_ready(true);
        client.get("/readyz").send().await.assert_status_is_ok();

        let response = client.get("/metrics").send().await;
        response.assert_status_is_ok();
        let text = response.0.into_body().into_string().await.expect("body");
        assert!(text.contains("microshop_operator_reconciles_total 1"), "{text}");
        assert!(text.contains("microshop_operator_reconcile_errors_total{error_type=\"apply\"} 1"), "{text}");
        assert!(text.contains("microshop_operator_reconcile_duration_seconds_count 1"), "{text}");
        assert!(text.contains("service_name=\"microshop-operator\""), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
