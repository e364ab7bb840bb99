//! Names, labels, owner references and the config hash shared by every child object.
//!
//! Selectors use only the stable `name`/`instance`/`component` labels: a Deployment's selector is
//! immutable, so it must never contain anything that changes with the spec (such as the version).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};

use super::Microservice;
use crate::crd::Shop;

/// What a child object belongs to: its `app.kubernetes.io/name` ([`Component::name`]) and
/// `app.kubernetes.io/component` ([`Component::kind`]) labels come from here, so no label is
/// derived from a string's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// A service's Deployment, Service, NetworkPolicy, budget, Ingress, HPA.
    Service(Microservice),
    /// A service's database (StatefulSet, headless Service, credentials, CloudNativePG Cluster).
    Database(Microservice),
    Jaeger,
    /// The managed NATS (StatefulSet, headless Service, its claim).
    Nats,
    /// The load generator.
    LoadGenerator,
    /// The fault flag ConfigMap.
    Faults,
    /// The shop-wide Secrets (JWT keys, service clients, admin password).
    Secrets,
}

impl Component {
    /// The `app.kubernetes.io/name` label value, also the component's name in the status.
    pub fn name(self) -> String {
        match self {
            Self::Service(service) => service.name().to_string(),
            Self::Database(service) => format!("{}-db", service.name()),
            Self::Jaeger => "jaeger".into(),
            Self::Nats => "nats".into(),
            Self::LoadGenerator => "loadgen".into(),
            Self::Faults => "faults".into(),
            Self::Secrets => "secrets".into(),
        }
    }

    /// The coarse role (`app.kubernetes.io/component`), shared by all databases so they can be
    /// listed together.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Service(_) => "service",
            Self::Database(_) => "database",
            Self::Jaeger => "tracing",
            Self::Nats => "events",
            Self::LoadGenerator => "load-generator",
            Self::Faults => "faults",
            Self::Secrets => "secrets",
        }
    }
}

/// The field manager of every server-side apply, and the `managed-by` label value.
pub const MANAGER: &str = "microshop-operator";
/// Label selecting everything this operator created (used to narrow its watches).
pub const MANAGED_BY_SELECTOR: &str = "app.kubernetes.io/managed-by=microshop-operator";
/// Pod-template annotation whose change rolls the pods when config or secrets change.
pub const CONFIG_HASH_ANNOTATION: &str = "microshop.dev/config-hash";

/// Labels of the pods and objects of one component; the selector subset is [`selector_labels`].
pub fn labels(shop: &Shop, component: Component) -> BTreeMap<String, String> {
    let mut labels = selector_labels(shop, component);
    labels.insert("app.kubernetes.io/part-of".into(), "microshop".into());
    labels.insert("app.kubernetes.io/managed-by".into(), MANAGER.into());
    labels.insert("app.kubernetes.io/version".into(), label_value(&shop.spec.image.tag));
    labels
}

/// The immutable subset of [`labels`] used in selectors.
pub fn selector_labels(shop: &Shop, component: Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), component.name()),
        ("app.kubernetes.io/instance".to_string(), shop.name_any()),
        ("app.kubernetes.io/component".to_string(), component.kind().to_string()),
    ])
}

/// Label selector of every PersistentVolumeClaim of a shop's managed databases. It includes
/// `managed-by`, so claims of another application that happens to use the same `instance` and
/// `component` labels are never selected (the claim templates carry all three).
pub fn database_claims_selector(shop_name: &str) -> String {
    format!("app.kubernetes.io/instance={shop_name},app.kubernetes.io/component=database,{MANAGED_BY_SELECTOR}")
}

/// Label selector of the managed NATS's PersistentVolumeClaim (its JetStream store), which
/// follows the databases' deletion policy.
pub fn events_claims_selector(shop_name: &str) -> String {
    format!("app.kubernetes.io/instance={shop_name},app.kubernetes.io/component=events,{MANAGED_BY_SELECTOR}")
}

/// Label selector of every child this operator made for a shop (pruning lists by it).
pub fn owned_children_selector(shop_name: &str) -> String {
    format!("app.kubernetes.io/instance={shop_name},{MANAGED_BY_SELECTOR}")
}

/// A tag may hold characters a label value may not (`+`); replace them and cut to 63.
fn label_value(raw: &str) -> String {
    let cleaned: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).take(63).collect();
    cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// Metadata of a child: its name, the shop's namespace, labels and the controller owner reference.
pub fn child_meta(shop: &Shop, name: String, component: Component) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: shop.namespace(),
        labels: Some(labels(shop, component)),
        owner_references: Some(vec![owner_reference(shop)]),
        ..ObjectMeta::default()
    }
}

/// Controller owner reference to the Shop, so children are garbage-collected with it and their
/// changes trigger a reconcile of the Shop. `render` has no uid; it prints an empty one.
pub fn owner_reference(shop: &Shop) -> OwnerReference {
    OwnerReference {
        api_version: Shop::api_version(&()).into_owned(),
        kind: Shop::kind(&()).into_owned(),
        name: shop.name_any(),
        uid: shop.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Hex SHA-256 (first 16 characters) of the given parts, each length-prefixed so that
/// `["ab", "c"]` and `["a", "bc"]` differ.
pub fn config_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    ctx.finish().as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_valid_for_odd_tags() {
        let cases = [("0.1.0", "0.1.0"), ("1.0+build", "1.0_build"), ("-x-", "x")];
        for (tag, expected) in cases {
            assert_eq!(label_value(tag), expected, "tag {tag}");
        }
        assert_eq!(label_value(&"a".repeat(100)).len(), 63, "label values are cut to 63");
    }

    #[test]
    fn config_hash_separates_parts() {
        assert_ne!(config_hash(["ab", "c"]), config_hash(["a", "bc"]));
        assert_eq!(config_hash(["x"]), config_hash(["x"]));
        assert_eq!(config_hash(["x"]).len(), 16);
    }

    #[test]
    fn component_names_and_kinds() {
        let cases = [
            (Component::Service(Microservice::Products), "products", "service"),
            (Component::Database(Microservice::Users), "users-db", "database"),
            (Component::Database(Microservice::Storefront), "storefront-db", "database"),
            (Component::Jaeger, "jaeger", "tracing"),
            (Component::Nats, "nats", "events"),
            (Component::Service(Microservice::Notifications), "notifications", "service"),
            (Component::LoadGenerator, "loadgen", "load-generator"),
            (Component::Faults, "faults", "faults"),
        ];
        for (component, name, kind) in cases {
            assert_eq!((component.name().as_str(), component.kind()), (name, kind), "{component:?}");
        }
    }
}
