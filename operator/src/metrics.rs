//! Prometheus metrics of the controller, and the HTTP server that exposes them with the health
//! endpoints (`/metrics`, `/healthz`, `/readyz`).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::time::Instant;

use poem::{EndpointExt, Route, Server, get, handler, http::StatusCode, listener::TcpListener, web::Data};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// Labels of the failure counter: the error's kind, never an object name (bounded cardinality).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub reason: String,
}

/// The controller's metrics, registered in their own registry.
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<ErrorLabels, Counter>,
    duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("microshop_operator");
        let reconciles = Counter::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let duration = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]);
        registry.register("reconciles", "Reconciliations started", reconciles.clone());
        registry.register("reconcile_errors", "Failed reconciliations by error reason", failures.clone());
        registry.register("reconcile_duration_seconds", "Duration of reconciliations", duration.clone());
        Self { registry, reconciles, failures, duration }
    }
}

/// Observes a reconcile's duration when dropped, so early returns are measured too.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics.duration.observe(self.start.elapsed().as_secs_f64());
    }
}

impl Metrics {
    /// Counts a reconcile and times it until the returned guard is dropped.
    pub fn reconcile_started(&self) -> ReconcileTimer<'_> {
        self.reconciles.inc();
        ReconcileTimer { metrics: self, start: Instant::now() }
    }

    /// Counts a failed reconcile under its error reason.
    pub fn reconcile_failed(&self, reason: &str) {
        self.failures.get_or_create(&ErrorLabels { reason: reason.into() }).inc();
    }

    /// Failures counted so far for one reason.
    pub fn failures(&self, reason: &str) -> u64 {
        self.failures.get_or_create(&ErrorLabels { reason: reason.into() }).get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
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
    poem::Response::builder()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(health.metrics.render())
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
        assert!(text.contains("microshop_operator_reconcile_errors_total{reason=\"apply\"} 1"), "{text}");
        assert!(text.contains("microshop_operator_reconcile_duration_seconds_count 1"), "{text}");
    }
}
