//! The optional prometheus-operator monitor `<shop>-metrics` (`observability.prometheus.monitor`):
//! a `PodMonitor` or `ServiceMonitor` selecting every service's `/metrics` (the `http` port)
//! and Jaeger's span metrics (the `spanmetrics` port), the job label taken from
//! `app.kubernetes.io/name`, so each series' `job` is the service's name as the dashboards
//! (deploy/grafana/dashboards) expect.
//!
//! Built as JSON like the HTTPRoute: the prometheus-operator CRDs may be absent, and we need one
//! small object of them. `.ci/checks/operator.sh` checks it against prometheus-operator's types.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

use super::{
    jaeger,
    labels::{Component, child_meta},
};
use crate::crd::{MonitorKind, Shop};

/// How often Prometheus scrapes: every 15 s, the dashboards' `$__rate_interval` floor.
const INTERVAL: &str = "15s";

/// The prometheus-operator resource of a monitor kind.
pub fn api_resource(kind: MonitorKind) -> Option<ApiResource> {
    (kind != MonitorKind::None).then(|| resource_named(kind_name(kind)))
}

/// The resource of a built monitor.
pub fn resource_of(object: &DynamicObject) -> ApiResource {
    resource_named(kind_of(object))
}

fn resource_named(kind: &'static str) -> ApiResource {
    let plural = if kind == "PodMonitor" { "podmonitors" } else { "servicemonitors" };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("monitoring.coreos.com", "v1", kind), plural)
}

/// The kinds a shop's monitor may be, for pruning the one no longer wanted.
pub const KINDS: [MonitorKind; 2] = [MonitorKind::PodMonitor, MonitorKind::ServiceMonitor];

/// The kind name of a built monitor.
pub fn kind_of(object: &DynamicObject) -> &'static str {
    match object.types.as_ref().map(|t| t.kind.as_str()) {
        Some("PodMonitor") => "PodMonitor",
        _ => "ServiceMonitor",
    }
}

/// The kind name of a monitor kind.
pub fn kind_name(kind: MonitorKind) -> &'static str {
    match kind {
        MonitorKind::PodMonitor => "PodMonitor",
        MonitorKind::ServiceMonitor | MonitorKind::None => "ServiceMonitor",
    }
}

/// The monitor's name.
pub fn name(shop: &Shop) -> String {
    format!("{}-metrics", kube::ResourceExt::name_any(shop))
}

/// The shop's monitor, when one is asked for.
pub fn monitor(shop: &Shop) -> Option<DynamicObject> {
    let settings = &shop.spec.observability.prometheus;
    let resource = api_resource(settings.monitor)?;
    let endpoint = |port: &str| json!({"port": port, "path": "/metrics", "interval": INTERVAL});
    let mut endpoints = vec![endpoint("http")];
    if shop.spec.tracing.jaeger.enabled {
        endpoints.push(endpoint(jaeger::SPANMETRICS_PORT_NAME));
    }
    // Services and Jaeger of this shop (not its databases, not the load generator).
    let selector = json!({
        "matchLabels": {"app.kubernetes.io/instance": kube::ResourceExt::name_any(shop)},
        "matchExpressions": [{
            "key": "app.kubernetes.io/component",
            "operator": "In",
            "values": [Component::Service(super::Microservice::Products).kind(), Component::Jaeger.kind()],
        }],
    });
    let spec: Value = match settings.monitor {
        MonitorKind::PodMonitor => json!({
            "jobLabel": "app.kubernetes.io/name",
            "selector": selector,
            "podMetricsEndpoints": endpoints,
        }),
        _ => json!({
            "jobLabel": "app.kubernetes.io/name",
            "selector": selector,
            "endpoints": endpoints,
        }),
    };
    let mut metadata = child_meta(shop, name(shop), Component::Jaeger);
    // The monitor belongs to no one workload: it keeps the shop's labels, not Jaeger's name.
    if let Some(labels) = metadata.labels.as_mut() {
        labels.remove("app.kubernetes.io/name");
        labels.insert("app.kubernetes.io/component".into(), "monitoring".into());
        labels.extend(settings.monitor_labels.clone());
    }
    let mut object = DynamicObject::new(&name(shop), &resource).within(&metadata.namespace.clone().unwrap_or_default());
    object.metadata = metadata;
    object.data = json!({"spec": spec});
    Some(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;

    #[test]
    fn no_monitor_unless_asked() {
        assert!(monitor(&shop("demo")).is_none());
    }

    #[test]
    fn a_pod_monitor_selects_services_and_jaeger_by_port_name() {
        let mut s = shop("demo");
        s.spec.tracing.jaeger.enabled = true;
        s.spec.observability.prometheus.monitor = MonitorKind::PodMonitor;
        s.spec.observability.prometheus.monitor_labels = [("release".to_string(), "kps".to_string())].into();
        let m = serde_json::to_value(monitor(&s).expect("monitor")).expect("json");
        assert_eq!(m["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(m["kind"], "PodMonitor");
        assert_eq!(m["metadata"]["name"], "demo-metrics");
        assert_eq!(m["metadata"]["labels"]["release"], "kps");
        assert_eq!(m["spec"]["jobLabel"], "app.kubernetes.io/name");
        let ports: Vec<&str> = m["spec"]["podMetricsEndpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .filter_map(|e| e["port"].as_str())
            .collect();
        assert_eq!(ports, ["http", "spanmetrics"]);
        assert_eq!(m["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"], "demo");
        assert_eq!(m["spec"]["selector"]["matchExpressions"][0]["values"], json!(["service", "tracing"]));
    }

    #[test]
    fn a_service_monitor_lists_endpoints_and_skips_jaeger_when_off() {
        let mut s = shop("demo");
        s.spec.observability.prometheus.monitor = MonitorKind::ServiceMonitor;
        let m = serde_json::to_value(monitor(&s).expect("monitor")).expect("json");
        assert_eq!(m["kind"], "ServiceMonitor");
        assert_eq!(m["spec"]["endpoints"], json!([{"port": "http", "path": "/metrics", "interval": "15s"}]));
    }
}
