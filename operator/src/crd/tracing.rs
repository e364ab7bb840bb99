//! Tracing export: an external OTLP endpoint or a Jaeger v2 run by the operator.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Tracing export of the services.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!(has(self.otlpEndpoint) && self.jaeger.enabled)")
    .message("set either tracing.otlpEndpoint or tracing.jaeger.enabled, not both"))]
pub struct TracingSpec {
    /// An OTLP endpoint outside the shop, e.g. `http://otel-collector.monitoring:4317`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500), regex(pattern = r"^https?://\S+$"))]
    pub otlp_endpoint: Option<String>,
    /// OTLP transport: `grpc` (port 4317) or `http/protobuf` (port 4318).
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// Share of root traces sampled, 0.0 to 1.0.
    #[serde(default = "default_sample_ratio")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sample_ratio: f64,
    /// A Jaeger v2 (in-memory storage) for this shop.
    #[serde(default)]
    pub jaeger: JaegerSpec,
}

impl Default for TracingSpec {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            protocol: OtlpProtocol::default(),
            sample_ratio: default_sample_ratio(),
            jaeger: JaegerSpec::default(),
        }
    }
}

fn default_sample_ratio() -> f64 {
    1.0
}

/// OTLP transport protocols (`OTEL_EXPORTER_OTLP_PROTOCOL` values).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The `OTEL_EXPORTER_OTLP_PROTOCOL` value.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// The optional Jaeger v2 (the OpenTelemetry-collector based Jaeger; v1 is end-of-life).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JaegerSpec {
    /// Run a Jaeger and point every service's OTLP exporter at it.
    #[serde(default)]
    pub enabled: bool,
    /// Jaeger v2 image (`jaegertracing/jaeger` 2.x: OTLP on 4317/4318, UI on 16686, health on 13133);
    /// its configuration is the `<shop>-jaeger` ConfigMap.
    #[serde(default = "default_jaeger_image")]
    #[schemars(length(min = 1, max = 300))]
    pub image: String,
}

impl Default for JaegerSpec {
    fn default() -> Self {
        Self { enabled: false, image: default_jaeger_image() }
    }
}

fn default_jaeger_image() -> String {
    "docker.io/jaegertracing/jaeger:2.12.0".into()
}
