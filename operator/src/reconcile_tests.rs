//! Reconcile tests against the fake API server (`crate::fixtures::FakeApiServer`).

use std::sync::Arc;

use base64::Engine;
use http::Method;
use kube::api::DynamicObject;
use serde_json::{Value, json};

use super::*;
use crate::fixtures::{FakeApiServer, Recorded};

const NS_CORE: &str = "/api/v1/namespaces/shops";
const NS_APPS: &str = "/apis/apps/v1/namespaces/shops";
const SHOP_PATH: &str = "/apis/microshop.dev/v1alpha1/namespaces/shops/shops/demo";

fn shop_json(spec: Value) -> Value {
    json!({
        "apiVersion": "microshop.dev/v1alpha1",
        "kind": "Shop",
        "metadata": {"name": "demo", "namespace": "shops", "uid": "6f1c0d2e-0000-4000-8000-000000000001", "generation": 1},
        "spec": spec,
    })
}

fn setup(shop: Value) -> (Arc<Context>, FakeApiServer) {
    let (client, fake) = FakeApiServer::start();
    fake.insert(SHOP_PATH, shop);
    let mut ctx = Context::new(client, Arc::new(Health::default()));
    ctx.now = || "2026-01-01T00:00:00Z".into();
    (Arc::new(ctx), fake)
}

/// The Shop as stored in the fake, as the controller would receive it.
fn stored_shop(fake: &FakeApiServer) -> Arc<DynamicObject> {
    Arc::new(serde_json::from_value(fake.get(SHOP_PATH).expect("shop stored")).expect("DynamicObject"))
}

fn writes(requests: &[Recorded]) -> Vec<String> {
    requests.iter().filter(|r| r.method != Method::GET).map(|r| format!("{} {}", r.method, r.path)).collect()
}

fn event_reasons(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method == Method::POST && r.path.ends_with("/events"))
        .filter_map(|r| r.body["reason"].as_str().map(String::from))
        .collect()
}

fn status_patches(requests: &[Recorded]) -> Vec<&Recorded> {
    requests.iter().filter(|r| r.path.ends_with("/status")).collect()
}

fn secret_value(fake: &FakeApiServer, name: &str, key: &str) -> String {
    let secret = fake.get(&format!("{NS_CORE}/secrets/{name}")).expect("secret stored");
    let encoded = secret["data"][key].as_str().expect("key present");
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

fn stored_secret(name: &str, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> =
        data.iter().map(|(k, v)| (k.to_string(), json!(base64::engine::general_purpose::STANDARD.encode(v)))).collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "shops"}, "data": data})
}

