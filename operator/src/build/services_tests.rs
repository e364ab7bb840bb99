//! Unit tests of the service Deployments and Services against the deployment contract.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::*;
use crate::build::labels::CONFIG_HASH_ANNOTATION;
use crate::build::{
    SecretVersions,
    secrets::{SecretKind, keys_of, secret_plans},
    tests::{shop, valid},
    workloads,
};
use crate::crd::{DatabaseMode, ExternalDatabases, SecretKeyRef, Shop};

fn pod(d: &Deployment) -> &PodSpec {
    d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("pod spec")
}

fn container(d: &Deployment) -> &Container {
    &pod(d).containers[0]
}

fn env_map(c: &Container) -> BTreeMap<String, String> {
    c.env
        .iter()
        .flatten()
        .map(|e| {
            let from = e.value_from.as_ref();
            let shown = match (&e.value, from.and_then(|v| v.secret_key_ref.as_ref())) {
                (Some(v), _) => v.clone(),
                (None, Some(r)) => format!("secret:{}/{}", r.name, r.key),
                (None, None) => from
                    .and_then(|v| v.field_ref.as_ref())
                    .map(|f| format!("field:{}", f.field_path))
                    .unwrap_or_default(),
            };
            (e.name.clone(), shown)
        })
        .collect()
}

fn hash_of(d: &Deployment) -> String {
    d.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .expect("annotations")[CONFIG_HASH_ANNOTATION]
        .clone()
}

#[test]
fn every_service_gets_the_contracts_common_env() {
    let s = shop("demo");
    for service in Microservice::ALL {
        let env = env_map(container(&deployment(&s, service, &SecretVersions::new())));
        let name = service.name();
        assert_eq!(env["LISTEN_ADDR"], "0.0.0.0:8080", "{name}");
        assert_eq!(env["LOG_FORMAT"], "json", "{name}");
        assert_eq!(env["RUST_LOG"], "info", "{name}");
        assert_eq!(env["DATABASE_URL"], format!("secret:demo-{name}-db/uri"), "{name}");
        assert_eq!(env["JWT_PUBLIC_KEY"], "secret:demo-jwt/public.pem", "{name}");
        assert_eq!(env["OTEL_SERVICE_NAME"], name, "{name}");
        assert_eq!(env["OTEL_SDK_DISABLED"], "true", "{name}: no endpoint, no export");
    }
}

#[test]
fn service_specific_env_follows_the_contract() {
    let mut s = shop("demo");
    s.spec.payments.failure_rate = 0.25;
    s.spec.payments.simulated_latency_ms = 150;
    s.spec.auth.access_token_ttl_secs = 600;
    let versions = SecretVersions::new();
    let users = env_map(container(&deployment(&s, Microservice::Users, &versions)));
    assert_eq!(users["JWT_PRIVATE_KEY"], "secret:demo-jwt/private.pem");
    assert_eq!(users["SERVICE_CLIENTS"], "secret:demo-service-clients/service-clients");
    assert_eq!(users["BOOTSTRAP_ADMIN_EMAIL"], "admin@microshop.local");
    assert_eq!(users["BOOTSTRAP_ADMIN_PASSWORD"], "secret:demo-admin/password");
    assert_eq!(users["ACCESS_TOKEN_TTL_SECS"], "600");
    assert_eq!(users["SERVICE_TOKEN_TTL_SECS"], "300");
    assert_eq!(users["REFRESH_TOKEN_TTL_SECS"], "604800");

    let orders = env_map(container(&deployment(&s, Microservice::Orders, &versions)));
    assert_eq!(orders["PRODUCTS_URL"], "http://demo-products:8080");
    assert_eq!(orders["USERS_URL"], "http://demo-users:8080");
    assert_eq!(orders["PAYMENTS_URL"], "http://demo-payments:8080");
    assert_eq!(orders["SERVICE_CLIENT_ID"], "secret:demo-service-clients/orders-client-id");
    assert_eq!(orders["SERVICE_CLIENT_SECRET"], "secret:demo-service-clients/orders-client-secret");
    assert_eq!(orders["ORDER_TTL_SECS"], "900");
    assert!(!orders.contains_key("JWT_PRIVATE_KEY"), "only users holds the signing key");

    let payments = env_map(container(&deployment(&s, Microservice::Payments, &versions)));
    assert_eq!(payments["PAYMENTS_FAILURE_RATE"], "0.25");
    assert_eq!(payments["PAYMENTS_SIMULATED_LATENCY_MS"], "150");

    let storefront = env_map(container(&deployment(&s, Microservice::Storefront, &versions)));
    assert_eq!(storefront["SERVICE_CLIENT_SECRET"], "secret:demo-service-clients/storefront-client-secret");
    assert_eq!(storefront["TRUSTED_PROXY_HOPS"], "0", "no proxy in front: the peer is the shopper");
    s.spec.exposure.ingress.enabled = true;
    let behind_ingress = env_map(container(&deployment(&s, Microservice::Storefront, &versions)));
    assert_eq!(behind_ingress["TRUSTED_PROXY_HOPS"], "1", "the Ingress controller appends the shopper");
}

