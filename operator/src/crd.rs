//! The `Shop` custom resource (`microshop.dev/v1alpha1`).
//!
//! Every field has a default, so `spec: {}` is a complete, working shop. Ranges and enums are
//! enforced by the schema; rules where one field depends on another are CEL rules
//! (`x-kubernetes-validations`), so the API server rejects a bad Shop before the operator sees it.
//! [`crate::validate`] repeats the checks that matter for a Shop that reached us anyway.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};

mod traffic;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use traffic::{AutoscalingSpec, FaultsSpec, IngressSpec, LoadGeneratorSpec, NetworkPolicySpec, StorefrontSpec};

/// Quantity syntax of Kubernetes (`100m`, `128Mi`, `1.5`), the same pattern the API server uses.
const QUANTITY: &str = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Desired state of one shop: the services, their databases, their secrets, optional tracing,
/// load generation and faults.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "microshop.dev",
    version = "v1alpha1",
    kind = "Shop",
    namespaced,
    status = "ShopStatus",
    shortname = "shop",
    doc = "A complete microshop: products, users, orders and payments services with their databases.",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        description = "ready components / desired components",
        json_path = ".status.readyComponents"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = kube::core::Rule::new("size(self.metadata.name) <= 40")
        .message("a Shop name is at most 40 characters: child names such as <name>-payments-db-0 must stay DNS labels"),
    validation = kube::core::Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')")
        .message("a Shop name must be a DNS label: its children's Service names start with it")
)]
#[serde(rename_all = "camelCase")]
pub struct ShopSpec {
    /// Where the service images come from.
    #[serde(default)]
    pub image: ImageSpec,
    /// Replicas, resources and log level of each service.
    #[serde(default)]
    pub services: ServicesSpec,
    /// Payment processor simulation (latency and failure injection).
    #[serde(default)]
    pub payments: PaymentsSpec,
    /// Token lifetimes and the bootstrap administrator.
    #[serde(default)]
    pub auth: AuthSpec,
    /// Order settings.
    #[serde(default)]
    pub orders: OrdersSpec,
    /// One PostgreSQL per service, run by the operator (`managed`) or provided (`external`).
    #[serde(default)]
    pub database: DatabaseSpec,
    /// Where traces go: an OTLP endpoint, or a Jaeger (v2, in-memory) run by the operator.
    #[serde(default)]
    pub tracing: TracingSpec,
    /// How the services are reachable: ClusterIP, or NodePort with fixed ports (for kind).
    #[serde(default)]
    pub exposure: ExposureSpec,
    /// The web shop in front of the services (on by default).
    #[serde(default)]
    pub storefront: StorefrontSpec,
    /// A load generator that shops like people (off by default).
    #[serde(default)]
    pub load_generator: LoadGeneratorSpec,
    /// Faults switched on at run time through the `<shop>-faults` flag file (all off by default).
    #[serde(default)]
    pub faults: FaultsSpec,
    /// NetworkPolicies between the shop's workloads (on by default).
    #[serde(default)]
    pub network_policy: NetworkPolicySpec,
    /// HorizontalPodAutoscalers for the services (off by default).
    #[serde(default)]
    pub autoscaling: AutoscalingSpec,
    /// When true the operator writes nothing to the children and reports phase `Paused`.
    #[serde(default)]
    pub paused: bool,
}

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
    #[schemars(range(min = 0, max = 60000))]
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
    #[schemars(range(min = 60, max = 86400))]
    pub access_token_ttl_secs: u32,
    /// Lifetime of service (client-credentials) tokens, in seconds.
    #[serde(default = "default_service_ttl")]
    #[schemars(range(min = 30, max = 3600))]
    pub service_token_ttl_secs: u32,
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
            bootstrap_admin_email: default_admin_email(),
        }
    }
}

fn default_access_ttl() -> u32 {
    900
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
    #[schemars(range(min = 60, max = 86400))]
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

/// Where the services' databases come from.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.mode != 'external' || has(self.external)")
    .message("database.external (a Secret reference per service) is required when mode is external"))]
