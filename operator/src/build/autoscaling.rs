//! Optional HorizontalPodAutoscalers (`autoscaling/v2`) for the services: between the
//! service's `replicas` (at least 1) and `autoscaling.maxReplicas`, on average CPU utilisation.
//! While they exist the operator leaves `spec.replicas` out of the Deployments it applies, so
//! server-side apply never fights the HPA over the replica count.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};

use super::{
    Microservice,
    labels::{Component, child_meta},
    names,
};
use crate::crd::Shop;

/// The HPAs of a shop (none unless `autoscaling.enabled`).
pub fn autoscalers(shop: &Shop) -> Vec<HorizontalPodAutoscaler> {
    let settings = &shop.spec.autoscaling;
    if !settings.enabled {
        return Vec::new();
    }
    Microservice::enabled(shop)
        .into_iter()
        .map(|service| {
            let min = service.spec(shop).replicas.max(1);
            HorizontalPodAutoscaler {
                metadata: child_meta(shop, names::service(shop, service), Component::Service(service)),
                spec: Some(HorizontalPodAutoscalerSpec {
                    scale_target_ref: CrossVersionObjectReference {
                        api_version: Some("apps/v1".into()),
                        kind: "Deployment".into(),
                        name: names::service(shop, service),
                    },
                    min_replicas: Some(min),
                    max_replicas: settings.max_replicas.max(min),
                    metrics: Some(vec![MetricSpec {
                        type_: "Resource".into(),
                        resource: Some(ResourceMetricSource {
                            name: "cpu".into(),
                            target: MetricTarget {
                                type_: "Utilization".into(),
                                average_utilization: Some(settings.target_cpu_utilization),
                                ..MetricTarget::default()
                            },
                        }),
                        ..MetricSpec::default()
                    }]),
                    ..HorizontalPodAutoscalerSpec::default()
                }),
                status: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{SecretVersions, services::deployment, tests::shop};

    #[test]
    fn one_hpa_per_service_and_deployments_leave_replicas_to_it() {
        let mut s = shop("demo");
        assert!(autoscalers(&s).is_empty());
        assert_eq!(deployment(&s, Microservice::Orders, &SecretVersions::new()).spec.and_then(|d| d.replicas), Some(1));

        s.spec.autoscaling.enabled = true;
        s.spec.autoscaling.max_replicas = 8;
        s.spec.services.orders.replicas = 2;
        let hpas = autoscalers(&s);
        assert_eq!(hpas.len(), 5);
        let orders = hpas.iter().find(|h| h.metadata.name.as_deref() == Some("demo-orders")).expect("orders HPA");
        let spec = orders.spec.as_ref().expect("spec");
        assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), 8));
        assert_eq!(spec.scale_target_ref.name, "demo-orders");
        let target = &spec.metrics.as_ref().expect("metrics")[0].resource.as_ref().expect("cpu").target;
        assert_eq!(target.average_utilization, Some(70));
        assert_eq!(
            deployment(&s, Microservice::Orders, &SecretVersions::new()).spec.and_then(|d| d.replicas),
            None,
            "the HPA owns the replica count"
        );
    }
}
