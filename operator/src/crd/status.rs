//! The observed state the operator writes (`status`), computed by `crate::status`.

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// Replicas of one workload (a service, a database, the managed NATS or Jaeger).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    pub name: String,
    pub kind: WorkloadKind,
    pub desired_replicas: i32,
    pub ready_replicas: i32,
}

/// What runs a component: a Deployment (a service, Jaeger, the load generator), a StatefulSet
/// (a managed database, the managed NATS) or a CloudNativePG Cluster (a replicated database).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    Cluster,
}

impl WorkloadKind {
    /// Whether the component may be a database (readiness of the `DatabasesReady` condition);
    /// the managed NATS is a StatefulSet too, so the status also checks the name.
    pub fn runs_a_database(self) -> bool {
        matches!(self, Self::StatefulSet | Self::Cluster)
    }
}