pub struct DatabaseSpec {
    /// `managed`: one PostgreSQL StatefulSet per service; `external`: connection URIs from
    /// Secrets; `cloudnativepg`: one CloudNativePG `Cluster` per service (CloudNativePG must be
    /// installed).
    #[serde(default)]
    pub mode: DatabaseMode,
    /// Settings of the CloudNativePG clusters (`cloudnativepg` mode only).
    #[serde(default)]
    pub cloudnativepg: CloudNativePgSpec,
    /// TLS from the services to their databases (`external` and `cloudnativepg` modes).
    #[serde(default)]
    pub tls: DatabaseTlsSpec,
    /// Settings of the managed PostgreSQL instances (ignored in `external` mode).
    #[serde(default)]
    pub managed: ManagedDatabaseSpec,
    /// Per-service Secret references holding a `postgres://` URI (required in `external` mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDatabases>,
}

/// Database mode of a shop.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseMode {
    #[default]
    Managed,
    External,
    #[serde(rename = "cloudnativepg")]
    CloudNativePg,
}

/// TLS to the databases: libpq's `sslmode`, and the CA that signed the servers' certificates.
/// In `cloudnativepg` mode the default is `verify-full` against each cluster's own CA
/// (`<cluster>-ca`, key `ca.crt`); in `external` mode nothing is added to the URIs unless set.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseTlsSpec {
    /// `sslmode` appended to each service's URI (which must then carry no query of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_mode: Option<SslMode>,
    /// Secret key holding the CA certificate (PEM), mounted and passed as `sslrootcert`
    /// (external mode; CloudNativePG clusters use their own CA Secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<SecretKeyRef>,
}

/// libpq `sslmode` values the services support.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// The `sslmode` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// CloudNativePG clusters, one per service: replicated PostgreSQL with failover, a
/// PodDisruptionBudget and a non-superuser application owner, all run by CloudNativePG.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CloudNativePgSpec {
    /// PostgreSQL instances per cluster (one primary, the rest streaming replicas).
    #[serde(default = "default_cnpg_instances")]
    #[schemars(range(min = 1, max = 9))]
    pub instances: i32,
    /// PostgreSQL image; CloudNativePG's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 300))]
    pub image_name: Option<String>,
    /// Size of each instance's volume.
    #[serde(default = "default_storage_size")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub storage_size: String,
    /// StorageClass of the volumes; the cluster default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class_name: Option<String>,
}

impl Default for CloudNativePgSpec {
    fn default() -> Self {
        Self {
            instances: default_cnpg_instances(),
            image_name: None,
            storage_size: default_storage_size(),
            storage_class_name: None,
        }
    }
}

fn default_cnpg_instances() -> i32 {
    2
}

/// The PostgreSQL instances the operator runs, one per service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.storageSize == oldSelf.storageSize")
    .message("storageSize cannot change: StatefulSet claim templates are immutable"))]
#[x_kube(validation = kube::core::Rule::new(
    "has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)"
).message("storageClassName cannot change: StatefulSet claim templates are immutable"))]
pub struct ManagedDatabaseSpec {
    /// PostgreSQL image (15 or newer).
    #[serde(default = "default_postgres_image")]
    #[schemars(length(min = 1, max = 300))]
    pub image: String,
    /// Size of each database's PersistentVolumeClaim.
    #[serde(default = "default_storage_size")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub storage_size: String,
    /// StorageClass of the claims; the cluster default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class_name: Option<String>,
    /// What happens to the data when the Shop is deleted: `Retain` keeps the claims.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Resources of each PostgreSQL container.
    #[serde(default = "Resources::postgres")]
    pub resources: Resources,
}

impl Default for ManagedDatabaseSpec {
    fn default() -> Self {
        Self {
            image: default_postgres_image(),
            storage_size: default_storage_size(),
            storage_class_name: None,
            deletion_policy: DeletionPolicy::default(),
            resources: Resources::postgres(),
        }
    }
}