#[test]
fn every_secret_reference_names_a_key_the_secret_has() {
    for mode in [DatabaseMode::Managed, DatabaseMode::External] {
        let mut s = with_notifications(None);
        s.spec.database.mode = mode;
        let ext = |name: &str| SecretKeyRef { name: name.into(), key: "uri".into() };
        s.spec.database.external = Some(ExternalDatabases {
            products: ext("pg-products"),
            users: ext("pg-users"),
            orders: ext("pg-orders"),
            payments: ext("pg-payments"),
            storefront: Some(ext("pg-storefront")),
            notifications: Some(ext("pg-notifications")),
        });
        let mut available: BTreeSet<(String, String)> = BTreeSet::new();
        for plan in secret_plans(valid(&s)) {
            for key in keys_of(plan.kind) {
                available.insert((plan.name.clone(), key.to_string()));
            }
        }
        if mode == DatabaseMode::External {
            for service in Microservice::ALL {
                available.insert((format!("pg-{}", service.name()), "uri".into()));
            }
        }
        let built = workloads(valid(&s), &SecretVersions::new());
        let pods = built
            .deployments
            .iter()
            .filter_map(|d| d.spec.as_ref()?.template.spec.clone())
            .chain(built.statefulsets.iter().filter_map(|s| s.spec.as_ref()?.template.spec.clone()));
        let mut checked = 0;
        for pod in pods {
            for env in pod.containers.iter().flat_map(|c| c.env.iter().flatten()) {
                if let Some(r) = env.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()) {
                    checked += 1;
                    assert!(
                        available.contains(&(r.name.clone(), r.key.clone())),
                        "{mode:?}: {} -> {}/{}",
                        env.name,
                        r.name,
                        r.key
                    );
                }
            }
        }
        assert!(checked >= 14, "{mode:?}: references were checked ({checked})");
    }
    assert!(keys_of(SecretKind::Jwt).contains(&"public.pem"));
}

#[test]
fn probes_and_ports_follow_the_contract() {
    let s = shop("demo");
    for service in Microservice::ALL {
        let d = deployment(&s, service, &SecretVersions::new());
        let c = container(&d);
        let port = &c.ports.as_ref().expect("ports")[0];
        assert_eq!((port.name.as_deref(), port.container_port), (Some("http"), 8080));
        let path = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
            let get = p.as_ref().and_then(|p| p.http_get.as_ref()).expect("http probe");
            assert_eq!(get.port, IntOrString::String("http".into()));
            get.path.clone().expect("path")
        };
        assert_eq!(path(&c.liveness_probe), "/health/live");
        assert_eq!(path(&c.readiness_probe), "/health/ready");
        assert_eq!(c.image.as_deref(), Some(format!("ghcr.io/microshop/microshop-{}:0.1.0", service.name()).as_str()));

        let svc = super::service(&s, service);
        let spec = svc.spec.expect("service spec");
        let sp = &spec.ports.expect("ports")[0];
        assert_eq!((sp.port, sp.target_port.clone()), (8080, Some(IntOrString::String("http".into()))));
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
        assert_eq!(sp.node_port, None);
    }
}

