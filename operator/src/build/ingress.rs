//! The optional Ingress `<shop>-storefront` (`exposure.ingress`): the web shop behind the
//! cluster's ingress controller, with TLS when a certificate Secret is named.

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend,
    IngressSpec as K8sIngressSpec, IngressTLS, ServiceBackendPort,
};

use super::{
    Microservice,
    labels::{Component, child_meta},
    names,
};
use crate::crd::Shop;

/// Whether the storefront is served over TLS by the Ingress or the Gateway its HTTPRoute
/// attaches to (its cookie must then be `Secure`).
pub fn serves_tls(shop: &Shop) -> bool {
    let ingress = &shop.spec.exposure.ingress;
    let route = &shop.spec.exposure.http_route;
    (ingress.enabled && ingress.tls_secret_name.is_some()) || (route.enabled && route.tls)
}

/// The storefront's public address, when the Shop knows one: the Ingress host, else the
/// HTTPRoute's first hostname, with `https` when that one terminates TLS. `None` without
/// either (ClusterIP or NodePort exposure name no address the shoppers use).
pub fn public_url(shop: &Shop) -> Option<String> {
    if !shop.spec.storefront.enabled {
        return None;
    }
    let scheme = |tls: bool| if tls { "https" } else { "http" };
    let ingress = &shop.spec.exposure.ingress;
    if ingress.enabled
        && let Some(host) = &ingress.host
    {
        return Some(format!("{}://{host}", scheme(ingress.tls_secret_name.is_some())));
    }
    let route = &shop.spec.exposure.http_route;
    if route.enabled
        && let Some(host) = route.hostnames.first()
    {
        return Some(format!("{}://{host}", scheme(route.tls)));
    }
    None
}

/// How many proxies in front of the storefront append the shopper's address to
/// `X-Forwarded-For`: one (the Ingress controller or the Gateway) when either is on, else none
/// (the connection's peer is the shopper, or a node forwarding a NodePort).
pub fn proxy_hops(shop: &Shop) -> u8 {
    let exposure = &shop.spec.exposure;
    u8::from(exposure.ingress.enabled || exposure.http_route.enabled)
}

/// The storefront's Ingress, when enabled (and the storefront runs).
pub fn ingress(shop: &Shop) -> Option<Ingress> {
    let spec = &shop.spec.exposure.ingress;
    if !spec.enabled || !shop.spec.storefront.enabled {
        return None;
    }
    let service = Microservice::Storefront;
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: names::service(shop, service),
            port: Some(ServiceBackendPort { name: Some("http".into()), number: None }),
        }),
        ..IngressBackend::default()
    };
    let rule = IngressRule {
        host: spec.host.clone(),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath { path: Some("/".into()), path_type: "Prefix".into(), backend }],
        }),
    };
    let tls = spec.tls_secret_name.as_ref().map(|secret| {
        vec![IngressTLS { hosts: spec.host.clone().map(|h| vec![h]), secret_name: Some(secret.clone()) }]
    });
    Some(Ingress {
        metadata: child_meta(shop, names::service(shop, service), Component::Service(service)),
        spec: Some(K8sIngressSpec {
            ingress_class_name: spec.class_name.clone(),
            rules: Some(vec![rule]),
            tls,
            ..K8sIngressSpec::default()
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;

    #[test]
    fn off_by_default_and_routes_everything_to_the_storefront() {
        let mut s = shop("demo");
        assert!(ingress(&s).is_none());
        s.spec.exposure.ingress.enabled = true;
        s.spec.exposure.ingress.host = Some("shop.example.com".into());
        s.spec.exposure.ingress.class_name = Some("nginx".into());
        let spec = ingress(&s).and_then(|i| i.spec).expect("an Ingress");
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
        let rule = &spec.rules.expect("rules")[0];
        assert_eq!(rule.host.as_deref(), Some("shop.example.com"));
        let path = &rule.http.as_ref().expect("http").paths[0];
        assert_eq!((path.path.as_deref(), path.path_type.as_str()), (Some("/"), "Prefix"));
        let backend = path.backend.service.as_ref().expect("service backend");
        assert_eq!(backend.name, "demo-storefront");
        assert!(spec.tls.is_none() && !serves_tls(&s), "no certificate, no TLS");

        s.spec.exposure.ingress.tls_secret_name = Some("shop-tls".into());
        let tls = ingress(&s).and_then(|i| i.spec).and_then(|s| s.tls).expect("tls");
        assert_eq!(tls[0].secret_name.as_deref(), Some("shop-tls"));
        assert!(serves_tls(&s));
        let mut routed = shop("demo");
        routed.spec.exposure.http_route.enabled = true;
        assert!(!serves_tls(&routed), "a route on a plain HTTP listener");
        routed.spec.exposure.http_route.tls = true;
        assert!(serves_tls(&routed), "the Gateway terminates TLS");
        s.spec.storefront.enabled = false;
        assert!(ingress(&s).is_none(), "nothing to route to");
    }
}
