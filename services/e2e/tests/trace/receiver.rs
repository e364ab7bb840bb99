//! A small OTLP trace receiver for tests, over gRPC or HTTP/protobuf, keeping every span with
//! the `service.name` of the process that sent it.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value as AnyValue,
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

type Store = Arc<Mutex<Vec<Span>>>;

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

fn collect(request: ExportTraceServiceRequest, store: &Store) {
    let mut spans = store.lock().unwrap_or_else(|p| p.into_inner());
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .map(|kv| value_text(kv.value.as_ref().and_then(|v| v.value.as_ref())))
            .unwrap_or_default();
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
                    attributes: span
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), value_text(kv.value.as_ref().and_then(|v| v.value.as_ref()))))
                        .collect(),
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

#[poem::handler]
async fn http_export(body: Vec<u8>, store: poem::web::Data<&Store>) -> poem::Response {
    match ExportTraceServiceRequest::decode(body.as_slice()) {
        Ok(request) => {
            collect(request, &store);
            poem::Response::builder()
                .content_type("application/x-protobuf")
                .body(ExportTraceServiceResponse { partial_success: None }.encode_to_vec())
        }
        Err(_) => poem::Response::builder().status(poem::http::StatusCode::BAD_REQUEST).finish(),
    }
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
                let service = TraceServiceServer::new(Grpc(store.clone()));
                let incoming = tonic::transport::server::TcpIncoming::from(listener);
                tokio::spawn(tonic::transport::Server::builder().add_service(service).serve_with_incoming(incoming));
            }
            Protocol::HttpProtobuf => {
                use poem::EndpointExt;
                let app = poem::Route::new().at("/v1/traces", poem::post(http_export)).data(store.clone());
                let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
                tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
            }
        }
        Receiver { endpoint, store }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
