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
    assert_eq!(count("/secrets/"), 7);
    assert_eq!(count("/statefulsets/"), 4);
    assert_eq!(count("/services/"), 8);
    assert_eq!(count("/deployments/"), 4);
    assert_eq!(status_patches(&requests).len(), 1);
    assert_eq!(event_reasons(&requests), ["SecretsCreated", "Created"]);

    let shop = fake.get(SHOP_PATH).expect("shop");
    assert_eq!(shop["status"]["phase"], "Pending");
    assert_eq!(shop["status"]["readyComponents"], "0/8");
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
            "app.kubernetes.io/instance": shop, "app.kubernetes.io/component": "database"}},
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
    fake.insert(
        &format!("{NS_CORE}/persistentvolumeclaims/data-other-users-db-0"),
        claim("data-other-users-db-0", "other"),
    );

    reconcile(stored_shop(&fake), ctx).await.expect("reconcile");

    let requests = fake.take_requests();
    assert_eq!(
        fake.paths_under(&format!("{NS_CORE}/persistentvolumeclaims")),
        [format!("{NS_CORE}/persistentvolumeclaims/data-other-users-db-0")]
    );
    assert!(fake.paths_under(&format!("{NS_CORE}/secrets")).is_empty(), "credentials deleted with the data");
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
    assert!(status_patches(&requests).is_empty());
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
    let spec = json!({"database": {"mode": "external", "external": {"products": refs, "users": refs, "orders": refs, "payments": {"name": "pg-payments"}}}});
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