#[test]
fn node_port_exposure_uses_the_fixed_ports() {
    let mut s = shop("demo");
    s.spec.exposure.type_ = ExposureType::NodePort;
    s.spec.exposure.node_ports.orders = 31000;
    let spec = super::service(&s, Microservice::Orders).spec.expect("spec");
    assert_eq!(spec.type_.as_deref(), Some("NodePort"));
    assert_eq!(spec.ports.expect("ports")[0].node_port, Some(31000));
}

#[test]
fn selectors_match_pod_labels_and_labels_are_standard() {
    let s = shop("demo");
    let built = workloads(valid(&s), &SecretVersions::new());
    for d in &built.deployments {
        let spec = d.spec.as_ref().expect("spec");
        let pod_labels = spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()).expect("labels");
        for (k, v) in spec.selector.match_labels.iter().flatten() {
            assert_eq!(pod_labels.get(k), Some(v), "{:?}: selector {k}", d.metadata.name);
        }
        for key in ["name", "instance", "component", "part-of", "managed-by", "version"] {
            assert!(pod_labels.contains_key(&format!("app.kubernetes.io/{key}")), "{:?} has {key}", d.metadata.name);
        }
    }
    for svc in &built.services {
        let selector = svc.spec.as_ref().and_then(|s| s.selector.clone()).expect("selector");
        let target = built
            .deployments
            .iter()
            .map(|d| d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.labels.clone()))
            .chain(
                built
                    .statefulsets
                    .iter()
                    .map(|s| s.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.labels.clone())),
            )
            .flatten()
            .filter(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
            .count();
        assert_eq!(target, 1, "{:?} selects exactly one workload", svc.metadata.name);
    }
}

#[test]
fn pods_run_with_the_restricted_security_context() {
    let mut s = with_notifications(None);
    s.spec.tracing.jaeger.enabled = true;
    let built = workloads(valid(&s), &SecretVersions::new());
    let pods = built
        .deployments
        .iter()
        .filter_map(|d| d.spec.as_ref()?.template.spec.clone())
        .chain(built.statefulsets.iter().filter_map(|s| s.spec.as_ref()?.template.spec.clone()));
    let mut count = 0;
    for pod in pods {
        count += 1;
        let psc = pod.security_context.as_ref().expect("pod security context");
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.seccomp_profile.as_ref().map(|p| p.type_.as_str()), Some("RuntimeDefault"));
        for c in pod.containers.iter().chain(pod.init_containers.iter().flatten()) {
            let sc = c.security_context.as_ref().expect("container security context");
            assert_eq!(sc.allow_privilege_escalation, Some(false), "{}", c.name);
            assert_eq!(sc.read_only_root_filesystem, Some(true), "{}", c.name);
            assert_eq!(
                sc.capabilities.as_ref().and_then(|c| c.drop.clone()),
                Some(vec!["ALL".to_string()]),
                "{}",
                c.name
            );
            let res = c.resources.as_ref().expect("resources");
            assert!(
                res.requests.as_ref().is_some_and(|r| r.contains_key("cpu") && r.contains_key("memory")),
                "{}",
                c.name
            );
            assert!(res.limits.as_ref().is_some_and(|l| l.contains_key("memory")), "{}", c.name);
        }
    }
    assert_eq!(count, 14, "6 services, 6 databases, NATS and Jaeger");
    let users = deployment(&s, Microservice::Users, &SecretVersions::new());
    assert_eq!(pod(&users).security_context.as_ref().and_then(|p| p.run_as_user), Some(65532));
}

#[test]
fn every_child_is_owned_by_the_shop() {
    let s = shop("demo");
    let built = workloads(valid(&s), &SecretVersions::new());
    let metas = built
        .deployments
        .iter()
        .map(|d| &d.metadata)
        .chain(built.statefulsets.iter().map(|s| &s.metadata))
        .chain(built.services.iter().map(|s| &s.metadata));
    for meta in metas {
        let owners = meta.owner_references.as_ref().expect("owner references");
        assert_eq!(owners.len(), 1);
        let owner = &owners[0];
        assert_eq!(
            (owner.kind.as_str(), owner.api_version.as_str(), owner.name.as_str()),
            ("Shop", "microshop.dev/v1alpha1", "demo")
        );
        assert_eq!(owner.uid, "0b9e2a34-0000-4000-8000-000000000001");
        assert_eq!(owner.controller, Some(true));
        assert_eq!(meta.namespace.as_deref(), Some("shops"));
    }
}

