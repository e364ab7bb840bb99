//! The CRD's CEL rules (`x-kubernetes-validations`), evaluated client-side with kube's CEL
//! validator, which applies schema defaults first as the API server does. Without this, a rule
//! that does not compile or says the opposite of what it means would only show on a cluster.

use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::Shop;

fn schema() -> Value {
    let crd = serde_json::to_value(Shop::crd()).expect("CRD serializes");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn shop(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "microshop.dev/v1alpha1", "kind": "Shop", "metadata": {"name": name}, "spec": spec})
}

fn errors(object: &Value, old: Option<&Value>) -> Vec<String> {
    match kube::core::cel::Validator::new().validate(&schema(), object, old) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_vec().into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn example_shops_pass_every_rule() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../k8s/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("k8s/examples exists").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("readable example");
        let example: Value = serde_saphyr::from_str(&text).expect("example is YAML");
        assert_eq!(errors(&example, None), Vec::<String>::new(), "{}", entry.path().display());
        checked += 1;
    }
    assert!(checked >= 2, "examples were found ({checked})");
}

#[test]
fn each_rule_rejects_what_it_should() {
    let node_ports = json!({"type": "NodePort", "nodePorts": {"products": 30080, "users": 30080}});
    let refs = json!({"name": "pg"});
    let cases = [
        ("name too long", shop(&"a".repeat(41), json!({})), "at most 40 characters"),
        ("name not a DNS label", shop("my.shop", json!({})), "must be a DNS label"),
        ("external without refs", shop("demo", json!({"database": {"mode": "external"}})), "database.external"),
        (
            "otlp and jaeger",
            shop("demo", json!({"tracing": {"otlpEndpoint": "http://c:4317", "jaeger": {"enabled": true}}})),
            "not both",
        ),
        ("same node ports", shop("demo", json!({"exposure": node_ports})), "node ports must differ"),
        (
            "notifications on another service's node port",
            shop("demo", json!({"exposure": {"type": "NodePort", "nodePorts": {"notifications": 30081}}})),
            "node ports must differ",
        ),
        ("external events without a url", shop("demo", json!({"events": {"mode": "external"}})), "events.external"),
        (
            "route without a gateway",
            shop("demo", json!({"exposure": {"httpRoute": {"enabled": true}}})),
            "must name at least one Gateway",
        ),
        (
            "replica reads without replicas",
            shop(
                "demo",
                json!({"database": {"mode": "cloudnativepg", "cloudnativepg": {"instances": 1, "productReadsFromReplicas": true}}}),
            ),
            "needs instances >= 2",
        ),
        (
            "memory request above limit",
            shop(
                "demo",
                json!({"services": {"users": {"resources": {"cpuRequest": "50m", "memoryRequest": "1Gi", "memoryLimit": "512Mi"}}}}),
            ),
            "memoryRequest must not exceed memoryLimit",
        ),
        (
            "cpu request above limit",
            shop(
                "demo",
                json!({"services": {"users": {"resources": {"cpuRequest": "2", "cpuLimit": "500m", "memoryRequest": "64Mi", "memoryLimit": "64Mi"}}}}),
            ),
            "cpuRequest must not exceed cpuLimit",
        ),
    ];
    for (what, object, expected) in cases {
        let found = errors(&object, None);
        assert!(found.iter().any(|e| e.contains(expected)), "{what}: expected {expected:?} in {found:?}");
    }
    let external = shop(
        "demo",
        json!({"database": {"mode": "external", "external": {"products": refs, "users": refs, "orders": refs, "payments": refs}}}),
    );
    assert_eq!(errors(&external, None), Vec::<String>::new(), "external with references is valid");
}