fn default_postgres_image() -> String {
    "docker.io/library/postgres:17".into()
}

fn default_storage_size() -> String {
    "1Gi".into()
}

/// Fate of the managed databases' PersistentVolumeClaims when the Shop is deleted.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    /// Keep the claims (and so the data); the default, so deleting a Shop never loses data by accident.
    #[default]
    Retain,
    /// Delete the claims with the Shop (a finalizer makes sure this happens).
    Delete,
}

/// Connection URIs of externally managed databases, one Secret key per service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDatabases {
    pub products: SecretKeyRef,
    pub users: SecretKeyRef,
    pub orders: SecretKeyRef,
    pub payments: SecretKeyRef,
    /// The storefront's database; required when the storefront is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storefront: Option<SecretKeyRef>,
}

/// A key of a Secret in the Shop's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub name: String,
    /// Key holding a `postgres://user:password@host:port/db` URI.
    #[serde(default = "default_uri_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

fn default_uri_key() -> String {
    "uri".into()
}

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
    "docker.io/jaegertracing/jaeger:2.10.0".into()
}

/// How the services (and Jaeger's UI) are exposed.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExposureSpec {
    /// `ClusterIP` (in-cluster only) or `NodePort` (fixed ports on every node).
    #[serde(default, rename = "type")]
    pub type_: ExposureType,
    /// Fixed node ports, used when `type` is `NodePort` (kind maps them to the host).
    #[serde(default)]
    pub node_ports: NodePorts,
    /// An Ingress for the storefront.
    #[serde(default)]
    pub ingress: IngressSpec,
}

/// Kubernetes Service types the operator supports.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExposureType {
    #[default]
    ClusterIP,
    NodePort,
}

/// One node port per exposed Service; they must differ.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new(
    "[self.products, self.users, self.orders, self.payments, self.jaeger, self.storefront].all(p, [self.products, self.users, self.orders, self.payments, self.jaeger, self.storefront].filter(q, q == p).size() == 1)"
).message("node ports must differ"))]
pub struct NodePorts {
    /// Node port of the products Service.
    #[serde(default = "port_products")]
    #[schemars(range(min = 30000, max = 32767))]
    pub products: i32,
    /// Node port of the users Service.
    #[serde(default = "port_users")]
    #[schemars(range(min = 30000, max = 32767))]
    pub users: i32,
    /// Node port of the orders Service.
    #[serde(default = "port_orders")]
    #[schemars(range(min = 30000, max = 32767))]
    pub orders: i32,
    /// Node port of the payments Service.
    #[serde(default = "port_payments")]
    #[schemars(range(min = 30000, max = 32767))]
    pub payments: i32,
    /// Port of the Jaeger UI.
    #[serde(default = "port_jaeger")]
    #[schemars(range(min = 30000, max = 32767))]
    pub jaeger: i32,
    /// Node port of the storefront Service (the web shop).
    #[serde(default = "port_storefront")]
    #[schemars(range(min = 30000, max = 32767))]
    pub storefront: i32,
}

impl Default for NodePorts {
    fn default() -> Self {
        Self {
            products: port_products(),
            users: port_users(),
            orders: port_orders(),
            payments: port_payments(),
            jaeger: port_jaeger(),
            storefront: port_storefront(),
        }
    }
}

fn port_products() -> i32 {
    30080
}
fn port_users() -> i32 {
    30081
}
fn port_orders() -> i32 {
    30082
}
fn port_payments() -> i32 {
    30083
}
fn port_jaeger() -> i32 {
    30686
}
fn port_storefront() -> i32 {
    30000
}

/// Observed state of a shop, written only when it changes (see `crate::status`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ShopStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub phase: Phase,
    /// `ready/desired` components, for `kubectl get shops`.
    #[serde(default)]
    pub ready_components: String,
    #[serde(default)]
    pub conditions: Vec<ShopCondition>,
    /// One entry per workload the operator runs, sorted by name.
    #[serde(default)]
    pub components: Vec<ComponentStatus>,
    /// In-cluster URLs: each service's API docs, and Jaeger's UI when enabled.
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

