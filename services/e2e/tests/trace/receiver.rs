//! A small OTLP receiver for tests, over gRPC or HTTP/protobuf, keeping every span, metric
//! name and log record with the `service.name` of the process that sent it.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::{
            ExportLogsServiceRequest, ExportLogsServiceResponse,
            logs_service_server::{LogsService, LogsServiceServer},
        },
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{KeyValue, any_value::Value as AnyValue},
    resource::v1::Resource,
};
use prost::Message;

/// A received span, flattened for assertions.
#[derive(Debug, Clone)]
pub struct Span {
    pub service: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    /// `SPAN_KIND_SERVER`, `SPAN_KIND_CLIENT`, ...
    pub kind: String,
    pub attributes: BTreeMap<String, String>,
    /// `STATUS_CODE_UNSET`, `STATUS_CODE_OK`, `STATUS_CODE_ERROR`.
    pub status: String,
}

/// A received log record, flattened for assertions.
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub service: String,
    pub body: String,
    /// Empty when the record was written outside any span.
    pub trace_id: String,
}

/// Everything received.
#[derive(Debug, Default)]
struct Received {
    spans: Vec<Span>,
    /// (service, metric name) of every metric sent.
    metrics: Vec<(String, String)>,
    logs: Vec<LogRecord>,
}

type Store = Arc<Mutex<Received>>;

fn service_of(resource: Option<&Resource>) -> String {
    resource
        .iter()
        .flat_map(|r| r.attributes.iter())
        .find(|kv| kv.key == "service.name")
        .map(|kv| value_text(kv.value.as_ref().and_then(|v| v.value.as_ref())))
        .unwrap_or_default()
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter().map(|kv| (kv.key.clone(), value_text(kv.value.as_ref().and_then(|v| v.value.as_ref())))).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn value_text(value: Option<&AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn collect_metrics(request: ExportMetricsServiceRequest, store: &Store) {
    let mut received = store.lock().unwrap_or_else(|p| p.into_inner());
    for resource_metrics in request.resource_metrics {
        let service = service_of(resource_metrics.resource.as_ref());
        for scope in resource_metrics.scope_metrics {
            for metric in scope.metrics {
                received.metrics.push((service.clone(), metric.name));
            }
        }
    }
}

fn collect_logs(request: ExportLogsServiceRequest, store: &Store) {
    let mut received = store.lock().unwrap_or_else(|p| p.into_inner());
    for resource_logs in request.resource_logs {
        let service = service_of(resource_logs.resource.as_ref());
        for scope in resource_logs.scope_logs {
            for record in scope.log_records {
                let body = value_text(record.body.as_ref().and_then(|b| b.value.as_ref()));
                received.logs.push(LogRecord { service: service.clone(), body, trace_id: hex(&record.trace_id) });
            }
        }
    }
}

fn collect(request: ExportTraceServiceRequest, store: &Store) {
    let mut received = store.lock().unwrap_or_else(|p| p.into_inner());
    let spans = &mut received.spans;
    for resource_spans in request.resource_spans {
        let service = service_of(resource_spans.resource.as_ref());
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                let kind = span.kind().as_str_name().to_owned();
                let status = span.status.as_ref().map(|s| s.code().as_str_name().to_owned()).unwrap_or_default();
                spans.push(Span {
                    service: service.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name.clone(),
                    kind,
                    attributes: attributes(&span.attributes),
                    status,
                });
            }
        }
    }
}

struct Grpc(Store);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        collect(request.into_inner(), &self.0);
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        collect_metrics(request.into_inner(), &self.0);
        Ok(tonic::Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        collect_logs(request.into_inner(), &self.0);
        Ok(tonic::Response::new(ExportLogsServiceResponse { partial_success: None }))
    }
}

/// Decodes an OTLP/HTTP body, hands it to `collect` and answers with `reply`.
fn http_answer<R: Message + Default>(body: &[u8], collect: impl FnOnce(R), reply: impl Message) -> poem::Response {
    match R::decode(body) {
        Ok(request) => {
            collect(request);
            poem::Response::builder().content_type("application/x-protobuf").body(reply.encode_to_vec())
        }
        Err(_) => poem::Response::builder().status(poem::http::StatusCode::BAD_REQUEST).finish(),
    }
}

#[poem::handler]
async fn http_traces(body: Vec<u8>, store: poem::web::Data<&Store>) -> poem::Response {
    http_answer(&body, |r| collect(r, &store), ExportTraceServiceResponse { partial_success: None })
}

#[poem::handler]
async fn http_metrics(body: Vec<u8>, store: poem::web::Data<&Store>) -> poem::Response {
    http_answer(&body, |r| collect_metrics(r, &store), ExportMetricsServiceResponse { partial_success: None })
}

#[poem::handler]
async fn http_logs(body: Vec<u8>, store: poem::web::Data<&Store>) -> poem::Response {
    http_answer(&body, |r| collect_logs(r, &store), ExportLogsServiceResponse { partial_success: None })
}

/// Which OTLP transport the receiver speaks.
#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    Grpc,
    HttpProtobuf,
}

impl Protocol {
    /// The `OTEL_EXPORTER_OTLP_PROTOCOL` value.
    pub fn env_value(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::HttpProtobuf => "http/protobuf",
        }
    }
}

/// A running receiver.
pub struct Receiver {
    /// Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
    store: Store,
}

impl Receiver {
    pub async fn start(protocol: Protocol) -> Receiver {
        let store: Store = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        match protocol {
            Protocol::Grpc => {
                let incoming = tonic::transport::server::TcpIncoming::from(listener);
                let server = tonic::transport::Server::builder()
                    .add_service(TraceServiceServer::new(Grpc(store.clone())))
                    .add_service(MetricsServiceServer::new(Grpc(store.clone())))
                    .add_service(LogsServiceServer::new(Grpc(store.clone())));
                tokio::spawn(server.serve_with_incoming(incoming));
            }
            Protocol::HttpProtobuf => {
                use poem::EndpointExt;
                let app = poem::Route::new()
                    .at("/v1/traces", poem::post(http_traces))
                    .at("/v1/metrics", poem::post(http_metrics))
                    .at("/v1/logs", poem::post(http_logs))
                    .data(store.clone());
                let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
                tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
            }
        }
        Receiver { endpoint, store }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).spans.clone()
    }

    /// The (service, metric name) pairs received so far.
    pub fn metrics(&self) -> Vec<(String, String)> {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).metrics.clone()
    }

    /// Every log record received so far.
    pub fn logs(&self) -> Vec<LogRecord> {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).logs.clone()
    }
}
