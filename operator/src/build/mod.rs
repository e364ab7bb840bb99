//! Pure functions from a `Shop` to the objects that should exist: no I/O, so every rule about
//! what the operator creates is a plain unit test. One file per kind of child; what depends on
//! the database mode is asked of [`database::Backend`], answered in [`managed`], [`cnpg`] and
//! [`external`]; where the order events go (a NATS the operator runs or the user's) is
//! [`nats`].
//!
//! Secrets come first ([`secrets::secret_plans`]), because the workloads' pod templates carry a
//! hash of the versions of the Secrets they read ([`SecretVersions`]): the reconciler applies the
//! Secrets, collects their versions and only then builds the workloads with [`workloads`].

pub mod autoscaling;
pub mod cnpg;
pub mod config_maps;
pub mod database;
pub mod external;
pub mod gateway;
pub mod ingress;
pub mod jaeger;
pub mod labels;
pub mod loadgen;
pub mod managed;
pub mod monitoring;
pub mod nats;
pub mod network;
pub mod pod;
pub mod postgres;
pub mod secrets;
pub mod services;

use std::collections::BTreeMap;

use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    core::v1::{ConfigMap, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};

use crate::crd::{SecretKeyRef, ServiceSpec, Shop};
use crate::validate::ValidShop;

/// The container port of every service (deployment contract).
pub const HTTP_PORT: i32 = 8080;

/// The microshop services: each is a Deployment and a Service with its own database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Microservice {
    Products,
    Users,
    Orders,
    Payments,
    Storefront,
    /// E-mails for order events; runs only when the Shop names an SMTP relay.
    Notifications,
}

impl Microservice {
    /// Every service, in a stable order.
    pub const ALL: [Microservice; 6] =
        [Self::Products, Self::Users, Self::Orders, Self::Payments, Self::Storefront, Self::Notifications];

    /// Whether this Shop runs the service: the four APIs always, the storefront unless it is
    /// switched off, notifications once there is an SMTP relay to send through.
    pub fn runs(self, shop: &Shop) -> bool {
        match self {
            Self::Storefront => shop.spec.storefront.enabled,
            Self::Notifications => shop.spec.notifications.smtp.is_some(),
            Self::Products | Self::Users | Self::Orders | Self::Payments => true,
        }
    }

    /// The services this Shop runs ([`Microservice::runs`]).
    pub fn enabled(shop: &Shop) -> Vec<Microservice> {
        Self::ALL.into_iter().filter(|s| s.runs(shop)).collect()
    }

    /// Whether the service reads the fault flag file (`FAULTS_FILE`).
    pub fn reads_faults(self) -> bool {
        matches!(self, Self::Products | Self::Users | Self::Payments)
    }

    /// The service's name: binary, image suffix, database name and component label.
    pub fn name(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Users => "users",
            Self::Orders => "orders",
            Self::Payments => "payments",
            Self::Storefront => "storefront",
            Self::Notifications => "notifications",
        }
    }

    /// This service's settings in the Shop.
    pub fn spec(self, shop: &Shop) -> &ServiceSpec {
        let services = &shop.spec.services;
        match self {
            Self::Products => &services.products,
            Self::Users => &services.users,
            Self::Orders => &services.orders,
            Self::Payments => &services.payments,
            Self::Storefront => &services.storefront,
            Self::Notifications => &services.notifications,
        }
    }

    /// The fixed node port of this service when exposed as NodePort.
    pub fn node_port(self, shop: &Shop) -> i32 {
        let ports = &shop.spec.exposure.node_ports;
        match self {
            Self::Products => ports.products,
            Self::Users => ports.users,
            Self::Orders => ports.orders,
            Self::Payments => ports.payments,
            Self::Storefront => ports.storefront,
            Self::Notifications => ports.notifications,
        }
    }

    /// The Secret key holding this service's database URI (see [`database::Backend::uri`]).
    pub fn database_uri(self, shop: &Shop) -> Option<SecretKeyRef> {
        database::of(shop).uri(shop, self)
    }
}

/// Names of the children, all prefixed with the Shop's name.
pub mod names {
    use kube::ResourceExt;

    use super::Microservice;
    use crate::crd::Shop;

    /// Deployment and Service of a service, e.g. `shop-products`.
    pub fn service(shop: &Shop, service: Microservice) -> String {
        format!("{}-{}", shop.name_any(), service.name())
    }

    /// StatefulSet and headless Service of a managed database, e.g. `shop-products-db`.
    pub fn db(shop: &Shop, service: Microservice) -> String {
        format!("{}-{}-db", shop.name_any(), service.name())
    }

    /// The component name of a database (labels and status), e.g. `products-db`.
    pub fn db_component(service: Microservice) -> String {
        super::labels::Component::Database(service).name()
    }

    /// Credentials of a managed database.
    pub fn db_secret(shop: &Shop, service: Microservice) -> String {
        format!("{}-{}-db", shop.name_any(), service.name())
    }