#[test]
fn config_hash_changes_with_config_and_secret_versions_only() {
    let s = shop("demo");
    let v1 = SecretVersions::from([("demo-jwt".to_string(), "100".to_string())]);
    let base = hash_of(&deployment(&s, Microservice::Orders, &v1));
    assert_eq!(base, hash_of(&deployment(&s, Microservice::Orders, &v1)), "deterministic");

    let v2 = SecretVersions::from([("demo-jwt".to_string(), "101".to_string())]);
    assert_ne!(base, hash_of(&deployment(&s, Microservice::Orders, &v2)), "secret version rolls the pods");

    let unrelated = SecretVersions::from([
        ("demo-jwt".to_string(), "100".to_string()),
        ("demo-admin".to_string(), "7".to_string()),
    ]);
    assert_eq!(
        base,
        hash_of(&deployment(&s, Microservice::Orders, &unrelated)),
        "orders does not read the admin Secret"
    );

    let mut changed = s.clone();
    changed.spec.orders.order_ttl_secs = 1200;
    assert_ne!(base, hash_of(&deployment(&changed, Microservice::Orders, &v1)), "config rolls the pods");
}

#[test]
fn tracing_env_points_at_jaeger_or_the_configured_endpoint() {
    let mut s = shop("demo");
    s.spec.tracing.jaeger.enabled = true;
    s.spec.tracing.sample_ratio = 0.5;
    let env = env_map(container(&deployment(&s, Microservice::Products, &SecretVersions::new())));
    assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://demo-jaeger:4317");
    assert_eq!(env["OTEL_EXPORTER_OTLP_PROTOCOL"], "grpc");
    assert_eq!(env["OTEL_TRACES_SAMPLER_ARG"], "0.5");
    assert!(!env.contains_key("OTEL_SDK_DISABLED"));

    s.spec.tracing.jaeger.enabled = false;
    s.spec.tracing.otlp_endpoint = Some("http://collector.monitoring:4317".into());
    let env = env_map(container(&deployment(&s, Microservice::Products, &SecretVersions::new())));
    assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://collector.monitoring:4317");
    assert!(!env.contains_key("OTEL_METRICS_EXPORTER"), "a collector takes metrics and logs too");
}

#[test]
fn telemetry_names_the_environment_and_the_pod_through_the_downward_api() {
    let mut s = shop("demo");
    s.spec.observability.environment = "staging".into();
    s.spec.tracing.jaeger.enabled = true;
    let d = deployment(&s, Microservice::Orders, &SecretVersions::new());
    let c = container(&d);
    let env = env_map(c);
    assert_eq!(env["K8S_POD_NAME"], "field:metadata.name");
    assert_eq!(env["K8S_NAMESPACE_NAME"], "field:metadata.namespace");
    assert_eq!(env["K8S_NODE_NAME"], "field:spec.nodeName");
    assert_eq!(
        env["OTEL_RESOURCE_ATTRIBUTES"],
        "service.namespace=demo,deployment.environment.name=staging,k8s.namespace.name=$(K8S_NAMESPACE_NAME),\
         k8s.pod.name=$(K8S_POD_NAME),k8s.node.name=$(K8S_NODE_NAME)"
    );
    // Kubernetes expands $(VAR) only from variables defined before it.
    let names: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
    let position = |name: &str| names.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    assert!(position("K8S_NODE_NAME") < position("OTEL_RESOURCE_ATTRIBUTES"), "{names:?}");
    // The shop's Jaeger keeps traces only.
    assert_eq!(env["OTEL_METRICS_EXPORTER"], "none");
    assert_eq!(env["OTEL_LOGS_EXPORTER"], "none");
    // Without tracing the resource is still set: /metrics carries it as target_info.
    s.spec.tracing.jaeger.enabled = false;
    let env = env_map(container(&deployment(&s, Microservice::Orders, &SecretVersions::new())));
    assert_eq!(env["OTEL_SDK_DISABLED"], "true");
    assert!(env["OTEL_RESOURCE_ATTRIBUTES"].contains("deployment.environment.name=staging"));
}

