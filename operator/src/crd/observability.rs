//! What the services report beside their traces: the environment their telemetry names, and
//! Prometheus scraping of their `/metrics`.

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Telemetry settings shared by every workload of the shop.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservabilitySpec {
    /// `deployment.environment.name` on every span, metric and log record (`production`,
    /// `staging`, ...), so one backend can hold several shops apart.
    #[serde(default = "default_environment")]
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub environment: String,
    /// Prometheus scraping of the services' and Jaeger's metrics.
    #[serde(default)]
    pub prometheus: PrometheusSpec,
}

impl Default for ObservabilitySpec {
    fn default() -> Self {
        Self { environment: default_environment(), prometheus: PrometheusSpec::default() }
    }
}

fn default_environment() -> String {
    "production".into()
}

/// How a Prometheus finds and reaches the shop's metrics.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpec {
    /// A prometheus-operator object selecting every service's `/metrics` and Jaeger's span
    /// metrics: `None` (the default), `PodMonitor` or `ServiceMonitor` (its CRD must be
    /// installed, e.g. by kube-prometheus-stack). The job label is the service's name, as the
    /// dashboards expect.
    #[serde(default)]
    pub monitor: MonitorKind,
    /// Labels on the monitor, so a Prometheus's selector picks it (kube-prometheus-stack selects
    /// `release: <its release name>` by default).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 20))]
    pub monitor_labels: BTreeMap<String, String>,
    /// The namespace Prometheus scrapes from (e.g. `monitoring`): with NetworkPolicies on, the
    /// services' port (which serves `/metrics`) and Jaeger's span-metrics port admit its pods.
    /// Unset: no policy admits a scraper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub scraper_namespace: Option<String>,
    /// The Prometheus Jaeger's Monitor tab reads the span metrics back from (with
    /// `tracing.jaeger.enabled`), e.g. `http://prometheus-operated.monitoring:9090`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500), regex(pattern = r"^https?://\S+$"))]
    pub url: Option<String>,
}

/// The prometheus-operator kind that selects the shop's metrics endpoints.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MonitorKind {
    #[default]
    None,
    PodMonitor,
    ServiceMonitor,
}