    /// The JWT key pair.
    pub fn jwt_secret(shop: &Shop) -> String {
        format!("{}-jwt", shop.name_any())
    }

    /// Client credentials between services.
    pub fn clients_secret(shop: &Shop) -> String {
        format!("{}-service-clients", shop.name_any())
    }

    /// The bootstrap administrator's password.
    pub fn admin_secret(shop: &Shop) -> String {
        format!("{}-admin", shop.name_any())
    }

    /// Deployment, Service and ConfigMap (its configuration) of Jaeger.
    pub fn jaeger(shop: &Shop) -> String {
        format!("{}-jaeger", shop.name_any())
    }

    /// StatefulSet and headless Service of the managed NATS, e.g. `shop-nats`.
    pub fn nats(shop: &Shop) -> String {
        format!("{}-nats", shop.name_any())
    }

    /// The fault flag ConfigMap (`flags.json`).
    pub fn faults(shop: &Shop) -> String {
        format!("{}-faults", shop.name_any())
    }

    /// Deployment of the load generator.
    pub fn loadgen(shop: &Shop) -> String {
        format!("{}-loadgen", shop.name_any())
    }
}

/// `resourceVersion` (or, in `render`, a placeholder) of each Secret a workload reads, by name.
/// A change of version changes the pod template's config hash and so rolls the pods.
pub type SecretVersions = BTreeMap<String, String>;

/// Every workload-side object of a shop, in apply order (databases before the services that
/// need them).
#[derive(Clone, Debug, Default)]
pub struct Workloads {
    pub config_maps: Vec<ConfigMap>,
    pub statefulsets: Vec<StatefulSet>,
    pub deployments: Vec<Deployment>,
    pub services: Vec<Service>,
    pub network_policies: Vec<NetworkPolicy>,
    pub disruption_budgets: Vec<PodDisruptionBudget>,
    /// CloudNativePG `Cluster`s (`cloudnativepg` mode).
    pub clusters: Vec<kube::api::DynamicObject>,
    pub ingresses: Vec<Ingress>,
    /// Gateway API `HTTPRoute`s (`exposure.httpRoute`).
    pub http_routes: Vec<kube::api::DynamicObject>,
    /// prometheus-operator `PodMonitor`/`ServiceMonitor` (`observability.prometheus.monitor`).
    pub monitors: Vec<kube::api::DynamicObject>,
    pub autoscalers: Vec<HorizontalPodAutoscaler>,
}

impl Workloads {
    /// `(kind, name)` of every object, for pruning what is no longer wanted.
    pub fn names(&self) -> std::collections::BTreeSet<(&'static str, String)> {
        use kube::ResourceExt;
        let mut out = std::collections::BTreeSet::new();
        out.extend(self.config_maps.iter().map(|o| ("ConfigMap", o.name_any())));
        out.extend(self.statefulsets.iter().map(|o| ("StatefulSet", o.name_any())));
        out.extend(self.deployments.iter().map(|o| ("Deployment", o.name_any())));
        out.extend(self.services.iter().map(|o| ("Service", o.name_any())));
        out.extend(self.network_policies.iter().map(|o| ("NetworkPolicy", o.name_any())));
        out.extend(self.disruption_budgets.iter().map(|o| ("PodDisruptionBudget", o.name_any())));
        out.extend(self.clusters.iter().map(|o| ("Cluster", o.name_any())));
        out.extend(self.ingresses.iter().map(|o| ("Ingress", o.name_any())));
        out.extend(self.http_routes.iter().map(|o| ("HTTPRoute", o.name_any())));
        out.extend(self.monitors.iter().map(|o| (monitoring::kind_of(o), o.name_any())));
        out.extend(self.autoscalers.iter().map(|o| ("HorizontalPodAutoscaler", o.name_any())));
        out
    }
}

