//! The parts of a Shop that face shoppers and testers: the storefront, the load generator and
//! the run-time fault flags (issues 9 and 12). Their process contracts are in HELPERS.md /
//! `docs/operator.md`; here are only the knobs a Shop exposes.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Resources;

/// The web shop (`microshop-storefront`). Its replicas, resources and log level are
/// `spec.services.storefront`, like every other service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorefrontSpec {
    /// Run the storefront (a Deployment, a Service and its own database `storefront`).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// `STOREFRONT_SECURE_COOKIES`: mark the session cookie `Secure`; set it when the shop is
    /// served over TLS (an Ingress or Gateway terminating TLS in front of it).
    #[serde(default)]
    pub secure_cookies: bool,
}

impl Default for StorefrontSpec {
    fn default() -> Self {
        Self { enabled: true, secure_cookies: false }
    }
}

fn default_true() -> bool {
    true
}

/// The load generator (`microshop-loadgen`): one replica that shops until stopped.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoadGeneratorSpec {
    /// Run the load generator (a one-replica Deployment, no Service).
    #[serde(default)]
    pub enabled: bool,
    /// New simulated shoppers per second (`LOADGEN_USERS_PER_SEC`).
    #[serde(default = "default_users_per_second")]
    #[schemars(range(min = 0.01, max = 1000.0))]
    pub users_per_second: f64,
    /// Container resources of the load generator.
    #[serde(default = "Resources::service")]
    pub resources: Resources,
}

impl Default for LoadGeneratorSpec {
    fn default() -> Self {
        Self { enabled: false, users_per_second: default_users_per_second(), resources: Resources::service() }
    }
}

fn default_users_per_second() -> f64 {
    1.0
}

/// Fault flags, rendered into the `<shop>-faults` ConfigMap (flagd flag-definition format) that
/// products, users and payments re-read while running: changing a value needs no restart.
/// An unset flag is off.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct FaultsSpec {
    /// Share of payment attempts that fail, 0.0 to 1.0 (payments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub payment_failure_rate: Option<f64>,
    /// Added latency of every payment, in milliseconds (payments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 60000), extend("format" = "int32"))]
    pub payment_latency_ms: Option<u32>,
    /// Added latency of product search, in milliseconds (products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 60000), extend("format" = "int32"))]
    pub product_search_delay_ms: Option<u32>,
    /// When true, products answers 503 on its API routes (health stays up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products_unavailable: Option<bool>,
    /// Added latency of login and token issuing, in milliseconds (users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 60000), extend("format" = "int32"))]
    pub users_token_delay_ms: Option<u32>,
}

/// Who may talk to whom inside the shop.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// One NetworkPolicy per workload: each service accepts connections only from its callers,
    /// each database only from its service (needs a network plugin that enforces them).
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for NetworkPolicySpec {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// An Ingress in front of the storefront (off by default; an ingress controller must run).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// Create the Ingress `<shop>-storefront`.
    #[serde(default)]
    pub enabled: bool,
    /// `ingressClassName`; the cluster's default class when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub class_name: Option<String>,
    /// Host name the shop answers on; every host when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub host: Option<String>,
    /// TLS Secret for `host`; when set the storefront's session cookie is `Secure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub tls_secret_name: Option<String>,
}

/// A Gateway API `HTTPRoute` to the storefront (off by default; the Gateway API CRDs and a
/// Gateway must exist: the route attaches to it, the Gateway's owner decides addresses and TLS).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!self.enabled || size(self.parentRefs) > 0")
    .message("httpRoute.parentRefs must name at least one Gateway when the route is enabled"))]
pub struct HttpRouteSpec {
    /// Create the HTTPRoute `<shop>-storefront`.
    #[serde(default)]
    pub enabled: bool,
    /// The Gateways (and optionally their listeners) the route attaches to.
    #[serde(default)]
    #[schemars(length(max = 8))]
    pub parent_refs: Vec<GatewayRef>,
    /// Host names the route answers for; every host the listener accepts when empty.
    #[serde(default)]
    #[schemars(
        length(max = 16),
        inner(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))
    )]
    pub hostnames: Vec<String>,
    /// The listener serves HTTPS (the Gateway terminates TLS): the storefront's session cookie
    /// is then `Secure`.
    #[serde(default)]
    pub tls: bool,
}

/// A Gateway the route attaches to.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRef {
    /// The Gateway's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Its namespace; the Shop's when unset (a Gateway elsewhere must allow routes from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
    /// One listener of the Gateway; all of them when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub section_name: Option<String>,
}

/// HorizontalPodAutoscalers for the stateless services (off by default; needs metrics-server).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingSpec {
    /// One `autoscaling/v2` HPA per service, between its `replicas` and `maxReplicas`; the
    /// operator then leaves the Deployments' replica count to the HPA.
    #[serde(default)]
    pub enabled: bool,
    /// Upper bound of replicas per service.
    #[serde(default = "default_max_replicas")]
    #[schemars(range(min = 1, max = 50))]
    pub max_replicas: i32,
    /// Average CPU utilisation (percent of the CPU request) the HPA aims for.
    #[serde(default = "default_target_cpu")]
    #[schemars(range(min = 10, max = 100))]
    pub target_cpu_utilization: i32,
}

impl Default for AutoscalingSpec {
    fn default() -> Self {
        Self { enabled: false, max_replicas: default_max_replicas(), target_cpu_utilization: default_target_cpu() }
    }
}

fn default_max_replicas() -> i32 {
    5
}

fn default_target_cpu() -> i32 {
    70
}
