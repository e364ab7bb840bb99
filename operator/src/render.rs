//! `operator render`: every object the reconciler would apply for a Shop, as multi-document YAML.
//!
//! Uses the same build functions as the controller; Secret values are placeholders, so the
//! output can be reviewed and schema-checked without generating real secrets.

use kube::ResourceExt;
use serde::Serialize;

use crate::build::{
    SecretVersions,
    secrets::{PlaceholderSource, SecretError, complete, secret, secret_plans},
    workloads,
};
use crate::crd::Shop;
use crate::validate::{SpecErrors, validate};

/// Why a Shop could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The input is not a Shop.
    #[error("not a Shop manifest: {0}")]
    Parse(#[source] serde_saphyr::Error),
    /// The Shop fails validation.
    #[error(transparent)]
    Invalid(#[from] SpecErrors),
    /// Completing a Secret failed (cannot happen with placeholders; kept for honesty).
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// An object could not be serialized.
    #[error("cannot serialize {0}: {1}")]
    Serialize(String, #[source] serde_saphyr::SerializeError),
}

/// The uid written into owner references when the Shop has none (it was never stored).
pub const PLACEHOLDER_UID: &str = "00000000-0000-0000-0000-000000000000";

/// Parses a Shop manifest, filling what only the API server would set.
pub fn parse_shop(yaml: &str) -> Result<Shop, RenderError> {
    let mut shop: Shop = serde_saphyr::from_str(yaml).map_err(RenderError::Parse)?;
    if shop.metadata.uid.is_none() {
        shop.metadata.uid = Some(PLACEHOLDER_UID.into());
    }
    Ok(shop)
}

/// Renders all children of a Shop: Secrets, ConfigMaps, then databases, then services (apply order).
pub fn render(shop: &Shop) -> Result<String, RenderError> {
    let valid = validate(shop)?;
    let shop = valid.shop();
    let mut docs = Vec::new();
    let mut versions = SecretVersions::new();
    for plan in secret_plans(valid) {
        let completed = complete(shop, plan.kind, &Default::default(), &PlaceholderSource)?;
        docs.push(to_yaml(&secret(shop, &plan, &completed.data), &plan.name)?);
        versions.insert(plan.name.clone(), "rendered".into());
    }
    let built = workloads(valid, &versions);
    docs.extend(all_yaml(&built.config_maps)?);
    docs.extend(all_yaml(&built.network_policies)?);
    docs.extend(all_yaml(&built.disruption_budgets)?);
    docs.extend(all_yaml(&built.ingresses)?);
    docs.extend(all_yaml(&built.http_routes)?);
    docs.extend(all_yaml(&built.monitors)?);
    docs.extend(all_yaml(&built.autoscalers)?);
    docs.extend(all_yaml(&built.clusters)?);
    docs.extend(all_yaml(&built.statefulsets)?);
    docs.extend(all_yaml(&built.services)?);
    docs.extend(all_yaml(&built.deployments)?);
    Ok(docs.join("---\n"))
}

/// One YAML document per object, in order.
fn all_yaml<K: Serialize + ResourceExt>(objects: &[K]) -> Result<Vec<String>, RenderError> {
    objects.iter().map(|object| to_yaml(object, &object.name_any())).collect()
}

fn to_yaml(object: &impl Serialize, name: &str) -> Result<String, RenderError> {
    serde_saphyr::to_string(object).map_err(|e| RenderError::Serialize(name.to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_shop_renders_every_child_with_kinds() {
        let shop = parse_shop("apiVersion: microshop.dev/v1alpha1\nkind: Shop\nmetadata:\n  name: demo\nspec: {}\n")
            .expect("parse");
        let out = render(&shop).expect("render");
        let docs: Vec<serde_json::Value> =
            out.split("---\n").map(|d| serde_saphyr::from_str(d).expect("yaml")).collect();
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "Secret").count(), 8);
        assert_eq!(kinds.iter().filter(|k| **k == "ConfigMap").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "NetworkPolicy").count(), 10);
        assert_eq!(kinds.iter().filter(|k| **k == "StatefulSet").count(), 5);
        assert_eq!(kinds.iter().filter(|k| **k == "Service").count(), 10);
        assert_eq!(kinds.iter().filter(|k| **k == "Deployment").count(), 5);
        assert!(docs.iter().all(|d| d["apiVersion"].as_str().is_some()), "server-side apply needs apiVersion");
        assert!(!out.contains("BEGIN PRIVATE KEY-----\nMC"), "no real key material in render output");
    }

    #[test]
    fn invalid_shops_are_refused() {
        let shop = parse_shop("apiVersion: microshop.dev/v1alpha1\nkind: Shop\nmetadata:\n  name: demo\nspec:\n  database:\n    mode: external\n")
            .expect("parse");
        assert!(matches!(render(&shop), Err(RenderError::Invalid(_))));
        assert!(matches!(parse_shop("kind: [not a shop"), Err(RenderError::Parse(_))));
    }
}
