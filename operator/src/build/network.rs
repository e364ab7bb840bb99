//! NetworkPolicies and PodDisruptionBudgets of a shop.
//!
//! NetworkPolicies (ingress only; egress stays open for DNS, external databases, an external
//! NATS and the SMTP relay, whose addresses a policy could not name): each API accepts its port
//! only from the workloads that call it (storefront -> products, users, orders, notifications;
//! orders -> products, users, payments; notifications -> users; the load generator -> products,
//! users, orders, payments), each database only from its service, the managed NATS's client port
//! only from orders and notifications, Jaeger's OTLP ports from every pod of the shop; with
//! `observability.prometheus.scraperNamespace`, the services' port (which serves `/metrics`)
//! and Jaeger's span-metrics port from every pod of that namespace. What users
//! reach from outside (the storefront, Jaeger's UI, and every service under NodePort exposure)
//! is open on its HTTP port, and so is Jaeger's health port. The kubelet's HTTP probes come from
//! the node, which Calico and Cilium allow by default; where a network plugin does not, switch
//! the policies off (`networkPolicy.enabled: false`) or expose the services as NodePort.
//!
//! PodDisruptionBudgets: a service with two or more replicas may lose at most one pod to a
//! voluntary disruption (node drain). None for one replica (it would block drains for good)
//! and none for the single-pod databases.

use k8s_openapi::{
    api::{
        networking::v1::{
            NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
        },
        policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec},
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};
use kube::ResourceExt;

use super::{
    HTTP_PORT, Microservice, database, jaeger,
    labels::{Component, child_meta, selector_labels},
    loadgen, names, nats,
    postgres::POSTGRES_PORT,
};
use crate::crd::{ExposureType, Shop};

/// The workloads that call a service.
pub fn callers(service: Microservice) -> &'static [Component] {
    const STOREFRONT: Component = Component::Service(Microservice::Storefront);
    const ORDERS: Component = Component::Service(Microservice::Orders);
    const NOTIFICATIONS: Component = Component::Service(Microservice::Notifications);
    match service {
        Microservice::Products => &[STOREFRONT, ORDERS, loadgen::COMPONENT],
        Microservice::Users => &[STOREFRONT, ORDERS, NOTIFICATIONS, loadgen::COMPONENT],
        Microservice::Orders => &[STOREFRONT, loadgen::COMPONENT],
        Microservice::Payments => &[ORDERS, loadgen::COMPONENT],
        // The web shop is the public entry point: reachable from anywhere (an ingress controller).
        Microservice::Storefront => &[],
        // `/emails`, the e-mails sent, on the storefront's staff page.
        Microservice::Notifications => &[STOREFRONT],
    }
}

/// The workloads that connect to the managed NATS: orders publishes, notifications consumes.
pub const NATS_CLIENTS: [Component; 2] =
    [Component::Service(Microservice::Orders), Component::Service(Microservice::Notifications)];

/// Whether anything outside the shop must reach this service.
fn public(shop: &Shop, service: Microservice) -> bool {
    service == Microservice::Storefront || shop.spec.exposure.type_ == ExposureType::NodePort
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".into()),
        ..NetworkPolicyPort::default()
    }
}

/// Pods of this shop with the given component name.
fn peer(shop: &Shop, component: Component) -> NetworkPolicyPeer {
    let labels = [
        ("app.kubernetes.io/instance".to_string(), shop.name_any()),
        ("app.kubernetes.io/name".to_string(), component.name()),
    ];
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector { match_labels: Some(labels.into()), ..LabelSelector::default() }),
        ..NetworkPolicyPeer::default()
    }
}

/// Every pod of this shop.
fn whole_shop(shop: &Shop) -> NetworkPolicyPeer {
    let labels = [("app.kubernetes.io/instance".to_string(), shop.name_any())];
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector { match_labels: Some(labels.into()), ..LabelSelector::default() }),
        ..NetworkPolicyPeer::default()
    }
}