#[test]
fn database_tls_appends_sslmode_and_mounts_the_ca() {
    let mut s = shop("demo");
    s.spec.database.mode = DatabaseMode::CloudNativePg;
    let d = deployment(&s, Microservice::Orders, &SecretVersions::new());
    let env = env_map(container(&d));
    assert_eq!(env["DATABASE_URI"], "secret:demo-orders-db-app/uri");
    assert_eq!(env["DATABASE_URL"], "$(DATABASE_URI)?sslmode=verify-full&sslrootcert=/etc/microshop/db-ca/ca.crt");
    let names: Vec<&str> = container(&d).env.iter().flatten().map(|e| e.name.as_str()).collect();
    let (uri, url) = (names.iter().position(|n| *n == "DATABASE_URI"), names.iter().position(|n| *n == "DATABASE_URL"));
    assert!(uri < url, "a $(VAR) reference only sees variables defined before it");
    assert!(!env.contains_key("DATABASE_READ_HOST"), "reads use the primary unless asked");
    s.spec.database.cloudnativepg.product_reads_from_replicas = true;
    let reads = env_map(container(&deployment(&s, Microservice::Products, &SecretVersions::new())));
    assert_eq!(reads["DATABASE_READ_HOST"], "demo-products-db-ro", "same credentials and CA, the replicas' host");
    let volume = pod(&d).volumes.iter().flatten().find(|v| v.name == "db-ca").expect("CA volume");
    let secret = volume.secret.as_ref().expect("secret volume");
    assert_eq!(secret.secret_name.as_deref(), Some("demo-orders-db-ca"), "each cluster's own CA");

    let mut external = shop("demo");
    external.spec.database.mode = DatabaseMode::External;
    let r = |n: &str| SecretKeyRef { name: n.into(), key: "uri".into() };
    external.spec.database.external = Some(ExternalDatabases {
        products: r("pg"),
        users: r("pg"),
        orders: r("pg"),
        payments: r("pg"),
        storefront: Some(r("pg")),
        notifications: Some(r("pg")),
    });
    let plain = env_map(container(&deployment(&external, Microservice::Users, &SecretVersions::new())));
    assert_eq!(plain["DATABASE_URL"], "secret:pg/uri", "external without tls settings: the URI as it is");
    external.spec.database.tls.ssl_mode = Some(crate::crd::SslMode::Require);
    let required = env_map(container(&deployment(&external, Microservice::Users, &SecretVersions::new())));
    assert_eq!(required["DATABASE_URL"], "$(DATABASE_URI)?sslmode=require");
}

fn with_notifications(smtp_from: Option<&str>) -> Shop {
    let mut s = shop("demo");
    s.spec.notifications.smtp = Some(crate::crd::SmtpSpec {
        port: Some(2525),
        from: smtp_from.map(String::from),
        ..crate::crd::SmtpSpec::plain("postfix.mail.svc")
    });
    s
}

