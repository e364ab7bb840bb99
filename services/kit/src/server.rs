//! The HTTP surface every service shares, and the server loop.
//!
//! [`service_routes`] wraps a service's poem-openapi API with the endpoints every service
//! serves (spec, docs, health, metrics) and with [`Observe`], the middleware that logs each
//! request, records metrics and turns every error into an RFC 9457 problem body.

use std::{collections::HashMap, future::Future, sync::Arc, time::Instant};

use opentelemetry::trace::TraceContextExt as _;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Middleware, PathPattern, Request, Response, Route, get, handler,
    http::{HeaderValue, StatusCode},
    listener::TcpAcceptor,
    web::Data,
};
use poem_openapi::{OpenApi, OpenApiService, OperationId};

use crate::{
    auth::TokenVerifier,
    db::Database,
    edge::{EdgeRules, SchemaRule},
    faults::Outage,
    head_replies::ProblemReplies,
    problem::problem_response,
    telemetry::propagation,
};

/// Response header carrying the trace id of the request, so a user can look it up in Jaeger.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Everything a service's routes need from the kit.
pub struct ServiceParts<S> {
    /// The service's state, reachable in handlers as `Data<&S>`.
    pub state: S,
    /// The service's database, for the readiness probe.
    pub database: Database,
    /// Verifies bearer tokens for [`crate::auth::BearerAuth`].
    pub verifier: TokenVerifier,
    /// The validation rules of the API's fields, written into the served spec.
    pub schema_rules: Vec<SchemaRule>,
}

/// The complete endpoint of a service: its API at the root plus `/openapi.json`, `/docs`,
/// `/health/live`, `/health/ready` and `/metrics`, all behind [`Observe`].
pub fn service_routes<T, S>(api: OpenApiService<T, ()>, parts: ServiceParts<S>) -> impl Endpoint + 'static
where
    T: OpenApi + 'static,
    S: Clone + Send + Sync + 'static,
{
    service_routes_with_outage(api, parts, Outage::never())
}

/// [`service_routes`] whose API (not its health, metrics or docs routes) answers 503 while
/// the `outage` fault flag is on. The refusal passes through [`Observe`], so it is logged,
/// counted and traced like a real outage.
pub fn service_routes_with_outage<T, S>(
    api: OpenApiService<T, ()>,
    parts: ServiceParts<S>,
    outage: Outage,
) -> impl Endpoint + 'static
where
    T: OpenApi + 'static,
    S: Clone + Send + Sync + 'static,
{
    let spec_text = spec_json(&api, &parts.schema_rules);
    let spec: serde_json::Value = serde_json::from_str(&spec_text).unwrap_or_default();
    let routes = Arc::new(operation_routes(&spec_text));
    Route::new()
        .at("/openapi.json", get(SpecJson(spec_text)))
        .nest("/docs", api.swagger_ui())
        .at("/health/live", get(live))
        .at("/health/ready", get(ready))
        .at("/metrics", get(render_metrics))
        .nest("/", api.with(outage))
        .data(parts.state)
        .data(parts.database)
        .data(Arc::new(parts.verifier))
        .with(EdgeRules::new(crate::edge::max_body_bytes(), spec))
        .with(Observe { routes })
}

/// The spec a service serves and exports (`<service> openapi`): poem-openapi's, with the
/// service's field rules and the rules of the request edge ([`crate::edge`]) written in.
pub fn spec_json<T: OpenApi>(api: &OpenApiService<T, ()>, rules: &[SchemaRule]) -> String {
    let mut spec: serde_json::Value = serde_json::from_str(&api.spec()).unwrap_or_default();
    crate::edge::apply_schema_rules(&mut spec, rules);
    crate::edge::document_edge_rules(&mut spec);
    serde_json::to_string_pretty(&spec).unwrap_or_default()
}

/// The rules of a service's table that name no field or parameter of its spec (see
/// [`crate::edge::apply_schema_rules`]); empty when the table is right.
pub fn unmatched_schema_rules<T: OpenApi>(api: &OpenApiService<T, ()>, rules: &[SchemaRule]) -> Vec<String> {
    let mut spec: serde_json::Value = serde_json::from_str(&api.spec()).unwrap_or_default();
    crate::edge::apply_schema_rules(&mut spec, rules)
}

/// Serves the spec text (GET only, so `PUT /openapi.json` is a 405).
struct SpecJson(String);