/// Every pod of the namespace Prometheus scrapes from, when the Shop names one.
fn scraper(shop: &Shop) -> Option<NetworkPolicyPeer> {
    let namespace = shop.spec.observability.prometheus.scraper_namespace.clone()?;
    let labels = [("kubernetes.io/metadata.name".to_string(), namespace)];
    Some(NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector { match_labels: Some(labels.into()), ..LabelSelector::default() }),
        ..NetworkPolicyPeer::default()
    })
}

/// An ingress rule: these ports, from these peers (`None`: from anywhere).
fn rule(ports: &[i32], from: Option<Vec<NetworkPolicyPeer>>) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule { ports: Some(ports.iter().map(|p| tcp(*p)).collect()), from }
}

fn policy(shop: &Shop, name: String, component: Component, ingress: Vec<NetworkPolicyIngressRule>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: child_meta(shop, name, component),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector_labels(shop, component)),
                ..LabelSelector::default()
            }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(ingress),
            ..NetworkPolicySpec::default()
        }),
    }
}

/// The NetworkPolicies of a shop (none when `networkPolicy.enabled` is false).
pub fn network_policies(shop: &Shop) -> Vec<NetworkPolicy> {
    if !shop.spec.network_policy.enabled {
        return Vec::new();
    }
    let mut out = Vec::new();
    for service in Microservice::enabled(shop) {
        let component = Component::Service(service);
        let mut rules = Vec::new();
        if public(shop, service) {
            rules.push(rule(&[HTTP_PORT], None));
        } else if !callers(service).is_empty() {
            // Never an empty `from`: Kubernetes reads it as "from anywhere".
            rules.push(rule(&[HTTP_PORT], Some(callers(service).iter().map(|c| peer(shop, *c)).collect())));
        }
        // `/metrics` is served on the API port: the scraper's namespace reaches that port too.
        rules.extend(scraper(shop).map(|peer| rule(&[HTTP_PORT], Some(vec![peer]))));
        out.push(policy(shop, names::service(shop, service), component, rules));
        if database::of(shop).guards_database_pods() {
            let from = Some(vec![peer(shop, component)]);
            let database = Component::Database(service);
            out.push(policy(shop, names::db(shop, service), database, vec![rule(&[POSTGRES_PORT], from)]));
        }
    }
    if nats::managed(shop) {
        let from = NATS_CLIENTS.iter().map(|c| peer(shop, *c)).collect();
        out.push(policy(shop, names::nats(shop), Component::Nats, vec![rule(&[nats::CLIENT_PORT], Some(from))]));
    }
    if shop.spec.tracing.jaeger.enabled {
        let mut rules = vec![
            rule(&[jaeger::OTLP_GRPC_PORT, jaeger::OTLP_HTTP_PORT], Some(vec![whole_shop(shop)])),
            // The UI for people, the health port for the kubelet's probes.
            rule(&[jaeger::UI_PORT, jaeger::HEALTH_PORT], None),
        ];
        rules.extend(scraper(shop).map(|peer| rule(&[jaeger::SPANMETRICS_PORT], Some(vec![peer]))));
        out.push(policy(shop, names::jaeger(shop), Component::Jaeger, rules));
    }
    if shop.spec.load_generator.enabled {
        // No port: nothing may connect to the load generator.
        out.push(policy(shop, names::loadgen(shop), loadgen::COMPONENT, Vec::new()));
    }
    out
}

