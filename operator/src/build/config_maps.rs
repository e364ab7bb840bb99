//! The fault flag ConfigMap `<shop>-faults`: `spec.faults` in the flagd flag-definition format.
//!
//! It always exists (with no flags when nothing is set) and is mounted as a directory, not with
//! `subPath`, so the kubelet updates the file in running pods: a flag flipped in the Shop
//! reaches the services without a restart (they re-read the file within 5 s). For the same
//! reason its content is not part of the pods' config hash.

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::{Value, json};

use super::{
    labels::{Component, child_meta},
    names,
};
use crate::crd::{FaultsSpec, Shop};

/// Key of the flag file in the ConfigMap.
pub const FAULTS_KEY: &str = "flags.json";
/// Where the ConfigMap is mounted in products, users and payments.
pub const FAULTS_DIR: &str = "/etc/microshop/faults";
/// Component label of the ConfigMap.
const COMPONENT: Component = Component::Faults;

/// `{"state":"ENABLED","variants":{"on":VALUE,"off":ZERO},"defaultVariant":"on"}`.
fn flag(on: Value, off: Value) -> Value {
    json!({"state": "ENABLED", "variants": {"on": on, "off": off}, "defaultVariant": "on"})
}

/// The flag document for a Shop's faults: one entry per set flag.
pub fn flags(faults: &FaultsSpec) -> Value {
    let mut flags = serde_json::Map::new();
    if let Some(rate) = faults.payment_failure_rate {
        flags.insert("paymentFailureRate".into(), flag(json!(rate), json!(0.0)));
    }
    if let Some(ms) = faults.payment_latency_ms {
        flags.insert("paymentLatencyMs".into(), flag(json!(ms), json!(0)));
    }
    if let Some(ms) = faults.product_search_delay_ms {
        flags.insert("productSearchDelayMs".into(), flag(json!(ms), json!(0)));
    }
    if let Some(down) = faults.products_unavailable {
        flags.insert("productsUnavailable".into(), flag(json!(down), json!(false)));
    }
    if let Some(ms) = faults.users_token_delay_ms {
        flags.insert("usersTokenDelayMs".into(), flag(json!(ms), json!(0)));
    }
    json!({"flags": flags})
}

/// The `<shop>-faults` ConfigMap.
pub fn faults(shop: &Shop) -> ConfigMap {
    let text = serde_json::to_string_pretty(&flags(&shop.spec.faults)).unwrap_or_else(|_| "{\"flags\":{}}".into());
    ConfigMap {
        metadata: child_meta(shop, names::faults(shop), COMPONENT),
        data: Some([(FAULTS_KEY.to_string(), text)].into()),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;

    #[test]
    fn no_faults_is_an_empty_flag_set() {
        assert_eq!(flags(&FaultsSpec::default()), json!({"flags": {}}));
    }

    #[test]
    fn each_set_fault_becomes_an_enabled_flag_with_its_value_as_default_variant() {
        let faults = FaultsSpec {
            payment_failure_rate: Some(0.25),
            payment_latency_ms: Some(300),
            product_search_delay_ms: Some(1500),
            products_unavailable: Some(true),
            users_token_delay_ms: Some(200),
        };
        let doc = flags(&faults);
        let cases = [
            ("paymentFailureRate", json!(0.25), json!(0.0)),
            ("paymentLatencyMs", json!(300), json!(0)),
            ("productSearchDelayMs", json!(1500), json!(0)),
            ("productsUnavailable", json!(true), json!(false)),
            ("usersTokenDelayMs", json!(200), json!(0)),
        ];
        for (name, on, off) in cases {
            let f = &doc["flags"][name];
            assert_eq!(f["state"], "ENABLED", "{name}");
            assert_eq!(f["defaultVariant"], "on", "{name}");
            assert_eq!(f["variants"]["on"], on, "{name}");
            assert_eq!(f["variants"]["off"], off, "{name}");
        }
        assert_eq!(doc["flags"].as_object().map(|m| m.len()), Some(5));
    }

    #[test]
    fn config_map_holds_the_json_under_flags_json() {
        let mut s = shop("demo");
        s.spec.faults.products_unavailable = Some(true);
        let cm = faults(&s);
        assert_eq!(cm.metadata.name.as_deref(), Some("demo-faults"));
        let text = &cm.data.as_ref().expect("data")[FAULTS_KEY];
        let parsed: Value = serde_json::from_str(text).expect("valid JSON");
        assert_eq!(parsed["flags"]["productsUnavailable"]["variants"]["on"], true);
    }
}