#[tokio::test]
async fn first_reconcile_creates_everything_with_server_side_apply() {
    let (ctx, fake) = setup(shop_json(json!({})));

    let action = reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let requests = fake.take_requests();
    let applies: Vec<&Recorded> =
        requests.iter().filter(|r| r.content_type.starts_with("application/apply-patch")).collect();
    assert!(
        applies.iter().all(|r| r.query.contains("fieldManager=microshop-operator") && r.query.contains("force=true"))
    );
    assert!(
        applies.iter().all(|r| r.body["apiVersion"].is_string() && r.body["kind"].is_string()),
        "apply bodies name their kind"
    );
    let count = |fragment: &str| applies.iter().filter(|r| r.path.contains(fragment)).count();
    assert_eq!(count("/secrets/"), 8);
    assert_eq!(count("/statefulsets/"), 5);
    assert_eq!(count("/services/"), 10);
    assert_eq!(count("/deployments/"), 5);
    assert_eq!(count("/configmaps/"), 1, "the fault flags");
    assert_eq!(count("/networkpolicies/"), 10, "one per service and per database");
    assert_eq!(status_patches(&requests).len(), 1);
    assert_eq!(event_reasons(&requests), ["SecretsCreated", "Created"]);

    let shop = fake.get(SHOP_PATH).expect("shop");
    assert_eq!(shop["status"]["phase"], "Pending");
    assert_eq!(shop["status"]["readyComponents"], "0/10");
    assert!(secret_value(&fake, "demo-jwt", "private.pem").starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(secret_value(&fake, "demo-users-db", "uri").starts_with("postgres://users:"));
    assert_eq!(action, Action::requeue(Duration::from_secs(30)), "not ready yet: look again soon");
}

#[tokio::test]
async fn existing_secret_values_are_never_rewritten() {
    let (ctx, fake) = setup(shop_json(json!({})));
    fake.insert(&format!("{NS_CORE}/secrets/demo-admin"), stored_secret("demo-admin", &[("password", "admin-pw")]));
    fake.insert(&format!("{NS_CORE}/secrets/demo-users-db"), stored_secret("demo-users-db", &[("password", "old-pw")]));

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let requests = fake.take_requests();
    let written = writes(&requests);
    assert!(
        !written.iter().any(|w| w.ends_with("/secrets/demo-admin")),
        "a complete Secret is not written: {written:?}"
    );
    assert!(written.iter().any(|w| w.ends_with("/secrets/demo-users-db")), "a Secret missing keys is completed");
    assert_eq!(secret_value(&fake, "demo-admin", "password"), "admin-pw");
    assert_eq!(secret_value(&fake, "demo-users-db", "password"), "old-pw");
    assert_eq!(secret_value(&fake, "demo-users-db", "uri"), "postgres://users:old-pw@demo-users-db:5432/users");
    assert!(event_reasons(&requests).contains(&"SecretsCompleted".to_string()));
}

#[tokio::test]
async fn an_unchanged_shop_writes_no_status_and_no_secrets() {
    let (ctx, fake) = setup(shop_json(json!({})));
    fake.set_workloads_ready(true);
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("first reconcile");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Ready");
    fake.take_requests();

    let action = reconcile(stored_shop(&fake), ctx).await.expect("second reconcile");

    let requests = fake.take_requests();
    assert!(status_patches(&requests).is_empty(), "status unchanged: not written");
    assert!(event_reasons(&requests).is_empty(), "nothing happened: no Events");
    assert!(!writes(&requests).iter().any(|w| w.contains("/secrets/")), "Secrets are only read");
    assert_eq!(action, Action::requeue(Duration::from_secs(300)));
}

#[tokio::test]
async fn a_paused_shop_writes_nothing_to_its_children() {
    let (ctx, fake) = setup(shop_json(json!({"paused": true})));

    let action = reconcile(stored_shop(&fake), ctx.clone()).await.expect("reconcile");

    let requests = fake.take_requests();
    assert_eq!(writes(&requests), [format!("PATCH {SHOP_PATH}/status")], "only the status is written");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Paused");
    assert_eq!(action, Action::await_change());

    reconcile(stored_shop(&fake), ctx).await.expect("again");
    assert!(fake.take_requests().is_empty(), "paused and already reported: no request at all");
}

#[tokio::test]
async fn deleting_a_shop_with_retain_keeps_the_data() {
    let mut shop = shop_json(json!({}));
    shop["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    let (ctx, fake) = setup(shop.clone());
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("reconcile");
    assert!(fake.take_requests().is_empty(), "Retain without finalizer: nothing to do, children are garbage-collected");

    // The policy was Delete when the finalizer was added, then switched to Retain.
    shop["metadata"]["finalizers"] = json!([FINALIZER]);
    fake.insert(SHOP_PATH, shop);
    fake.insert(
        &format!("{NS_CORE}/persistentvolumeclaims/data-demo-users-db-0"),
        claim("data-demo-users-db-0", "demo"),
    );
    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");
    let requests = fake.take_requests();
    assert!(!requests.iter().any(|r| r.method == Method::DELETE), "{:?}", writes(&requests));
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["metadata"]["finalizers"], json!([]));
    assert!(fake.get(&format!("{NS_CORE}/persistentvolumeclaims/data-demo-users-db-0")).is_some());
}

fn claim(name: &str, shop: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "shops", "labels": {
            "app.kubernetes.io/instance": shop, "app.kubernetes.io/component": "database",
            "app.kubernetes.io/managed-by": "microshop-operator"}},
    })
}