impl Endpoint for SpecJson {
    type Output = Response;
    async fn call(&self, _req: Request) -> poem::Result<Response> {
        Ok(Response::builder().content_type("application/json; charset=utf-8").body(self.0.clone()))
    }
}

/// The complete endpoint of a service without an OpenAPI API (the storefront's HTML pages):
/// `app` at the root plus `/health/live`, `/health/ready` and `/metrics`, all behind
/// [`Observe`], so every page view is a server span named by its route pattern.
pub fn web_routes<E>(app: E, database: Database) -> impl Endpoint + 'static
where
    E: Endpoint + 'static,
{
    Route::new()
        .at("/health/live", get(live))
        .at("/health/ready", get(ready))
        .at("/metrics", get(render_metrics))
        .nest("/", app)
        .data(database)
        .with(Observe { routes: Arc::new(HashMap::new()) })
}

/// Maps each `operationId` of a spec to its path template (`/products/{id}`), so logs and
/// metrics name routes exactly as the API docs do (poem's own patterns read `:param0`).
fn operation_routes(spec: &str) -> HashMap<String, String> {
    let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
    let mut routes = HashMap::new();
    if let Some(paths) = spec["paths"].as_object() {
        for (path, operations) in paths {
            for operation in operations.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(id) = operation["operationId"].as_str() {
                    routes.insert(id.to_owned(), path.clone());
                }
            }
        }
    }
    routes
}

/// Liveness: the process answers.
#[handler]
fn live() -> &'static str {
    "ok"
}

/// Readiness: the database answers and the schema is migrated.
#[handler]
async fn ready(Data(db): Data<&Database>) -> Response {
    if db.is_ready().await {
        "ready".into_response()
    } else {
        problem_response(StatusCode::SERVICE_UNAVAILABLE, "the database is not ready")
    }
}

/// The process's metrics in the OpenMetrics text format (see [`crate::metrics`]).
#[handler]
fn render_metrics() -> Response {
    match crate::metrics::render() {
        Ok(text) => Response::builder().content_type(crate::metrics::openmetrics::CONTENT_TYPE).body(text),
        Err(err) => problem_response(StatusCode::SERVICE_UNAVAILABLE, format!("metrics unavailable: {err}")),
    }
}

/// Logs, measures and normalises every request.
pub struct Observe {
    routes: Arc<HashMap<String, String>>,
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        ObserveEndpoint { inner, routes: self.routes.clone() }
    }
}

/// The endpoint produced by [`Observe`].
pub struct ObserveEndpoint<E> {
    inner: E,
    routes: Arc<HashMap<String, String>>,
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let method = req.method().to_string();
        let exporting = crate::telemetry::exporting();
        // The server span: named by route template once routing has found it, parented on
        // the caller's span when the request carries W3C trace context.
        let span = tracing::info_span!(
            "HTTP request",
            otel.name = %method,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            http.request.method = %method,
            url.path = %req.uri().path(),
            url.scheme = "http",
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
        );
        let (trace_id, own_ids) = if exporting {
            let _ = span.set_parent(propagation::extract(req.headers()));
            let context = span.context();
            let ids = context.span().span_context().clone();
            (ids.is_valid().then(|| ids.trace_id().to_string()), None)
        } else {
            // No OpenTelemetry layer: the request still gets ids for its header and log line.
            let ids = unexported_ids(req.headers());
            (Some(ids.0.clone()), Some(ids))
        };
        let mut response = match self.inner.call(req).instrument(span.clone()).await {
            Ok(resp) => resp.into_response(),
            Err(err) => error_to_response(err),
        };
        let matched = match (response.data::<OperationId>(), response.data::<PathPattern>()) {
            (Some(op), _) if self.routes.contains_key(op.0) => Some(self.routes[op.0].clone()),
            (_, Some(pattern)) => Some(pattern.0.to_string()),
            _ => None,
        };
        let route = matched.as_deref().unwrap_or("unmatched");
        let status = response.status().as_u16();
        if exporting {
            // The span was started before routing (children needed its context), so the name
            // is changed on the OpenTelemetry span itself.
            span.context().span().update_name(format!("{method} {route}"));
        }
        if let Some(route) = &matched {
            span.record("http.route", route.as_str());
        }
        span.record("http.response.status_code", status);
        if status >= 500 {
            span.record("otel.status_code", "ERROR");
        }
        if let Some(value) = trace_id.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
            response.headers_mut().insert(TRACE_ID_HEADER, value);
        }
        let elapsed = started.elapsed();
        // Exemplars only for traces that reach a backend: an unexported id leads nowhere.
        let exemplar = if exporting { trace_id } else { None };
        crate::metrics::record_server_request(&method, matched.as_deref(), status, elapsed, exemplar);
        span.in_scope(|| log_request(&method, route, status, elapsed, own_ids.as_ref()));
        Ok(response)
    }
}