/// Lifecycle phase of a shop.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Phase {
    /// Nothing is ready yet.
    #[default]
    Pending,
    /// Some components are ready, others are still rolling out.
    Progressing,
    /// Every component has all its replicas ready.
    Ready,
    /// The spec is invalid or applying it failed.
    Degraded,
    /// `spec.paused` is true.
    Paused,
}

/// A standard Kubernetes condition (`type`, `status`, `reason`, `message`, `lastTransitionTime`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShopCondition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    /// RFC 3339; changes only when `status` changes, so unchanged conditions do not rewrite status.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Replicas of one workload (a service, a database or Jaeger).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    pub name: String,
    /// `Deployment` or `StatefulSet`.
    pub kind: String,
    pub desired_replicas: i32,
    pub ready_replicas: i32,
}

#[cfg(test)]
#[path = "crd_cel_tests.rs"]
mod cel_tests;

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;

    use super::*;

    /// `k8s/crd.yaml` is generated; this fails when the Rust types changed and it was not regenerated.
    #[test]
    fn committed_crd_yaml_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../k8s/crd.yaml");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = serde_yaml::to_string(&Shop::crd()).expect("CRD serializes");
        assert!(committed == generated, "k8s/crd.yaml is stale: run `cargo run -q -p operator -- crd > k8s/crd.yaml`");
    }

    fn leaf_paths(schema: &serde_json::Value, path: String, out: &mut Vec<String>) {
        match schema["properties"].as_object() {
            Some(properties) => {
                for (key, child) in properties {
                    leaf_paths(child, format!("{path}.{key}"), out);
                }
            }
            None => out.push(path),
        }
    }

    /// docs/operator.md carries a field reference; a new field must be documented there.
    #[test]
    fn every_spec_field_is_documented() {
        let crd = serde_json::to_value(Shop::crd()).expect("json");
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let mut paths = Vec::new();
        leaf_paths(spec, "spec".into(), &mut paths);
        assert!(paths.len() > 40, "walked the schema: {}", paths.len());
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operator.md")).unwrap_or_default();
        let missing: Vec<&String> = paths.iter().filter(|p| !docs.contains(&format!("`{p}`"))).collect();
        assert!(missing.is_empty(), "fields missing from docs/operator.md: {missing:?}");
    }

    #[test]
    fn empty_spec_deserializes_to_the_defaults() {
        let shop: Shop = serde_json::from_value(serde_json::json!({
            "apiVersion": "microshop.dev/v1alpha1", "kind": "Shop",
            "metadata": {"name": "demo"}, "spec": {}
        }))
        .expect("empty spec is a Shop");
        assert_eq!(shop.spec, ShopSpec::default());
        assert_eq!(shop.spec.database.mode, DatabaseMode::Managed);
        assert_eq!(shop.spec.database.managed.deletion_policy, DeletionPolicy::Retain, "data is kept by default");
        assert_eq!(shop.spec.image.registry, "ghcr.io/microshop");
        assert_eq!(shop.spec.services.users.replicas, 1);
    }

    #[test]
    fn crd_has_the_promised_names_columns_and_rules() {
        let crd = serde_json::to_value(Shop::crd()).expect("json");
        assert_eq!(crd["spec"]["names"]["shortNames"][0], "shop");
        assert_eq!(crd["spec"]["scope"], "Namespaced");
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v1alpha1");
        assert!(version["subresources"]["status"].is_object(), "status subresource");
        let columns: Vec<&str> = version["additionalPrinterColumns"]
            .as_array()
            .expect("columns")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(columns, ["Phase", "Ready", "Age"]);
        let text = crd.to_string();
        assert!(text.contains("self.mode != 'external' || has(self.external)"), "external needs its references");
        let mode =
            &version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["database"]["properties"]["mode"];
        assert_eq!(mode["enum"], serde_json::json!(["managed", "external", "cloudnativepg"]));
    }
}
