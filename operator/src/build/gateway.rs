//! The optional Gateway API `HTTPRoute` `<shop>-storefront` (`exposure.httpRoute`): the web
//! shop attached to Gateways someone else runs (the Gateway API's split of roles: the cluster
//! operator owns the Gateway, its addresses and certificates; the Shop owns its route).
//!
//! Built as JSON like CloudNativePG's Cluster: the Gateway API CRDs may be absent, and we only
//! need one small object of them. `.ci/checks/operator.sh` checks it against the Gateway API's
//! own types.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

use super::{
    HTTP_PORT, Microservice,
    labels::{Component, child_meta},
    names,
};
use crate::crd::Shop;

/// The `gateway.networking.k8s.io/v1` HTTPRoute resource.
pub fn api_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        "httproutes",
    )
}

/// The storefront's HTTPRoute, when enabled (and the storefront runs).
pub fn http_route(shop: &Shop) -> Option<DynamicObject> {
    let spec = &shop.spec.exposure.http_route;
    if !spec.enabled || !shop.spec.storefront.enabled {
        return None;
    }
    let service = Microservice::Storefront;
    let parents: Vec<Value> = spec
        .parent_refs
        .iter()
        .map(|parent| {
            let mut reference = json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": parent.name});
            if let Some(namespace) = &parent.namespace {
                reference["namespace"] = json!(namespace);
            }
            if let Some(section) = &parent.section_name {
                reference["sectionName"] = json!(section);
            }
            reference
        })
        .collect();
    let mut route_spec = json!({
        "parentRefs": parents,
        "rules": [{
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [{"name": names::service(shop, service), "port": HTTP_PORT}],
        }],
    });
    if !spec.hostnames.is_empty() {
        route_spec["hostnames"] = json!(spec.hostnames);
    }
    let metadata = child_meta(shop, names::service(shop, service), Component::Service(service));
    let mut route = DynamicObject::new(&names::service(shop, service), &api_resource())
        .within(&metadata.namespace.clone().unwrap_or_default());
    route.metadata = metadata;
    route.data = json!({"spec": route_spec});
    Some(route)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;
    use crate::crd::GatewayRef;

    fn routed_shop() -> Shop {
        let mut s = shop("demo");
        s.spec.storefront.enabled = true;
        s.spec.exposure.http_route.enabled = true;
        s.spec.exposure.http_route.parent_refs = vec![
            GatewayRef {
                name: "public".into(),
                namespace: Some("gateways".into()),
                section_name: Some("https".into()),
            },
            GatewayRef { name: "internal".into(), ..GatewayRef::default() },
        ];
        s.spec.exposure.http_route.hostnames = vec!["shop.example.com".into()];
        s
    }

    #[test]
    fn the_route_sends_every_path_to_the_storefront_service() {
        let route = serde_json::to_value(http_route(&routed_shop()).expect("a route")).expect("json");
        assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
        assert_eq!(route["kind"], "HTTPRoute");
        assert_eq!(route["metadata"]["name"], "demo-storefront");
        assert_eq!(route["metadata"]["ownerReferences"][0]["kind"], "Shop", "deleted with the Shop");
        let spec = &route["spec"];
        assert_eq!(
            spec["parentRefs"],
            json!([
                {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "gateways", "sectionName": "https"},
                {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "internal"}
            ])
        );
        assert_eq!(spec["hostnames"], json!(["shop.example.com"]));
        assert_eq!(spec["rules"][0]["backendRefs"], json!([{"name": "demo-storefront", "port": HTTP_PORT}]));
        assert_eq!(spec["rules"][0]["matches"][0]["path"], json!({"type": "PathPrefix", "value": "/"}));
    }

    #[test]
    fn no_route_when_off_or_without_a_storefront() {
        let mut s = routed_shop();
        s.spec.storefront.enabled = false;
        assert!(http_route(&s).is_none(), "nothing to route to");
        let mut s = routed_shop();
        s.spec.exposure.http_route.enabled = false;
        assert!(http_route(&s).is_none());
        let mut s = routed_shop();
        s.spec.exposure.http_route.hostnames.clear();
        let route = serde_json::to_value(http_route(&s).expect("a route")).expect("json");
        assert!(route["spec"].get("hostnames").is_none(), "every host of the listener");
    }
}
