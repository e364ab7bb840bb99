//! The `Shop` custom resource (`microshop.dev/v1alpha1`).
//!
//! Every field has a default, so `spec: {}` is a complete, working shop. Ranges and enums are
//! enforced by the schema; rules where one field depends on another are CEL rules
//! (`x-kubernetes-validations`), so the API server rejects a bad Shop before the operator sees it.
//! [`crate::validate`] repeats the checks that matter for a Shop that reached us anyway.
//!
//! Unsigned fields carry `format: int32` (their ranges fit): schemars writes `uint32`, which the
//! API server does not know and warns about on every apply of the CRD.

use kube::{CustomResource, KubeSchema};

use serde::{Deserialize, Serialize};

mod database;
mod events;
mod exposure;
mod observability;
mod status;
mod tracing;
mod traffic;
mod workloads;
pub use database::*;
pub use events::*;
pub use exposure::*;
pub use observability::*;
pub use status::*;
pub use tracing::*;
pub use traffic::*;
pub use workloads::*;

/// Quantity syntax of Kubernetes (`100m`, `128Mi`, `1.5`), the same pattern the API server uses.
pub(crate) const QUANTITY: &str = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

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
    /// Where order events go: a NATS JetStream run by the operator (`managed`) or provided
    /// (`external`).
    #[serde(default)]
    pub events: EventsSpec,
    /// E-mails to customers: the notifications service runs once an SMTP relay is named.
    #[serde(default)]
    pub notifications: NotificationsSpec,
    /// Where traces go: an OTLP endpoint, or a Jaeger (v2, in-memory) run by the operator.
    #[serde(default)]
    pub tracing: TracingSpec,
    /// The environment the telemetry names, and Prometheus scraping of the metrics.
    #[serde(default)]
    pub observability: ObservabilitySpec,
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
        let generated = serde_saphyr::to_string(&Shop::crd()).expect("CRD serializes");
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