/// Builds the ConfigMaps, StatefulSets, Deployments, Services, NetworkPolicies and
/// PodDisruptionBudgets of a shop. Takes a [`ValidShop`]: the builders below may rely on what
/// validation guarantees (an `external` section in external mode, differing node ports, ...).
pub fn workloads(valid: ValidShop<'_>, versions: &SecretVersions) -> Workloads {
    let shop = valid.shop();
    let mut out = Workloads::default();
    let enabled = Microservice::enabled(shop);
    out.config_maps.push(config_maps::faults(shop));
    database::of(shop).add_workloads(shop, &enabled, versions, &mut out);
    if nats::managed(shop) {
        out.statefulsets.push(nats::statefulset(shop));
        out.services.push(nats::headless_service(shop));
    }
    if shop.spec.tracing.jaeger.enabled {
        out.config_maps.push(jaeger::config_map(shop));
        out.deployments.push(jaeger::deployment(shop));
        out.services.push(jaeger::service(shop));
    }
    for service in &enabled {
        out.deployments.push(services::deployment(shop, *service, versions));
        out.services.push(services::service(shop, *service));
    }
    if shop.spec.load_generator.enabled {
        out.deployments.push(loadgen::deployment(shop, versions));
    }
    out.network_policies = network::network_policies(shop);
    out.disruption_budgets = network::disruption_budgets(shop);
    out.ingresses = ingress::ingress(shop).into_iter().collect();
    out.http_routes = gateway::http_route(shop).into_iter().collect();
    out.monitors = monitoring::monitor(shop).into_iter().collect();
    out.autoscalers = autoscaling::autoscalers(shop);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crd::{ComponentStatus, DatabaseMode, ShopSpec, WorkloadKind};

    /// A Shop as the API server would hand it over: namespaced, with a uid.
    pub(crate) fn shop(name: &str) -> Shop {
        let mut shop = Shop::new(name, ShopSpec::default());
        shop.metadata.namespace = Some("shops".into());
        shop.metadata.uid = Some("0b9e2a34-0000-4000-8000-000000000001".into());
        shop.metadata.generation = Some(1);
        shop
    }

    /// The components a reconcile of `shop` reports, none ready yet: what the status tests
    /// feed in as observed.
    pub(crate) fn components(shop: &Shop) -> Vec<ComponentStatus> {
        let component =
            |name: String, kind, desired_replicas| ComponentStatus { name, kind, desired_replicas, ready_replicas: 0 };
        let mut out = Vec::new();
        for service in Microservice::enabled(shop) {
            out.push(component(service.name().to_string(), WorkloadKind::Deployment, service.spec(shop).replicas));
            if let Some((kind, instances)) = database::of(shop).component(shop) {
                out.push(component(names::db_component(service), kind, instances));
            }
        }
        if nats::managed(shop) {
            out.push(component("nats".to_string(), WorkloadKind::StatefulSet, 1));
        }
        if shop.spec.tracing.jaeger.enabled {
            out.push(component("jaeger".to_string(), WorkloadKind::Deployment, 1));
        }
        if shop.spec.load_generator.enabled {
            out.push(component(loadgen::COMPONENT.name(), WorkloadKind::Deployment, 1));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// A Shop in external mode with every database's Secret reference, as validation requires.
    pub(crate) fn external_shop(name: &str) -> Shop {
        let mut shop = shop(name);
        let reference = |secret: &str| SecretKeyRef { name: secret.into(), key: "uri".into() };
        shop.spec.database.mode = DatabaseMode::External;
        shop.spec.database.external = Some(crate::crd::ExternalDatabases {
            products: reference("products-pg"),
            users: reference("users-pg"),
            orders: reference("orders-pg"),
            payments: reference("payments-pg"),
            storefront: Some(reference("storefront-pg")),
            notifications: Some(reference("notifications-pg")),
        });
        shop
    }

    /// [`crate::validate::validate`] for a Shop a test expects to be valid.
    pub(crate) fn valid(shop: &Shop) -> ValidShop<'_> {
        crate::validate::validate(shop).expect("a valid test Shop")
    }

    #[test]
    fn default_shop_has_five_services_and_five_databases() {
        let built = workloads(valid(&shop("demo")), &SecretVersions::new());
        assert_eq!(built.deployments.len(), 5, "four APIs and the storefront");
        assert_eq!(built.statefulsets.len(), 5);
        assert_eq!(built.services.len(), 10);
        assert_eq!(built.config_maps.len(), 1, "the fault flags, always present so flags can be flipped");
        assert_eq!(components(&shop("demo")).len(), 10);
    }

    #[test]
    fn an_smtp_relay_adds_notifications_its_database_and_nats() {
        let mut s = shop("demo");
        s.spec.notifications.smtp = Some(crate::crd::SmtpSpec::plain("mail"));
        let built = workloads(valid(&s), &SecretVersions::new());
        assert_eq!((built.deployments.len(), built.statefulsets.len(), built.services.len()), (6, 7, 13));
        let names: Vec<String> = components(&s).into_iter().map(|c| c.name).collect();
        assert_eq!(names.len(), 13);
        assert!(["nats", "notifications", "notifications-db"].iter().all(|n| names.contains(&n.to_string())));
    }

    #[test]
    fn external_mode_runs_no_databases_and_jaeger_and_loadgen_add_components() {
        let mut s = external_shop("demo");
        s.spec.tracing.jaeger.enabled = true;
        s.spec.load_generator.enabled = true;
        s.spec.storefront.enabled = false;
        let built = workloads(valid(&s), &SecretVersions::new());
        assert!(built.statefulsets.is_empty());
        assert_eq!(built.deployments.len(), 6);
        assert_eq!(built.config_maps.len(), 2, "faults and the Jaeger configuration");
        let names: Vec<String> = components(&s).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["jaeger", "loadgen", "orders", "payments", "products", "users"]);
    }
}
