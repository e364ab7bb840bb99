//! `database.mode: cloudnativepg`: one CloudNativePG `Cluster` (`postgresql.cnpg.io/v1`) per
//! service, so databases outgrow one pod: streaming replicas with automatic failover, a
//! PodDisruptionBudget (CloudNativePG's `enablePDB`) and an application user that owns its
//! database but is not a superuser. CloudNativePG writes that user's credentials into the
//! Secret `<cluster>-app`, whose `uri` key (host `<cluster>-rw`, the primary) is the service's
//! `DATABASE_URL`.
//!
//! The Cluster is built as JSON (no Rust types for a CRD we do not own) and has no owner
//! reference, like the managed databases' claims: with deletion policy `Retain` it outlives the
//! Shop with its data; the finalizer deletes it under `Delete`.

use kube::{
    api::{ApiResource, DynamicObject, GroupVersionKind},
    core::ObjectMeta,
};
use serde_json::{Value, json};

use super::{
    Microservice, SecretVersions, Workloads,
    database::Backend,
    labels::{Component, child_meta},
    names, secrets,
    services::DB_CA_FILE,
};
use crate::crd::{SecretKeyRef, Shop, ShopSpec, SslMode, WorkloadKind};

/// The CloudNativePG Cluster resource.
pub fn api_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("postgresql.cnpg.io", "v1", "Cluster"), "clusters")
}

/// The Secret CloudNativePG creates with the application user's credentials.
pub fn app_secret(shop: &Shop, service: Microservice) -> String {
    format!("{}-app", names::db(shop, service))
}

/// The Cluster of one service's database.
pub fn cluster(shop: &Shop, service: Microservice) -> DynamicObject {
    let settings = &shop.spec.database.cloudnativepg;
    let mut storage = json!({"size": settings.storage_size});
    if let Some(class) = &settings.storage_class_name {
        storage["storageClass"] = json!(class);
    }
    let mut spec = json!({
        "instances": settings.instances,
        "storage": storage,
        // The service's database, owned by a non-superuser of the same name.
        "bootstrap": {"initdb": {"database": service.name(), "owner": service.name()}},
        // CloudNativePG's budget keeps the primary up during drains; with one instance that
        // would block every node drain, so only replicated clusters get it.
        "enablePDB": settings.instances > 1,
    });
    if let Some(image) = &settings.image_name {
        spec["imageName"] = json!(image);
    }
    let mut metadata: ObjectMeta = child_meta(shop, names::db(shop, service), Component::Database(service));
    metadata.owner_references = None;
    let mut cluster = DynamicObject::new(&names::db(shop, service), &api_resource())
        .within(&metadata.namespace.clone().unwrap_or_default());
    cluster.metadata = metadata;
    cluster.data = json!({"spec": spec});
    cluster
}

/// The cloudnativepg mode's answers.
pub struct CloudNativePg;

impl Backend for CloudNativePg {
    fn describe(&self) -> &'static str {
        "CloudNativePG"
    }

    fn validate(&self, spec: &ShopSpec, errors: &mut Vec<String>) {
        let settings = &spec.database.cloudnativepg;
        if settings.product_reads_from_replicas && settings.instances < 2 {
            errors.push(
                "database.cloudnativepg.productReadsFromReplicas needs instances >= 2: the -ro Service selects replicas only"
                    .into(),
            );
        }
    }

    fn uri(&self, shop: &Shop, service: Microservice) -> Option<SecretKeyRef> {
        Some(SecretKeyRef { name: app_secret(shop, service), key: secrets::DB_URI.into() })
    }

    /// `verify-full` against each cluster's own CA (`<cluster>-ca`, key `ca.crt`) unless the
    /// Shop asks for another `sslmode`.
    fn tls(&self, shop: &Shop, service: Microservice) -> Option<(SslMode, Option<SecretKeyRef>)> {
        let ca = SecretKeyRef { name: format!("{}-ca", names::db(shop, service)), key: DB_CA_FILE.into() };
        let mode = shop.spec.database.tls.ssl_mode.unwrap_or(SslMode::VerifyFull);
        Some((mode, matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull).then_some(ca)))
    }

    /// The replicas of the products cluster (`<cluster>-ro`, the same credentials and CA as
    /// the primary), on request (`productReadsFromReplicas`).
    fn read_host(&self, shop: &Shop, service: Microservice) -> Option<String> {
        let wanted = shop.spec.database.cloudnativepg.product_reads_from_replicas && service == Microservice::Products;
        wanted.then(|| format!("{}-ro", names::db(shop, service)))
    }

    fn add_workloads(&self, shop: &Shop, services: &[Microservice], _versions: &SecretVersions, out: &mut Workloads) {
        out.clusters = services.iter().map(|s| cluster(shop, *s)).collect();
    }

    fn component(&self, shop: &Shop) -> Option<(WorkloadKind, i32)> {
        Some((WorkloadKind::Cluster, shop.spec.database.cloudnativepg.instances))
    }

    /// CloudNativePG deletes a Cluster's volumes with it.
    fn deletes_clusters(&self) -> bool {
        true
    }
}