/// The schema of the events and notifications sections: the CEL validator checks rules only,
/// so the schema's own constraints are read from it here (the example Shops are validated
/// against the whole schema by `.ci/lib/shops_against_crd.py`).
#[test]
fn events_and_notifications_schema_requires_a_relay_host_and_a_nats_url() {
    let spec = &schema()["properties"]["spec"]["properties"];
    let smtp = &spec["notifications"]["properties"]["smtp"];
    assert_eq!(smtp["required"], json!(["host"]), "a relay needs a host; port and sender have defaults");
    let port = &smtp["properties"]["port"];
    assert_eq!((port["minimum"].as_f64(), port["maximum"].as_f64()), (Some(1.0), Some(65535.0)));
    assert!(smtp["properties"]["port"]["default"].is_null(), "the port follows tls unless set");
    assert_eq!(smtp["properties"]["tls"]["enum"], json!(["none", "starttls", "tls"]));
    assert_eq!(smtp["properties"]["tls"]["default"], "none");
    let login_in_clear =
        shop("demo", json!({"notifications": {"smtp": {"host": "mail", "credentialsSecret": "login"}}}));
    let refused = errors(&login_in_clear, None);
    assert!(refused.iter().any(|e| e.contains("credentialsSecret needs tls")), "{refused:?}");
    let ca_in_clear =
        shop("demo", json!({"notifications": {"smtp": {"host": "mail", "caSecret": {"name": "ca", "key": "ca.crt"}}}}));
    let refused = errors(&ca_in_clear, None);
    assert!(refused.iter().any(|e| e.contains("caSecret needs tls")), "{refused:?}");
    for tls in ["starttls", "tls"] {
        let login = shop(
            "demo",
            json!({"notifications": {"smtp": {"host": "mail", "tls": tls, "credentialsSecret": "login"}}}),
        );
        assert_eq!(errors(&login, None), Vec::<String>::new(), "{tls}");
    }
    let external = &spec["events"]["properties"]["external"];
    let pattern = external["properties"]["url"]["pattern"].as_str().expect("url pattern");
    assert!(pattern.starts_with("^(nats|tls)://"), "{pattern}");
    assert!(pattern.contains('@'), "a login does not go in the plain url: {pattern}");
    let events = |external: Value| shop("demo", json!({"events": {"mode": "external", "external": external}}));
    let both = events(json!({"url": "nats://a:4222", "urlSecret": {"name": "nats", "key": "url"}}));
    let neither = events(json!({}));
    for (what, refused) in [("both", both), ("neither", neither)] {
        let errors = errors(&refused, None);
        assert!(errors.iter().any(|e| e.contains("needs one of url and urlSecret")), "{what}: {errors:?}");
    }
    let in_secret = events(json!({"urlSecret": {"name": "nats-login"}}));
    assert_eq!(errors(&in_secret, None), Vec::<String>::new(), "the key defaults to uri");
    assert_eq!(spec["events"]["properties"]["mode"]["enum"], json!(["managed", "external"]));
    assert_eq!(
        spec["events"]["properties"]["managed"]["properties"]["image"]["default"],
        "docker.io/library/nats:2.10-alpine"
    );
    let good = shop(
        "demo",
        json!({
            "events": {"mode": "external", "external": {"url": "nats://a.infra:4222,tls://b.infra:4222"}},
            "notifications": {"smtp": {"host": "postfix.mail.svc", "from": "shop <orders@shop.example>"}},
        }),
    );
    assert_eq!(errors(&good, None), Vec::<String>::new());
}

#[test]
fn storage_settings_cannot_change_after_creation() {
    let old = shop("demo", json!({"database": {"managed": {"storageSize": "1Gi"}}}));
    let bigger = shop("demo", json!({"database": {"managed": {"storageSize": "2Gi"}}}));
    let classed = shop("demo", json!({"database": {"managed": {"storageSize": "1Gi", "storageClassName": "fast"}}}));
    let other = shop("demo", json!({"database": {"managed": {"storageSize": "1Gi", "deletionPolicy": "Delete"}}}));
    assert!(errors(&bigger, Some(&old)).iter().any(|e| e.contains("storageSize cannot change")));
    assert!(errors(&classed, Some(&old)).iter().any(|e| e.contains("storageClassName cannot change")));
    assert_eq!(errors(&other, Some(&old)), Vec::<String>::new(), "other managed settings may change");
    assert_eq!(errors(&bigger, None), Vec::<String>::new(), "any size is fine at creation");

    let old = shop("demo", json!({"events": {"managed": {"storageSize": "1Gi"}}}));
    let bigger = shop("demo", json!({"events": {"managed": {"storageSize": "2Gi"}}}));
    let classed = shop("demo", json!({"events": {"managed": {"storageSize": "1Gi", "storageClassName": "fast"}}}));
    assert!(errors(&bigger, Some(&old)).iter().any(|e| e.contains("storageSize cannot change")));
    assert!(errors(&classed, Some(&old)).iter().any(|e| e.contains("storageClassName cannot change")));
}
