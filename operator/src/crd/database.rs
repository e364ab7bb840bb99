//! Where the services' databases come from: managed StatefulSets, external URIs or
//! CloudNativePG clusters, and TLS to them.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{QUANTITY, Resources};

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
#[x_kube(validation = kube::core::Rule::new("!self.productReadsFromReplicas || self.instances >= 2")
    .message("productReadsFromReplicas needs instances >= 2: the -ro Service selects replicas only"))]
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
    /// Send the products service's catalogue reads (get, search) to the replicas behind
    /// `<cluster>-ro`, keeping the primary for writes and stock reservations. Replicas lag by
    /// moments: an edit may show in the catalogue a moment later. Needs two or more instances.
    #[serde(default)]
    pub product_reads_from_replicas: bool,
}

impl Default for CloudNativePgSpec {
    fn default() -> Self {
        Self {
            instances: default_cnpg_instances(),
            image_name: None,
            storage_size: default_storage_size(),
            storage_class_name: None,
            product_reads_from_replicas: false,
        }
    }
}

fn default_cnpg_instances() -> i32 {
    2
}

/// The PostgreSQL instances the operator runs, one per service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = storage_size_unchanged())]
#[x_kube(validation = storage_class_unchanged())]
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
    /// The notifications service's database; required when it runs (`notifications.smtp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<SecretKeyRef>,
}

/// A key of a Secret in the Shop's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub name: String,
    /// Key holding the URI: `postgres://user:password@host:port/db` for a database,
    /// `nats://…` for the events server.
    #[serde(default = "default_uri_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

fn default_uri_key() -> String {
    "uri".into()
}

/// The CEL rule of a StatefulSet's `storageSize`: its claim template is immutable, so the size a
/// Shop was created with stays (the databases' and the managed NATS's).
pub(crate) fn storage_size_unchanged() -> kube::core::Rule {
    kube::core::Rule::new("self.storageSize == oldSelf.storageSize")
        .message("storageSize cannot change: StatefulSet claim templates are immutable")
}

/// The same for `storageClassName`, set or not.
pub(crate) fn storage_class_unchanged() -> kube::core::Rule {
    kube::core::Rule::new(
        "has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",
    )
    .message("storageClassName cannot change: StatefulSet claim templates are immutable")
}