/// Ready instances reported by CloudNativePG (0 before it reports).
pub fn ready_instances(cluster: &DynamicObject) -> i32 {
    cluster
        .data
        .pointer("/status/readyInstances")
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{
        database,
        tests::{shop, valid},
    };
    use crate::crd::DatabaseMode;

    fn read_host(shop: &Shop, service: Microservice) -> Option<String> {
        database::of(shop).read_host(shop, service)
    }

    fn cnpg_shop() -> Shop {
        let mut s = shop("demo");
        s.spec.database.mode = DatabaseMode::CloudNativePg;
        s.spec.database.cloudnativepg.instances = 3;
        s.spec.database.cloudnativepg.storage_class_name = Some("fast".into());
        s
    }

    #[test]
    fn cluster_bootstraps_the_service_database_with_a_non_superuser_owner() {
        let c = serde_json::to_value(cluster(&cnpg_shop(), Microservice::Orders)).expect("json");
        assert_eq!(c["apiVersion"], "postgresql.cnpg.io/v1");
        assert_eq!(c["kind"], "Cluster");
        assert_eq!(c["metadata"]["name"], "demo-orders-db");
        assert_eq!(c["metadata"]["namespace"], "shops");
        assert!(c["metadata"]["ownerReferences"].is_null(), "the data outlives the Shop under Retain");
        assert_eq!(c["metadata"]["labels"]["app.kubernetes.io/managed-by"], "microshop-operator");
        let spec = &c["spec"];
        assert_eq!(spec["instances"], 3);
        assert_eq!(spec["storage"], json!({"size": "1Gi", "storageClass": "fast"}));
        assert_eq!(spec["bootstrap"]["initdb"], json!({"database": "orders", "owner": "orders"}));
        assert_eq!(spec["enablePDB"], true, "three instances: a budget");
        let mut single = cnpg_shop();
        single.spec.database.cloudnativepg.instances = 1;
        let c = serde_json::to_value(cluster(&single, Microservice::Orders)).expect("json");
        assert_eq!(c["spec"]["enablePDB"], false, "one instance: a budget would block node drains");
        assert!(spec.get("imageName").is_none(), "CloudNativePG's default image unless set");
    }

    #[test]
    fn services_read_the_app_secret_of_their_cluster() {
        let s = cnpg_shop();
        let uri = Microservice::Users.database_uri(&s).expect("a reference");
        assert_eq!((uri.name.as_str(), uri.key.as_str()), ("demo-users-db-app", "uri"));
        let built = crate::build::workloads(valid(&s), &Default::default());
        assert!(built.statefulsets.is_empty(), "CloudNativePG runs the databases");
        assert_eq!(built.clusters.len(), 5);
        assert!(
            crate::build::secrets::secret_plans(valid(&s))
                .iter()
                .all(|p| !matches!(p.kind, crate::build::secrets::SecretKind::Database(_))),
            "no generated credentials"
        );
    }

    #[test]
    fn only_products_reads_go_to_the_replicas_and_only_when_asked() {
        let mut s = cnpg_shop();
        assert_eq!(read_host(&s, Microservice::Products), None, "off by default: replicas lag");
        s.spec.database.cloudnativepg.product_reads_from_replicas = true;
        assert_eq!(read_host(&s, Microservice::Products).as_deref(), Some("demo-products-db-ro"));
        assert_eq!(read_host(&s, Microservice::Orders), None);
        s.spec.database.mode = DatabaseMode::Managed;
        assert_eq!(read_host(&s, Microservice::Products), None, "managed mode has no replicas");
    }

    #[test]
    fn readiness_comes_from_the_cluster_status() {
        let mut c = cluster(&cnpg_shop(), Microservice::Products);
        assert_eq!(ready_instances(&c), 0);
        c.data["status"] = json!({"readyInstances": 2, "instances": 3});
        assert_eq!(ready_instances(&c), 2);
    }
}