/// Requests slower than this are logged at `info` even when they succeed.
pub const SLOW_REQUEST: std::time::Duration = std::time::Duration::from_millis(500);

/// The trace id of the caller's `traceparent` (or a new one) and a new span id, as hex, for
/// requests when no OpenTelemetry layer makes them. Random bits come from the thread's
/// generator (seeded once per process): `Uuid::new_v4` made a `getrandom` system call per
/// request, one in eight of the system calls of a product read.
fn unexported_ids(headers: &poem::http::HeaderMap) -> (String, String) {
    let fresh = format!("{:032x}", fastrand::u128(..));
    let context = propagation::extract(headers);
    let remote = context.span().span_context().clone();
    let trace_id = if remote.is_valid() { remote.trace_id().to_string() } else { fresh.clone() };
    (trace_id, fresh[16..].to_owned())
}

/// One line per request: server errors at `error`, client errors and slow requests at
/// `info`, fast successful ones at `debug` (a JSON line per request cost more CPU than
/// most handlers; `RUST_LOG=debug` or `shopkit=debug` brings them back).
fn log_request(method: &str, route: &str, status: u16, elapsed: std::time::Duration, ids: Option<&(String, String)>) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    macro_rules! line {
        ($level:expr) => {
            match ids {
                Some((trace_id, span_id)) => tracing::event!(
                    $level,
                    http.method = %method, http.route = %route, http.status = status, latency_ms,
                    trace_id = %trace_id, span_id = %span_id, "request"
                ),
                None => tracing::event!(
                    $level,
                    http.method = %method, http.route = %route, http.status = status, latency_ms, "request"
                ),
            }
        };
    }
    if status >= 500 {
        line!(tracing::Level::ERROR);
    } else if status >= 400 || elapsed >= SLOW_REQUEST {
        line!(tracing::Level::INFO);
    } else {
        line!(tracing::Level::DEBUG);
    }
}

/// Turns an error that did not come from a typed `ApiError` (unknown route, unparseable body,
/// failed authentication) into a problem response, keeping the route for metrics.
fn error_to_response(err: poem::Error) -> Response {
    let pattern = err.data::<PathPattern>().cloned();
    let operation = err.data::<OperationId>().cloned();
    let mut response = if err.is_from_response() {
        err.into_response()
    } else {
        let status = err.status();
        let detail = if status.is_server_error() {
            tracing::error!(error = %err, "unhandled server error");
            "an unexpected error occurred".to_owned()
        } else {
            err.to_string()
        };
        let mut response = problem_response(status, detail);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", poem::http::HeaderValue::from_static("Bearer"));
        }
        response
    };
    if let Some(pattern) = pattern {
        response.set_data(pattern);
    }
    if let Some(operation) = operation {
        response.set_data(operation);
    }
    response
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests for
/// up to [`SHUTDOWN_GRACE`]. Taking the listener from the caller lets tests bind port 0.
pub async fn serve<E>(
    listener: tokio::net::TcpListener,
    app: E,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    E: Endpoint + 'static,
{
    // hyper's own replies to heads it cannot read get a problem body like every other refusal.
    let acceptor = ProblemReplies(TcpAcceptor::from_tokio(listener)?);
    poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(app, shutdown, Some(SHUTDOWN_GRACE)).await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (Kubernetes stopping the pod).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, draining requests");
}

/// A service process from start to stop: sets up telemetry, binds `LISTEN_ADDR`, runs
/// `run(listener, shutdown)` until SIGINT/SIGTERM, then flushes the spans still buffered.
/// [`crate::service::serve_from_env`] calls it with a service's config and [`crate::service::run`].
pub async fn run_process<F, Fut, E>(
    service: &'static str,
    common: &crate::config::CommonConfig,
    run: F,
) -> Result<(), E>
where
    F: FnOnce(tokio::net::TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: From<std::io::Error>,
{
    let telemetry = crate::telemetry::init(service, common.log_format);
    let listener = tokio::net::TcpListener::bind(common.listen_addr).await?;
    tracing::info!(addr = %common.listen_addr, "{service} listening");
    let result = run(listener, Box::pin(shutdown_signal())).await;
    telemetry.shutdown();
    result
}