/// PodDisruptionBudgets of the services that run two or more replicas.
pub fn disruption_budgets(shop: &Shop) -> Vec<PodDisruptionBudget> {
    Microservice::enabled(shop)
        .into_iter()
        .filter(|s| s.spec(shop).replicas >= 2)
        .map(|service| PodDisruptionBudget {
            metadata: child_meta(shop, names::service(shop, service), Component::Service(service)),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(LabelSelector {
                    match_labels: Some(selector_labels(shop, Component::Service(service))),
                    ..LabelSelector::default()
                }),
                ..PodDisruptionBudgetSpec::default()
            }),
            status: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::build::tests::{shop, valid};

    /// `(port, allowed callers)` of a policy; `*` means from anywhere.
    fn allowed(policy: &NetworkPolicy) -> BTreeSet<(i32, String)> {
        let mut out = BTreeSet::new();
        for rule in policy.spec.as_ref().and_then(|s| s.ingress.clone()).unwrap_or_default() {
            for port in rule.ports.unwrap_or_default() {
                let Some(IntOrString::Int(port)) = port.port else { continue };
                match &rule.from {
                    None => {
                        out.insert((port, "*".to_string()));
                    }
                    Some(peers) => {
                        for p in peers {
                            let labels =
                                p.pod_selector.as_ref().and_then(|s| s.match_labels.clone()).unwrap_or_default();
                            let name = labels.get("app.kubernetes.io/name").cloned().unwrap_or_else(|| "shop".into());
                            out.insert((port, name));
                        }
                    }
                }
            }
        }
        out
    }

    fn by_name(policies: &[NetworkPolicy], name: &str) -> BTreeSet<(i32, String)> {
        allowed(policies.iter().find(|p| p.metadata.name.as_deref() == Some(name)).expect(name))
    }

    fn set(entries: &[(i32, &str)]) -> BTreeSet<(i32, String)> {
        entries.iter().map(|(p, n)| (*p, n.to_string())).collect()
    }

    #[test]
    fn each_service_is_reachable_only_from_its_callers() {
        let mut s = shop("demo");
        s.spec.tracing.jaeger.enabled = true;
        s.spec.load_generator.enabled = true;
        let policies = network_policies(&s);
        let cases = [
            ("demo-products", set(&[(8080, "storefront"), (8080, "orders"), (8080, "loadgen")])),
            ("demo-users", set(&[(8080, "storefront"), (8080, "orders"), (8080, "notifications"), (8080, "loadgen")])),
            ("demo-orders", set(&[(8080, "storefront"), (8080, "loadgen")])),
            ("demo-payments", set(&[(8080, "orders"), (8080, "loadgen")])),
            ("demo-storefront", set(&[(8080, "*")])),
            ("demo-orders-db", set(&[(5432, "orders")])),
            ("demo-storefront-db", set(&[(5432, "storefront")])),
            ("demo-jaeger", set(&[(4317, "shop"), (4318, "shop"), (16686, "*"), (13133, "*")])),
            ("demo-loadgen", set(&[])),
        ];
        for (name, expected) in cases {
            assert_eq!(by_name(&policies, name), expected, "{name}");
        }
        assert_eq!(policies.len(), 12, "5 services, 5 databases, Jaeger, the load generator");
    }

    fn with_notifications(name: &str) -> Shop {
        let mut s = shop(name);
        s.spec.notifications.smtp = Some(crate::crd::SmtpSpec::plain("mail.example.com"));
        s
    }

    #[test]
    fn notifications_reaches_users_its_database_and_nats_and_only_the_storefront_reaches_it() {
        let mut s = with_notifications("demo");
        s.spec.tracing.jaeger.enabled = true;
        let policies = network_policies(&s);
        let cases = [
            ("demo-notifications", set(&[(8080, "storefront")])),
            ("demo-notifications-db", set(&[(5432, "notifications")])),
            ("demo-nats", set(&[(4222, "orders"), (4222, "notifications")])),
            ("demo-users", set(&[(8080, "storefront"), (8080, "orders"), (8080, "notifications"), (8080, "loadgen")])),
            ("demo-jaeger", set(&[(4317, "shop"), (4318, "shop"), (16686, "*"), (13133, "*")])),
        ];
        for (name, expected) in cases {
            assert_eq!(by_name(&policies, name), expected, "{name}");
        }
        assert_eq!(policies.len(), 14, "6 services, 6 databases, NATS, Jaeger");
        let notifications = policies.iter().find(|p| p.metadata.name.as_deref() == Some("demo-notifications"));
        let spec = notifications.and_then(|p| p.spec.clone()).expect("policy");
        assert_eq!(spec.policy_types, Some(vec!["Ingress".to_string()]), "egress (SMTP, DNS) stays open");

        // Published under NodePort exposure; an external NATS has no policy of ours.
        s.spec.exposure.type_ = ExposureType::NodePort;
        s.spec.events.mode = crate::crd::EventsMode::External;
        s.spec.events.external = Some(crate::crd::ExternalNats::at("nats://nats.infra:4222"));
        let policies = network_policies(&s);
        assert_eq!(by_name(&policies, "demo-notifications"), set(&[(8080, "*")]));
        assert!(policies.iter().all(|p| p.metadata.name.as_deref() != Some("demo-nats")));
    }

    #[test]
    fn node_port_exposure_opens_the_services_and_the_switch_removes_all() {
        let mut s = shop("demo");
        s.spec.exposure.type_ = ExposureType::NodePort;
        assert_eq!(by_name(&network_policies(&s), "demo-payments"), set(&[(8080, "*")]));
        assert_eq!(by_name(&network_policies(&s), "demo-payments-db"), set(&[(5432, "payments")]));
        s.spec.network_policy.enabled = false;
        assert!(network_policies(&s).is_empty());
    }

    #[test]
    fn a_scraper_namespace_reaches_the_metrics_ports_and_nothing_else() {
        let mut s = shop("demo");
        s.spec.tracing.jaeger.enabled = true;
        let namespaces = |policy: &NetworkPolicy| -> BTreeSet<(i32, String)> {
            let mut out = BTreeSet::new();
            for rule in policy.spec.as_ref().and_then(|s| s.ingress.clone()).unwrap_or_default() {
                for peer in rule.from.iter().flatten() {
                    let labels = peer.namespace_selector.as_ref().and_then(|n| n.match_labels.clone());
                    let Some(name) = labels.and_then(|l| l.get("kubernetes.io/metadata.name").cloned()) else {
                        continue;
                    };
                    for port in rule.ports.iter().flatten() {
                        if let Some(IntOrString::Int(port)) = port.port {
                            out.insert((port, name.clone()));
                        }
                    }
                }
            }
            out
        };
        assert!(network_policies(&s).iter().all(|p| namespaces(p).is_empty()), "no scraper: no namespace rule");
        s.spec.observability.prometheus.scraper_namespace = Some("monitoring".into());
        let policies = network_policies(&s);
        for name in ["demo-products", "demo-users", "demo-orders", "demo-payments"] {
            let policy = policies.iter().find(|p| p.metadata.name.as_deref() == Some(name)).expect(name);
            assert_eq!(namespaces(policy), set(&[(8080, "monitoring")]), "{name}");
        }
        let jaeger = policies.iter().find(|p| p.metadata.name.as_deref() == Some("demo-jaeger")).expect("jaeger");
        assert_eq!(namespaces(jaeger), set(&[(8889, "monitoring")]));
        let db = policies.iter().find(|p| p.metadata.name.as_deref() == Some("demo-orders-db")).expect("db");
        assert!(namespaces(db).is_empty(), "databases are not scraped");
    }

    #[test]
    fn policies_select_the_pods_of_their_workload() {
        let s = with_notifications("demo");
        let built = crate::build::workloads(valid(&s), &Default::default());
        for policy in network_policies(&s) {
            let selector = policy.spec.and_then(|s| s.pod_selector).and_then(|s| s.match_labels).expect("selector");
            let matching = built
                .deployments
                .iter()
                .filter_map(|d| d.spec.as_ref()?.template.metadata.as_ref()?.labels.clone())
                .chain(
                    built
                        .statefulsets
                        .iter()
                        .filter_map(|d| d.spec.as_ref()?.template.metadata.as_ref()?.labels.clone()),
                )
                .filter(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
                .count();
            assert_eq!(matching, 1, "{:?}", policy.metadata.name);
        }
    }

    #[test]
    fn budgets_only_for_services_with_several_replicas() {
        let mut s = shop("demo");
        assert!(disruption_budgets(&s).is_empty(), "one replica each: a budget would block drains");
        s.spec.services.orders.replicas = 3;
        let budgets = disruption_budgets(&s);
        assert_eq!(budgets.len(), 1);
        let spec = budgets[0].spec.as_ref().expect("spec");
        assert_eq!(spec.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(budgets[0].metadata.name.as_deref(), Some("demo-orders"));
    }
}
