//! Images and the services' own settings: replicas, resources, log level, payments, auth, orders.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::QUANTITY;

/// Image coordinates of the services: `<registry>/microshop-<service>:<tag>`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// Registry and path prefix, without a trailing slash.
    #[serde(default = "default_registry")]
    #[schemars(length(min = 1, max = 200), regex(pattern = r"^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$"))]
    pub registry: String,
    /// Image tag shared by the services (and the load generator).
    #[serde(default = "default_tag")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    pub tag: String,
    /// Kubernetes image pull policy.
    #[serde(default)]
    pub pull_policy: PullPolicy,
}

impl Default for ImageSpec {
    fn default() -> Self {
        Self { registry: default_registry(), tag: default_tag(), pull_policy: PullPolicy::default() }
    }
}

fn default_registry() -> String {
    "ghcr.io/microshop".into()
}

fn default_tag() -> String {
    "0.1.0".into()
}

/// Kubernetes `imagePullPolicy` values.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PullPolicy {
    Always,
    #[default]
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The value Kubernetes expects in `imagePullPolicy`.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// Settings of each service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServicesSpec {
    /// The catalogue and stock service.
    #[serde(default)]
    pub products: ServiceSpec,
    /// Accounts, login and token issuing.
    #[serde(default)]
    pub users: ServiceSpec,
    /// Carts and orders; calls products, users and payments.
    #[serde(default)]
    pub orders: ServiceSpec,
    /// The (simulated) payment processor.
    #[serde(default)]
    pub payments: ServiceSpec,
    /// The web shop (runs when `storefront.enabled`).
    #[serde(default)]
    pub storefront: ServiceSpec,
    /// E-mails for order events (runs when `notifications.smtp` is set).
    #[serde(default)]
    pub notifications: ServiceSpec,
}

/// Settings of one service's Deployment.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// Pod replicas; 0 stops the service but keeps its database.
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 0, max = 50))]
    pub replicas: i32,
    /// Container resource requests and limits.
    #[serde(default = "Resources::service")]
    pub resources: Resources,
    /// `RUST_LOG` filter of the service.
    #[serde(default = "default_log_level")]
    #[schemars(length(min = 1, max = 200))]
    pub log_level: String,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        Self { replicas: default_replicas(), resources: Resources::service(), log_level: default_log_level() }
    }
}

fn default_replicas() -> i32 {
    1
}

fn default_log_level() -> String {
    "info".into()
}

/// Container resources as Kubernetes quantities. No CPU limit by default: CPU limits throttle
/// latency-sensitive services, a memory limit protects the node.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new(
    "!has(self.cpuLimit) || quantity(self.cpuRequest).compareTo(quantity(self.cpuLimit)) <= 0"
).message("cpuRequest must not exceed cpuLimit"))]
#[x_kube(validation = kube::core::Rule::new(
    "quantity(self.memoryRequest).compareTo(quantity(self.memoryLimit)) <= 0"
).message("memoryRequest must not exceed memoryLimit"))]
pub struct Resources {
    /// CPU request (scheduling guarantee), e.g. `50m`.
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub cpu_request: String,
    /// CPU limit; unset (no throttling) by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub cpu_limit: Option<String>,
    /// Memory request, e.g. `64Mi`.
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub memory_request: String,
    /// Memory limit (the container is restarted above it), e.g. `256Mi`.
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub memory_limit: String,
}

impl Resources {
    /// Defaults for a service container.
    pub fn service() -> Self {
        Self { cpu_request: "50m".into(), cpu_limit: None, memory_request: "64Mi".into(), memory_limit: "256Mi".into() }
    }

    /// Defaults for a PostgreSQL container.
    pub fn postgres() -> Self {
        Self {
            cpu_request: "100m".into(),
            cpu_limit: None,
            memory_request: "256Mi".into(),
            memory_limit: "512Mi".into(),
        }
    }

    /// Defaults for the NATS container (JetStream keeps its streams on disk, indexes in memory).
    pub fn nats() -> Self {
        Self { cpu_request: "50m".into(), cpu_limit: None, memory_request: "64Mi".into(), memory_limit: "256Mi".into() }
    }

    /// Defaults for the Jaeger container (in-memory trace storage).
    pub fn jaeger() -> Self {
        Self {
            cpu_request: "50m".into(),
            cpu_limit: None,
            memory_request: "128Mi".into(),
            memory_limit: "512Mi".into(),
        }
    }
}

/// Payment processor simulation, for testing retries and timeouts.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PaymentsSpec {
    /// Added latency of every simulated charge, in milliseconds.
    #[serde(default)]
    #[schemars(range(min = 0, max = 60000), extend("format" = "int32"))]
    pub simulated_latency_ms: u32,
    /// Share of charges that fail with a processor error, 0.0 to 1.0.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub failure_rate: f64,
}

/// Token lifetimes and the bootstrap administrator of the users service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Lifetime of customer and admin access tokens, in seconds.
    #[serde(default = "default_access_ttl")]
    #[schemars(range(min = 60, max = 86400), extend("format" = "int32"))]
    pub access_token_ttl_secs: u32,
    /// Lifetime of service (client-credentials) tokens, in seconds.
    #[serde(default = "default_service_ttl")]
    #[schemars(range(min = 30, max = 3600), extend("format" = "int32"))]
    pub service_token_ttl_secs: u32,
    /// Lifetime of each refresh token, in seconds: how long a shopper stays logged in without
    /// a visit (every renewal issues a successor living as long again).
    #[serde(default = "default_refresh_ttl")]
    #[schemars(range(min = 300, max = 7776000), extend("format" = "int32"))]
    pub refresh_token_ttl_secs: u32,
    /// E-mail of the administrator created at first start; its password is generated into a Secret.
    #[serde(default = "default_admin_email")]
    #[schemars(length(min = 3, max = 254), regex(pattern = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"))]
    pub bootstrap_admin_email: String,
}

impl Default for AuthSpec {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: default_access_ttl(),
            service_token_ttl_secs: default_service_ttl(),
            refresh_token_ttl_secs: default_refresh_ttl(),
            bootstrap_admin_email: default_admin_email(),
        }
    }
}

fn default_access_ttl() -> u32 {
    900
}

fn default_refresh_ttl() -> u32 {
    7 * 24 * 3600
}

fn default_service_ttl() -> u32 {
    300
}

fn default_admin_email() -> String {
    "admin@microshop.local".into()
}

/// Settings of the orders service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrdersSpec {
    /// How long an unpaid order holds its stock reservation, in seconds.
    #[serde(default = "default_order_ttl")]
    #[schemars(range(min = 60, max = 86400), extend("format" = "int32"))]
    pub order_ttl_secs: u32,
}

impl Default for OrdersSpec {
    fn default() -> Self {
        Self { order_ttl_secs: default_order_ttl() }
    }
}

fn default_order_ttl() -> u32 {
    900
}