#[tokio::test]
async fn deleting_a_shop_with_delete_removes_claims_and_credentials() {
    let mut shop = shop_json(json!({"database": {"managed": {"deletionPolicy": "Delete"}}}));
    shop["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    shop["metadata"]["finalizers"] = json!([FINALIZER, "example.com/other"]);
    let (ctx, fake) = setup(shop);
    for service in ["products", "users", "orders", "payments"] {
        let name = format!("data-demo-{service}-db-0");
        fake.insert(&format!("{NS_CORE}/persistentvolumeclaims/{name}"), claim(&name, "demo"));
        let secret = format!("demo-{service}-db");
        fake.insert(&format!("{NS_CORE}/secrets/{secret}"), stored_secret(&secret, &[("password", "x")]));
    }
    fake.insert(&format!("{NS_CORE}/secrets/demo-admin"), stored_secret("demo-admin", &[("password", "x")]));
    fake.insert(
        &format!("{NS_CORE}/persistentvolumeclaims/data-other-users-db-0"),
        claim("data-other-users-db-0", "other"),
    );
    // Another application's claim with the same instance and component labels, not ours.
    let mut foreign = claim("data-demo-cache-0", "demo");
    foreign["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("helm");
    fake.insert(&format!("{NS_CORE}/persistentvolumeclaims/data-demo-cache-0"), foreign);

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let requests = fake.take_requests();
    assert_eq!(
        fake.paths_under(&format!("{NS_CORE}/persistentvolumeclaims")),
        [
            format!("{NS_CORE}/persistentvolumeclaims/data-demo-cache-0"),
            format!("{NS_CORE}/persistentvolumeclaims/data-other-users-db-0")
        ],
        "only claims this operator made for this Shop are deleted"
    );
    assert!(
        fake.paths_under(&format!("{NS_CORE}/secrets")).is_empty(),
        "credentials and the admin password deleted with the data"
    );
    assert_eq!(
        fake.get(SHOP_PATH).expect("shop")["metadata"]["finalizers"],
        json!(["example.com/other"]),
        "only our finalizer is released"
    );
    assert_eq!(event_reasons(&requests), ["DataDeleted"]);
}

#[tokio::test]
async fn delete_policy_adds_the_finalizer_first() {
    let (ctx, fake) = setup(shop_json(json!({"database": {"managed": {"deletionPolicy": "Delete"}}})));

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let requests = fake.take_requests();
    let first_write = requests.iter().find(|r| r.method != Method::GET).expect("a write");
    assert_eq!(
        (first_write.path.as_str(), first_write.content_type.as_str()),
        (SHOP_PATH, "application/merge-patch+json")
    );
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["metadata"]["finalizers"], json!([FINALIZER]));
}

#[tokio::test]
async fn an_api_error_publishes_an_event_and_requeues_with_backoff() {
    let (ctx, fake) = setup(shop_json(json!({})));
    fake.fail(Method::PATCH, "/deployments/", 500);
    let shop = stored_shop(&fake);

    let error = reconcile(shop.clone(), ctx.clone()).await.expect_err("apply fails");

    assert!(matches!(&error, Error::Kube { action: "apply", kind, .. } if kind == "Deployment"), "{error}");
    let requests = fake.take_requests();
    assert!(event_reasons(&requests).contains(&"ReconcileFailed".to_string()));
    assert_eq!(status_patches(&requests).len(), 1, "the failure is reported in the status");
    assert_eq!(error_policy(shop.clone(), &error, ctx.clone()), Action::requeue(Duration::from_secs(5)));
    assert_eq!(error_policy(shop.clone(), &error, ctx.clone()), Action::requeue(Duration::from_secs(10)));
    assert_eq!(ctx.health.metrics.failures("apply"), 2);
}

#[test]
fn backoff_doubles_up_to_five_minutes() {
    let cases = [(1, 5), (2, 10), (3, 20), (6, 160), (7, 300), (50, 300)];
    for (failures, secs) in cases {
        assert_eq!(backoff(failures), Duration::from_secs(secs), "after {failures} failures");
    }
}

#[tokio::test]
async fn an_invalid_shop_gets_a_condition_and_an_event_and_nothing_else() {
    let cases = [
        ("does not deserialize", json!({"database": {"mode": "bogus"}}), "does not match the Shop schema"),
        ("fails validation", json!({"database": {"mode": "external"}}), "database.external is required"),
    ];
    for (what, spec, message) in cases {
        let (ctx, fake) = setup(shop_json(spec));

        let action = reconcile(stored_shop(&fake), ctx).await.expect(what);

        let requests = fake.take_requests();
        assert_eq!(writes(&requests).iter().filter(|w| !w.ends_with("/events")).count(), 1, "{what}: only status");
        assert_eq!(event_reasons(&requests), ["InvalidSpec"], "{what}");
        let status = &fake.get(SHOP_PATH).expect("shop")["status"];
        assert_eq!(status["phase"], "Degraded", "{what}");
        assert_eq!(status["conditions"][0]["reason"], "InvalidSpec", "{what}");
        assert!(status["conditions"][0]["message"].as_str().unwrap_or_default().contains(message), "{what}: {status}");
        assert_eq!(action, Action::await_change(), "{what}");
    }
}

#[tokio::test]
async fn switching_jaeger_off_removes_it() {
    let (ctx, fake) = setup(shop_json(json!({"tracing": {"jaeger": {"enabled": true}}})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("with jaeger");
    assert!(fake.get(&format!("{NS_APPS}/deployments/demo-jaeger")).is_some());
    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["tracing"]["jaeger"]["enabled"] = json!(false);
    shop["metadata"]["generation"] = json!(2);
    fake.insert(SHOP_PATH, shop);
    fake.take_requests();

    reconcile(stored_shop(&fake), ctx).await.expect("without jaeger");

    assert!(fake.get(&format!("{NS_APPS}/deployments/demo-jaeger")).is_none());
    assert!(fake.get(&format!("{NS_CORE}/services/demo-jaeger")).is_none());
    let requests = fake.take_requests();
    assert_eq!(event_reasons(&requests), ["Deleted", "Updated"]);
    let env = &fake.get(&format!("{NS_APPS}/deployments/demo-orders")).expect("orders")["spec"]["template"]["spec"]["containers"]
        [0]["env"];
    assert!(env.as_array().expect("env").iter().any(|e| e["name"] == "OTEL_SDK_DISABLED"), "services stop exporting");
}

#[tokio::test]
async fn a_missing_external_database_secret_degrades_the_shop() {
    let refs = json!({"name": "pg", "key": "uri"});
    let spec = json!({"database": {"mode": "external", "external": {"products": refs, "users": refs, "orders": refs, "storefront": refs, "payments": {"name": "pg-payments"}}}});
    let (ctx, fake) = setup(shop_json(spec));
    fake.insert(&format!("{NS_CORE}/secrets/pg"), stored_secret("pg", &[("uri", "postgres://u:p@db:5432/x")]));
    fake.set_workloads_ready(true);

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let status = &fake.get(SHOP_PATH).expect("shop")["status"];
    assert_eq!(status["phase"], "Degraded");
    let databases =
        status["conditions"].as_array().expect("conditions").iter().find(|c| c["type"] == "DatabasesReady").cloned();
    let databases = databases.expect("DatabasesReady");
    assert_eq!(databases["status"], "False");
    assert!(
        databases["message"].as_str().unwrap_or_default().contains("payments: Secret pg-payments not found"),
        "{databases}"
    );
    assert!(fake.paths_under(&format!("{NS_APPS}/statefulsets")).is_empty(), "no managed databases in external mode");
}

fn condition(fake: &FakeApiServer, type_: &str) -> Value {
    let status = fake.get(SHOP_PATH).expect("shop")["status"].clone();
    status["conditions"].as_array().and_then(|c| c.iter().find(|c| c["type"] == type_).cloned()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_admin_password_survives_the_shop_like_the_data() {
    let (ctx, fake) = setup(shop_json(json!({})));

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let admin = fake.get(&format!("{NS_CORE}/secrets/demo-admin")).expect("admin secret");
    assert!(admin["metadata"]["ownerReferences"].is_null(), "not garbage-collected with the Shop: {admin}");
    let jwt = fake.get(&format!("{NS_CORE}/secrets/demo-jwt")).expect("jwt secret");
    assert!(jwt["metadata"]["ownerReferences"].is_array(), "other Secrets go with the Shop");
}

#[tokio::test]
async fn deleting_a_database_password_rotates_it_and_rolls_the_database() {
    let (ctx, fake) = setup(shop_json(json!({})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("first");
    let hash = |fake: &FakeApiServer, kind: &str, name: &str| {
        fake.get(&format!("{NS_APPS}/{kind}/{name}")).expect("workload")["spec"]["template"]["metadata"]["annotations"]
            ["microshop.dev/config-hash"]
            .clone()
    };
    let (db_before, users_before) =
        (hash(&fake, "statefulsets", "demo-users-db"), hash(&fake, "deployments", "demo-users"));
    let old_password = secret_value(&fake, "demo-users-db", "password");
    let mut secret = fake.get(&format!("{NS_CORE}/secrets/demo-users-db")).expect("secret");
    secret["data"].as_object_mut().expect("data").remove("password");
    fake.insert(&format!("{NS_CORE}/secrets/demo-users-db"), secret);

    reconcile(stored_shop(&fake), ctx).await.expect("second");

    let new_password = secret_value(&fake, "demo-users-db", "password");
    assert_ne!(new_password, old_password);
    assert_eq!(
        secret_value(&fake, "demo-users-db", "uri"),
        format!("postgres://users:{new_password}@demo-users-db:5432/users"),
        "the URI follows the new password"
    );
    assert_ne!(hash(&fake, "statefulsets", "demo-users-db"), db_before, "the database restarts to apply it");
    assert_ne!(hash(&fake, "deployments", "demo-users"), users_before, "the service restarts with the new URI");
}

#[tokio::test]
async fn a_shop_is_not_ready_before_its_workloads_observed_the_new_generation() {
    let (ctx, fake) = setup(shop_json(json!({})));
    fake.set_workloads_ready(true);
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("first");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Ready");

    // A spec change: the Deployments get a new generation that their controller has not seen yet,
    // while their status still counts the old pods as ready.
    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["services"] = json!({"orders": {"logLevel": "debug"}});
    shop["metadata"]["generation"] = json!(2);
    fake.insert(SHOP_PATH, shop);
    fake.set_status_lags(true);

    reconcile(stored_shop(&fake), ctx.clone()).await.expect("after the change");

    let stored = fake.get(SHOP_PATH).expect("shop");
    assert_ne!(stored["status"]["phase"], "Ready", "{}", stored["status"]);
    assert_eq!(condition(&fake, "ServicesReady")["status"], "False");
    assert!(condition(&fake, "ServicesReady")["message"].as_str().unwrap_or_default().contains("orders 0/1"));

    fake.set_status_lags(false);
    reconcile(stored_shop(&fake), ctx).await.expect("rolled out");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Ready");
}

#[tokio::test]
async fn an_apply_error_is_a_condition_on_the_shop() {
    let (ctx, fake) = setup(shop_json(json!({"exposure": {"type": "NodePort"}})));
    fake.fail(Method::PATCH, "/services/demo-products", 422);

    reconcile(stored_shop(&fake), ctx.clone()).await.expect_err("the Service is refused");

    let reconciled = condition(&fake, "Reconciled");
    assert_eq!(reconciled["status"], "False");
    assert_eq!(reconciled["reason"], "ApplyFailed");
    assert!(reconciled["message"].as_str().unwrap_or_default().contains("Service demo-products"), "{reconciled}");
    assert_eq!(condition(&fake, "Ready")["reason"], "ReconcileFailed");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Degraded");
}

#[tokio::test]
async fn a_postgres_major_version_change_is_refused_before_anything_is_applied() {
    let (ctx, fake) = setup(shop_json(json!({})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("first, on postgres:17");
    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["database"] = json!({"managed": {"image": "docker.io/library/postgres:18"}});
    shop["metadata"]["generation"] = json!(2);
    fake.insert(SHOP_PATH, shop);
    fake.take_requests();

    let action = reconcile(stored_shop(&fake), ctx.clone()).await.expect("refused, not failed");

    let requests = fake.take_requests();
    assert_eq!(writes(&requests).iter().filter(|w| !w.ends_with("/events")).count(), 1, "{:?}", writes(&requests));
    assert_eq!(event_reasons(&requests), ["DatabaseUpgradeRefused"]);
    let ready = condition(&fake, "Ready");
    assert_eq!(ready["reason"], "DatabaseUpgradeRefused");
    assert!(ready["message"].as_str().unwrap_or_default().contains("PostgreSQL 17"), "{ready}");
    assert_eq!(action, Action::await_change());

    // A minor update of the same major version goes through.
    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["database"] = json!({"managed": {"image": "docker.io/library/postgres:17.6"}});
    fake.insert(SHOP_PATH, shop);
    reconcile(stored_shop(&fake), ctx).await.expect("minor update");
    let sts = fake.get(&format!("{NS_APPS}/statefulsets/demo-users-db")).expect("sts");
    assert_eq!(sts["spec"]["template"]["spec"]["containers"][0]["image"], "docker.io/library/postgres:17.6");
}

#[tokio::test]
async fn pruning_finds_unwanted_children_by_label_not_by_the_previous_status() {
    let (ctx, fake) = setup(shop_json(json!({"loadGenerator": {"enabled": true}})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("with the load generator");
    assert!(fake.get(&format!("{NS_APPS}/deployments/demo-loadgen")).is_some());
    // The status is lost (restored from a backup, say), and the load generator is switched off.
    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["status"] = Value::Null;
    shop["spec"]["loadGenerator"]["enabled"] = json!(false);
    fake.insert(SHOP_PATH, shop);
    // Something else in the namespace with our name pattern, but not owned by the Shop.
    fake.insert(
        &format!("{NS_APPS}/deployments/demo-tools"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "demo-tools", "namespace": "shops",
            "labels": {"app.kubernetes.io/instance": "demo", "app.kubernetes.io/managed-by": "microshop-operator"}}}),
    );

    reconcile(stored_shop(&fake), ctx).await.expect("without");

    assert!(fake.get(&format!("{NS_APPS}/deployments/demo-loadgen")).is_none(), "pruned without a status entry");
    assert!(fake.get(&format!("{NS_APPS}/deployments/demo-tools")).is_some(), "not owned by the Shop: kept");
    assert!(fake.get(&format!("{NS_APPS}/deployments/demo-orders")).is_some());
}

#[tokio::test]
async fn faults_change_the_flag_file_without_restarting_the_services() {
    let (ctx, fake) = setup(shop_json(json!({})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("no faults");
    let products = |fake: &FakeApiServer| fake.get(&format!("{NS_APPS}/deployments/demo-products")).expect("products");
    let before = products(&fake)["spec"]["template"].clone();
    let flags = |fake: &FakeApiServer| {
        let cm = fake.get(&format!("{NS_CORE}/configmaps/demo-faults")).expect("faults ConfigMap");
        serde_json::from_str::<Value>(cm["data"]["flags.json"].as_str().unwrap_or_default()).expect("json")
    };
    assert_eq!(flags(&fake), json!({"flags": {}}));

    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["faults"] = json!({"productsUnavailable": true, "paymentFailureRate": 0.5});
    fake.insert(SHOP_PATH, shop);
    reconcile(stored_shop(&fake), ctx).await.expect("faults on");

    let doc = flags(&fake);
    assert_eq!(doc["flags"]["productsUnavailable"]["variants"]["on"], true);
    assert_eq!(doc["flags"]["paymentFailureRate"]["variants"]["on"], 0.5);
    assert_eq!(products(&fake)["spec"]["template"], before, "no rollout: the mounted file changes in place");
}

#[tokio::test]
async fn cloudnativepg_mode_applies_a_cluster_per_service_and_waits_for_its_instances() {
    let (ctx, fake) =
        setup(shop_json(json!({"database": {"mode": "cloudnativepg", "cloudnativepg": {"instances": 3}}})));
    fake.set_workloads_ready(true);

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let clusters = fake.paths_under("/apis/postgresql.cnpg.io/v1/namespaces/shops/clusters");
    assert_eq!(clusters.len(), 5, "{clusters:?}");
    assert!(fake.paths_under(&format!("{NS_APPS}/statefulsets")).is_empty(), "no StatefulSets of our own");
    let orders = fake.get(&format!("{NS_APPS}/deployments/demo-orders")).expect("orders");
    let env = orders["spec"]["template"]["spec"]["containers"][0]["env"].as_array().cloned().unwrap_or_default();
    let uri = env.iter().find(|e| e["name"] == "DATABASE_URI").expect("DATABASE_URI");
    assert_eq!(
        uri["valueFrom"]["secretKeyRef"],
        json!({"name": "demo-orders-db-app", "key": "uri", "optional": false})
    );
    let url = env.iter().find(|e| e["name"] == "DATABASE_URL").expect("DATABASE_URL");
    assert!(url["value"].as_str().unwrap_or_default().contains("sslmode=verify-full"), "{url}");
    let status = fake.get(SHOP_PATH).expect("shop")["status"].clone();
    assert_eq!(status["phase"], "Ready", "{status}");
    let users_db =
        status["components"].as_array().expect("components").iter().find(|c| c["name"] == "users-db").cloned();
    assert_eq!(
        users_db,
        Some(json!({"name": "users-db", "kind": "Cluster", "desiredReplicas": 3, "readyReplicas": 3}))
    );
    assert!(condition(&fake, "DatabasesReady")["message"].as_str().unwrap_or_default().starts_with("CloudNativePG"));
}

#[tokio::test]
async fn an_http_route_is_applied_and_pruned_by_label() {
    let route_spec = json!({"enabled": true, "parentRefs": [{"name": "public", "namespace": "gateways"}], "tls": true});
    let (ctx, fake) = setup(shop_json(json!({"storefront": {"enabled": true}, "exposure": {"httpRoute": route_spec}})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("with the route");
    let path = "/apis/gateway.networking.k8s.io/v1/namespaces/shops/httproutes/demo-storefront";
    let route = fake.get(path).expect("the route is applied");
    assert_eq!(route["spec"]["parentRefs"][0]["name"], "public");
    let storefront = fake.get(&format!("{NS_APPS}/deployments/demo-storefront")).expect("storefront");
    let env = storefront["spec"]["template"]["spec"]["containers"][0]["env"].as_array().cloned().unwrap_or_default();
    let secure = env.iter().find(|e| e["name"] == "STOREFRONT_SECURE_COOKIES").expect("cookie setting");
    assert_eq!(secure["value"], "true", "the Gateway terminates TLS");

    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["exposure"]["httpRoute"]["enabled"] = json!(false);
    shop["metadata"]["generation"] = json!(2);
    fake.insert(SHOP_PATH, shop);
    reconcile(stored_shop(&fake), ctx).await.expect("without the route");
    assert!(fake.get(path).is_none(), "switched off: pruned");
}

#[tokio::test]
async fn without_the_gateway_api_pruning_routes_finds_nothing_to_do() {
    let (ctx, fake) = setup(shop_json(json!({})));
    fake.fail(Method::GET, "/apis/gateway.networking.k8s.io/", 404);
    reconcile(stored_shop(&fake), ctx).await.expect("a cluster without Gateway API CRDs is fine");
    assert_ne!(condition(&fake, "Ready")["reason"], "ReconcileFailed");
}

#[tokio::test]
async fn deleting_a_cloudnativepg_shop_with_delete_removes_its_clusters_even_when_its_spec_no_longer_parses() {
    let mut shop = shop_json(json!({
        "database": {"mode": "cloudnativepg", "managed": {"deletionPolicy": "Delete"}},
        // A field a later operator version no longer reads as this one did: the whole spec
        // does not parse, its database section still does.
        "tracing": {"jaeger": {"enabled": "not a boolean"}},
    }));
    shop["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    shop["metadata"]["finalizers"] = json!([FINALIZER]);
    let (ctx, fake) = setup(shop);
    let clusters = "/apis/postgresql.cnpg.io/v1/namespaces/shops/clusters";
    for service in ["products", "users", "orders", "payments"] {
        let name = format!("demo-{service}-db");
        fake.insert(&format!("{clusters}/{name}"), json!({"metadata": {"name": name, "namespace": "shops"}}));
    }

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    assert!(fake.paths_under(clusters).is_empty(), "{:?}", fake.paths_under(clusters));
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["metadata"]["finalizers"], json!([]), "released");
}

#[test]
fn a_workload_in_the_middle_of_a_rollout_is_not_counted_complete() {
    let pods = |total, ready, updated| Pods { total, ready, updated };
    assert_eq!(current_ready(true, pods(3, 3, 3), 3), 3, "rolled out");
    assert_eq!(current_ready(false, pods(3, 3, 3), 3), 0, "status of the previous generation");
    assert_eq!(current_ready(true, pods(3, 3, 1), 3), 1, "old pods are ready, one new pod is");
    // maxSurge: the new pod is ready and the old one has not gone yet (readyReplicas counts both).
    assert_eq!(current_ready(true, pods(2, 2, 1), 1), 0, "one old pod remains");
    assert_eq!(current_ready(true, pods(4, 4, 3), 3), 2, "every new pod ready, an old one remains");
    assert_eq!(current_ready(true, pods(1, 0, 1), 1), 0, "the new pod is not ready yet");
}

fn env_of(fake: &FakeApiServer, deployment: &str, name: &str) -> Option<Value> {
    let d = fake.get(&format!("{NS_APPS}/deployments/{deployment}"))?;
    let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array()?.clone();
    env.into_iter().find(|e| e["name"] == name)
}

const SMTP: &str = "postfix.mail.svc";

#[tokio::test]
async fn an_smtp_relay_brings_notifications_and_nats_into_the_shop_and_its_status() {
    let (ctx, fake) = setup(shop_json(json!({"notifications": {"smtp": {"host": SMTP}}})));

    reconcile(stored_shop(&fake), ctx.clone()).await.expect("reconcile");

    let requests = fake.take_requests();
    let applies: Vec<&Recorded> =
        requests.iter().filter(|r| r.content_type.starts_with("application/apply-patch")).collect();
    let count = |fragment: &str| applies.iter().filter(|r| r.path.contains(fragment)).count();
    assert_eq!(count("/secrets/"), 9, "six databases' credentials, JWT, clients, admin");
    assert_eq!(count("/statefulsets/"), 7, "six databases and NATS");
    assert_eq!(count("/deployments/"), 6);
    assert_eq!(count("/networkpolicies/"), 13, "six services, six databases, NATS");
    assert!(fake.get(&format!("{NS_APPS}/statefulsets/demo-nats")).is_some());
    assert!(fake.get(&format!("{NS_CORE}/services/demo-nats")).is_some());
    assert_eq!(env_of(&fake, "demo-orders", "NATS_URL").expect("orders publishes")["value"], "nats://demo-nats:4222");
    assert_eq!(env_of(&fake, "demo-notifications", "SMTP_HOST").expect("relay")["value"], SMTP);
    assert_eq!(env_of(&fake, "demo-notifications", "SMTP_TLS").expect("tls")["value"], "none");
    assert!(env_of(&fake, "demo-notifications", "SMTP_PORT").is_none(), "the service's port for its mode");
    let clients = secret_value(&fake, "demo-service-clients", "service-clients");
    let secret = secret_value(&fake, "demo-service-clients", "notifications-client-secret");
    assert!(clients.ends_with(&format!(",notifications={secret}")), "{clients}");
    let shop = fake.get(SHOP_PATH).expect("shop");
    assert_eq!(shop["status"]["readyComponents"], "0/13");

    fake.set_workloads_ready(true);
    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");
    let shop = fake.get(SHOP_PATH).expect("shop");
    assert_eq!(
        (shop["status"]["phase"].as_str(), shop["status"]["readyComponents"].as_str()),
        (Some("Ready"), Some("13/13"))
    );
    assert_eq!(condition(&fake, "EventsReady")["status"], "True");
}

#[tokio::test]
async fn a_service_clients_secret_from_before_notifications_gains_its_entry_and_keeps_the_others() {
    let (ctx, fake) = setup(shop_json(json!({})));
    let old = "orders=o-secret,storefront=s-secret";
    let existing = [
        ("orders-client-id", "orders"),
        ("orders-client-secret", "o-secret"),
        ("storefront-client-secret", "s-secret"),
        ("service-clients", old),
    ];
    fake.insert(&format!("{NS_CORE}/secrets/demo-service-clients"), stored_secret("demo-service-clients", &existing));

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let secret = secret_value(&fake, "demo-service-clients", "notifications-client-secret");
    assert_eq!(secret.len(), 32, "a generated password");
    assert_eq!(secret_value(&fake, "demo-service-clients", "service-clients"), format!("{old},notifications={secret}"));
    assert_eq!(secret_value(&fake, "demo-service-clients", "orders-client-secret"), "o-secret");
    assert_eq!(secret_value(&fake, "demo-service-clients", "storefront-client-secret"), "s-secret");
    let requests = fake.take_requests();
    let completed = requests
        .iter()
        .find(|r| r.path.ends_with("/events") && r.body["reason"] == "SecretsCompleted")
        .expect("a SecretsCompleted Event");
    assert!(completed.body["note"].as_str().is_some_and(|n| n.contains("notifications-client-secret")));
}

#[tokio::test]
async fn removing_the_relay_prunes_notifications_and_nats_but_keeps_their_claims() {
    let (ctx, fake) = setup(shop_json(json!({"notifications": {"smtp": {"host": SMTP}}})));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("with notifications");
    let claim_path = format!("{NS_CORE}/persistentvolumeclaims/data-demo-nats-0");
    fake.insert(&claim_path, claim("data-demo-nats-0", "demo"));
    let mut shop = fake.get(SHOP_PATH).expect("shop");
    shop["spec"]["notifications"] = json!({});
    shop["metadata"]["generation"] = json!(2);
    fake.insert(SHOP_PATH, shop);

    reconcile(stored_shop(&fake), ctx).await.expect("without");

    for path in ["statefulsets/demo-nats", "statefulsets/demo-notifications-db", "deployments/demo-notifications"] {
        assert!(fake.get(&format!("{NS_APPS}/{path}")).is_none(), "{path} pruned");
    }
    assert!(fake.get(&format!("{NS_CORE}/services/demo-nats")).is_none());
    assert!(fake.get(&claim_path).is_some(), "claims are never pruned");
    assert!(env_of(&fake, "demo-orders", "NATS_URL").is_none(), "orders keeps its events in the outbox again");
}

#[tokio::test]
async fn deleting_a_shop_with_delete_removes_the_nats_claim_too() {
    let mut shop = shop_json(json!({"database": {"managed": {"deletionPolicy": "Delete"}}}));
    shop["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    shop["metadata"]["finalizers"] = json!([FINALIZER]);
    let (ctx, fake) = setup(shop);
    let mut nats = claim("data-demo-nats-0", "demo");
    nats["metadata"]["labels"]["app.kubernetes.io/component"] = json!("events");
    fake.insert(&format!("{NS_CORE}/persistentvolumeclaims/data-demo-nats-0"), nats);
    let mut other = claim("data-other-nats-0", "other");
    other["metadata"]["labels"]["app.kubernetes.io/component"] = json!("events");
    fake.insert(&format!("{NS_CORE}/persistentvolumeclaims/data-other-nats-0"), other);
    fake.insert(
        &format!("{NS_CORE}/secrets/demo-notifications-db"),
        stored_secret("demo-notifications-db", &[("password", "x")]),
    );

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    assert_eq!(
        fake.paths_under(&format!("{NS_CORE}/persistentvolumeclaims")),
        [format!("{NS_CORE}/persistentvolumeclaims/data-other-nats-0")],
        "this Shop's JetStream store goes with its databases, another Shop's stays"
    );
    assert!(fake.get(&format!("{NS_CORE}/secrets/demo-notifications-db")).is_none());
}

#[tokio::test]
async fn an_smtp_login_comes_from_the_users_secret_and_its_rotation_rolls_notifications() {
    let smtp = json!({
        "host": "smtp.provider.example", "tls": "starttls", "credentialsSecret": "smtp-login",
        "caSecret": {"name": "mail-ca", "key": "ca.crt"},
    });
    let (ctx, fake) = setup(shop_json(json!({"notifications": {"smtp": smtp}})));
    fake.set_workloads_ready(true);

    reconcile(stored_shop(&fake), ctx.clone()).await.expect("without the Secret");
    let status = &fake.get(SHOP_PATH).expect("shop")["status"];
    assert_eq!(status["phase"], "Degraded");
    let services = condition(&fake, "ServicesReady");
    assert_eq!((services["status"].as_str(), services["reason"].as_str()), (Some("False"), Some("SecretMissing")));
    let message = services["message"].as_str().unwrap_or_default();
    assert!(message.contains("SMTP credentials Secret smtp-login not found"), "{message}");
    assert!(message.contains("SMTP CA Secret mail-ca not found"), "{message}");
    let ca = stored_secret("mail-ca", &[("ca.crt", "-----BEGIN CERTIFICATE-----")]);
    fake.insert(&format!("{NS_CORE}/secrets/mail-ca"), ca);

    let path = format!("{NS_CORE}/secrets/smtp-login");
    fake.insert(&path, stored_secret("smtp-login", &[("username", "shop")]));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("half a Secret");
    let message = condition(&fake, "ServicesReady")["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("Secret smtp-login has no key password"), "{message}");

    fake.insert(&path, stored_secret("smtp-login", &[("username", "shop"), ("password", "first")]));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("with the Secret");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Ready");
    let from_secret =
        |name: &str| env_of(&fake, "demo-notifications", name).expect(name)["valueFrom"]["secretKeyRef"].clone();
    assert_eq!(from_secret("SMTP_USERNAME"), json!({"name": "smtp-login", "key": "username", "optional": false}));
    assert_eq!(from_secret("SMTP_PASSWORD"), json!({"name": "smtp-login", "key": "password", "optional": false}));
    assert_eq!(env_of(&fake, "demo-notifications", "SMTP_TLS").expect("tls")["value"], "starttls");
    let hash = |fake: &FakeApiServer| {
        fake.get(&format!("{NS_APPS}/deployments/demo-notifications")).expect("notifications")["spec"]["template"]
            ["metadata"]["annotations"]["microshop.dev/config-hash"]
            .clone()
    };
    let before = hash(&fake);

    fake.insert(&path, stored_secret("smtp-login", &[("username", "shop"), ("password", "rotated")]));
    reconcile(stored_shop(&fake), ctx).await.expect("after the rotation");
    assert_ne!(hash(&fake), before, "a new password restarts notifications");
    assert!(
        fake.get(&path).expect("secret")["metadata"]["ownerReferences"].is_null(),
        "the user's Secret stays theirs"
    );
}

#[tokio::test]
async fn an_external_nats_url_in_a_secret_reaches_orders_and_notifications_and_is_checked() {
    let spec = json!({
        "events": {"mode": "external", "external": {"urlSecret": {"name": "nats-login", "key": "url"}}},
        "notifications": {"smtp": {"host": SMTP}},
    });
    let (ctx, fake) = setup(shop_json(spec));
    fake.set_workloads_ready(true);

    reconcile(stored_shop(&fake), ctx.clone()).await.expect("without the Secret");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Degraded");
    let message = condition(&fake, "ServicesReady")["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("NATS URL Secret nats-login not found"), "{message}");

    let path = format!("{NS_CORE}/secrets/nats-login");
    fake.insert(&path, stored_secret("nats-login", &[("url", "nats://orders:pw@nats.infra:4222")]));
    reconcile(stored_shop(&fake), ctx.clone()).await.expect("with the Secret");
    assert_eq!(fake.get(SHOP_PATH).expect("shop")["status"]["phase"], "Ready");
    for deployment in ["demo-orders", "demo-notifications"] {
        let nats = env_of(&fake, deployment, "NATS_URL").expect("NATS_URL");
        assert!(nats["value"].is_null(), "{deployment}: the login stays in the Secret");
        assert_eq!(nats["valueFrom"]["secretKeyRef"], json!({"name": "nats-login", "key": "url", "optional": false}));
    }
    assert!(
        fake.paths_under(&format!("{NS_APPS}/statefulsets")).iter().all(|p| !p.ends_with("demo-nats")),
        "no managed NATS"
    );
    let events = condition(&fake, "EventsReady");
    assert_eq!(events["message"], "publishing to the URL in Secret nats-login key url");
    let hash = |fake: &FakeApiServer| {
        fake.get(&format!("{NS_APPS}/deployments/demo-orders")).expect("orders")["spec"]["template"]["metadata"]
            ["annotations"]["microshop.dev/config-hash"]
            .clone()
    };
    let before = hash(&fake);
    fake.insert(&path, stored_secret("nats-login", &[("url", "nats://orders:rotated@nats.infra:4222")]));
    reconcile(stored_shop(&fake), ctx).await.expect("after the rotation");
    assert_ne!(hash(&fake), before, "a new URL restarts orders");
}