#[test]
fn notifications_gets_nats_smtp_users_and_its_client_secret() {
    let versions = SecretVersions::new();
    let s = with_notifications(Some("shop <orders@shop.example>"));
    let env = env_map(container(&deployment(&s, Microservice::Notifications, &versions)));
    assert_eq!(env["NATS_URL"], "nats://demo-nats:4222");
    assert_eq!(env["SMTP_HOST"], "postfix.mail.svc");
    assert_eq!(env["SMTP_PORT"], "2525");
    assert_eq!(env["MAIL_FROM"], "shop <orders@shop.example>");
    assert_eq!(env["USERS_URL"], "http://demo-users:8080");
    assert_eq!(env["SERVICE_CLIENT_SECRET"], "secret:demo-service-clients/notifications-client-secret");
    assert_eq!(env["DATABASE_URL"], "secret:demo-notifications-db/uri", "its own database");
    assert_eq!(env["JWT_PUBLIC_KEY"], "secret:demo-jwt/public.pem", "checks the admin tokens of /emails");
    assert_eq!(env["OTEL_SERVICE_NAME"], "notifications");
    assert!(!env.contains_key("SHOP_URL"), "no public address known: the service's default");
    assert!(!env.contains_key("FAULTS_FILE"));
    let orders = env_map(container(&deployment(&s, Microservice::Orders, &versions)));
    assert_eq!(orders["NATS_URL"], "nats://demo-nats:4222", "orders publishes where notifications reads");

    assert_eq!(env["SMTP_TLS"], "none");
    assert!(!env.contains_key("EMAIL_MAX_AGE_HOURS"), "the service's default, a day");
    let mut patient = with_notifications(None);
    patient.spec.notifications.email_max_age_hours = Some(72);
    let patient = env_map(container(&deployment(&patient, Microservice::Notifications, &versions)));
    assert_eq!(patient["EMAIL_MAX_AGE_HOURS"], "72");
    assert!(!env.contains_key("SMTP_USERNAME") && !env.contains_key("SMTP_PASSWORD"), "no login asked for");
    let mut submission = shop("demo");
    submission.spec.notifications.smtp = Some(crate::crd::SmtpSpec {
        tls: crate::crd::SmtpTls::StartTls,
        credentials_secret: Some("smtp-login".into()),
        ..crate::crd::SmtpSpec::plain("smtp.provider.example")
    });
    let login = env_map(container(&deployment(&submission, Microservice::Notifications, &versions)));
    assert_eq!(login["SMTP_TLS"], "starttls");
    assert!(!login.contains_key("SMTP_PORT"), "the service's usual port for starttls (587)");
    assert_eq!(login["SMTP_USERNAME"], "secret:smtp-login/username");
    assert_eq!(login["SMTP_PASSWORD"], "secret:smtp-login/password");
    assert!(!login.contains_key("SMTP_CA_FILE"), "the system's authorities only");

    // A relay signed by the company's own authority: its certificate mounted, the file named,
    // and a new certificate rolls the pods (the service reads it once, at start-up).
    let mut company = submission.clone();
    if let Some(smtp) = company.spec.notifications.smtp.as_mut() {
        smtp.ca_secret = Some(SecretKeyRef { name: "mail-ca".into(), key: "ca.crt".into() });
    }
    let with_ca = deployment(&company, Microservice::Notifications, &versions);
    assert_eq!(env_map(container(&with_ca))["SMTP_CA_FILE"], "/etc/microshop/smtp-ca/ca.crt");
    let pod = with_ca.spec.as_ref().and_then(|s| s.template.spec.clone()).expect("pod");
    let volume = pod.volumes.iter().flatten().find(|v| v.name == "smtp-ca").expect("smtp-ca volume");
    let source = volume.secret.as_ref().expect("from a Secret");
    assert_eq!(source.secret_name.as_deref(), Some("mail-ca"));
    assert_eq!(source.items.as_ref().map(|i| (i[0].key.as_str(), i[0].path.as_str())), Some(("ca.crt", "ca.crt")));
    let mounted = container(&with_ca).volume_mounts.clone().unwrap_or_default();
    assert!(mounted.iter().any(|m| m.name == "smtp-ca" && m.mount_path == "/etc/microshop/smtp-ca"));
    let hash = |versions: &SecretVersions| pod_hash(&pod, versions);
    let mut rotated = SecretVersions::new();
    rotated.insert("mail-ca".into(), "2".into());
    assert_ne!(hash(&versions), hash(&rotated), "a new CA certificate rolls notifications");
    let orders = deployment(&company, Microservice::Orders, &versions);
    let orders_pod = orders.spec.and_then(|s| s.template.spec).expect("pod");
    assert!(orders_pod.volumes.iter().flatten().all(|v| v.name != "smtp-ca"), "only notifications sends mail");

    let without_from =
        env_map(container(&deployment(&with_notifications(None), Microservice::Notifications, &versions)));
    assert!(!without_from.contains_key("MAIL_FROM"), "the service's default sender");

    let storefront = env_map(container(&deployment(&s, Microservice::Storefront, &versions)));
    assert_eq!(storefront["NOTIFICATIONS_URL"], "http://demo-notifications:8080", "the staff page of e-mails");
    let alone = env_map(container(&deployment(&shop("demo"), Microservice::Storefront, &versions)));
    assert!(!alone.contains_key("NOTIFICATIONS_URL"), "no notifications: the page says e-mails are not set up");
}

#[test]
fn without_notifications_orders_keeps_its_events_unless_an_external_nats_is_named() {
    let versions = SecretVersions::new();
    let mut s = shop("demo");
    let orders = env_map(container(&deployment(&s, Microservice::Orders, &versions)));
    assert!(!orders.contains_key("NATS_URL"), "no consumer: no managed NATS, events stay in the outbox");
    assert!(!Microservice::enabled(&s).contains(&Microservice::Notifications), "no SMTP relay: not deployed");

    s.spec.events.mode = crate::crd::EventsMode::External;
    s.spec.events.external = Some(crate::crd::ExternalNats::at("nats://nats.infra:4222"));
    let orders = env_map(container(&deployment(&s, Microservice::Orders, &versions)));
    assert_eq!(orders["NATS_URL"], "nats://nats.infra:4222", "someone else may read them");
    s.spec.notifications.smtp = with_notifications(None).spec.notifications.smtp;
    let notifications = env_map(container(&deployment(&s, Microservice::Notifications, &versions)));
    assert_eq!(notifications["NATS_URL"], "nats://nats.infra:4222");
    let built = workloads(valid(&s), &versions);
    assert!(built.statefulsets.iter().all(|sts| sts.metadata.name.as_deref() != Some("demo-nats")));
}

#[test]
fn shop_url_is_the_storefronts_public_address_when_the_shop_knows_one() {
    let versions = SecretVersions::new();
    let shop_url =
        |s: &Shop| env_map(container(&deployment(s, Microservice::Notifications, &versions))).get("SHOP_URL").cloned();
    let mut s = with_notifications(None);
    s.spec.exposure.ingress.enabled = true;
    assert_eq!(shop_url(&s), None, "an Ingress for every host names no address");
    s.spec.exposure.ingress.host = Some("shop.example.com".into());
    assert_eq!(shop_url(&s).as_deref(), Some("http://shop.example.com"));
    s.spec.exposure.ingress.tls_secret_name = Some("shop-tls".into());
    assert_eq!(shop_url(&s).as_deref(), Some("https://shop.example.com"));

    let mut routed = with_notifications(None);
    routed.spec.exposure.http_route.enabled = true;
    routed.spec.exposure.http_route.hostnames = vec!["www.example.org".into(), "example.org".into()];
    routed.spec.exposure.http_route.tls = true;
    assert_eq!(shop_url(&routed).as_deref(), Some("https://www.example.org"));
    routed.spec.storefront.enabled = false;
    assert_eq!(shop_url(&routed), None, "no storefront, no links to it");

    s.spec.notifications.shop_url = Some("https://shop.example.net/".into());
    assert_eq!(shop_url(&s).as_deref(), Some("https://shop.example.net/"), "the Shop's own setting wins");
}

#[test]
fn a_shop_with_notifications_runs_nats_and_a_sixth_service_with_its_database() {
    let s = with_notifications(None);
    let built = workloads(valid(&s), &SecretVersions::new());
    let names = |items: Vec<Option<String>>| items.into_iter().flatten().collect::<BTreeSet<String>>();
    let deployments = names(built.deployments.iter().map(|d| d.metadata.name.clone()).collect());
    assert!(deployments.contains("demo-notifications"), "{deployments:?}");
    assert_eq!(deployments.len(), 6);
    let statefulsets = names(built.statefulsets.iter().map(|d| d.metadata.name.clone()).collect());
    assert!(statefulsets.contains("demo-notifications-db") && statefulsets.contains("demo-nats"), "{statefulsets:?}");
    assert_eq!(statefulsets.len(), 7, "six databases and NATS");
    assert_eq!(built.services.len(), 13);
    let image = container(
        built.deployments.iter().find(|d| d.metadata.name.as_deref() == Some("demo-notifications")).expect("d"),
    )
    .image
    .clone();
    assert_eq!(image.as_deref(), Some("ghcr.io/microshop/microshop-notifications:0.1.0"));
}
