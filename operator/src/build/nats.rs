//! The NATS JetStream server of the order events: orders publishes to it (its outbox relay,
//! `NATS_URL`), notifications reads from it. In `events.mode: managed` the operator runs it
//! while notifications runs (nothing else reads the events, and without `NATS_URL` orders keeps
//! them in its outbox until a server appears): a one-replica StatefulSet running
//! `nats-server --jetstream` with its store on a claim from the template `data`, and the
//! headless Service that gives its pod a stable name. In `external` mode the services get the
//! user's URL and the operator runs nothing.

use k8s_openapi::{
    api::{
        apps::v1::{StatefulSet, StatefulSetSpec},
        core::v1::{Container, ContainerPort, EnvVar, HTTPGetAction, PodSpec, Probe, Service, VolumeMount},
    },
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{
    Microservice, SecretVersions,
    labels::{Component, child_meta},
    names,
    pod::{container_security, env_from_field, pod_security, pod_template, resources, selector},
    services::pod_hash,
};
use crate::crd::{EventsMode, Shop};

/// The client port (`NATS_URL`).
pub const CLIENT_PORT: i32 = 4222;
/// The monitoring port: `/healthz` for the probes.
pub const MONITOR_PORT: i32 = 8222;
/// uid/gid the server runs as. The image names no user; the server needs none, and `fsGroup`
/// makes the claim writable.
pub const NATS_UID: i64 = 1000;
/// Name of the claim template; the claim is `data-<shop>-nats-0`.
pub const DATA_VOLUME: &str = "data";
/// Where the claim is mounted: JetStream's store directory.
pub const STORE_DIR: &str = "/data";
const COMPONENT: Component = Component::Nats;

/// Whether the operator runs the NATS: `managed` mode while notifications runs.
pub fn managed(shop: &Shop) -> bool {
    shop.spec.events.mode == EventsMode::Managed && Microservice::Notifications.runs(shop)
}

/// `NATS_URL` of orders and notifications: the managed server's Service, the external URL (or
/// the Secret key holding it), or `None` when there is no server (managed mode without
/// notifications: orders then keeps its events in the outbox).
pub fn url_env(shop: &Shop) -> Option<EnvVar> {
    match shop.spec.events.mode {
        EventsMode::External => {
            let external = shop.spec.events.external.as_ref()?;
            match (&external.url, &external.url_secret) {
                (Some(url), _) => Some(super::pod::env("NATS_URL", url.clone())),
                (None, Some(secret)) => Some(super::pod::env_from_secret("NATS_URL", &secret.name, &secret.key)),
                (None, None) => None,
            }
        }
        EventsMode::Managed => {
            managed(shop).then(|| super::pod::env("NATS_URL", format!("nats://{}:{CLIENT_PORT}", names::nats(shop))))
        }
    }
}

fn health_probe(query: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(format!("/healthz?{query}")),
            port: IntOrString::String("monitor".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: number,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

/// The NATS StatefulSet: one pod, JetStream on the claim, named after the pod so the server's
/// identity survives restarts.
pub fn statefulset(shop: &Shop) -> StatefulSet {
    let managed = &shop.spec.events.managed;
    let data_mount = VolumeMount { name: DATA_VOLUME.into(), mount_path: STORE_DIR.into(), ..VolumeMount::default() };
    let args = [
        "--name",
        "$(POD_NAME)",
        "--port",
        &CLIENT_PORT.to_string(),
        "--http_port",
        &MONITOR_PORT.to_string(),
        "--jetstream",
        "--store_dir",
        STORE_DIR,
    ]
    .map(String::from);
    let container = Container {
        name: "nats".into(),
        image: Some(managed.image.clone()),
        command: Some(vec!["nats-server".into()]),
        args: Some(args.to_vec()),
        env: Some(vec![env_from_field("POD_NAME", "metadata.name")]),
        ports: Some(vec![port("client", CLIENT_PORT), port("monitor", MONITOR_PORT)]),
        resources: Some(resources(&managed.resources)),
        // Ready once the server accepts clients; alive while JetStream is up.
        readiness_probe: Some(health_probe("js-server-only=true", 5, 3)),
        liveness_probe: Some(Probe { initial_delay_seconds: Some(10), ..health_probe("js-enabled-only=true", 10, 6) }),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![data_mount]),
        ..Container::default()
    };
    let claim = super::pod::claim_template(
        shop,
        COMPONENT,
        DATA_VOLUME,
        managed.storage_class_name.clone(),
        &managed.storage_size,
    );
    let pod = PodSpec {
        containers: vec![container],
        security_context: Some(pod_security(NATS_UID)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        ..PodSpec::default()
    };
    let hash = pod_hash(&pod, &SecretVersions::new());
    StatefulSet {
        metadata: child_meta(shop, names::nats(shop), COMPONENT),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(names::nats(shop)),
            selector: selector(shop, COMPONENT),
            template: pod_template(shop, COMPONENT, pod, hash),
            volume_claim_templates: Some(vec![claim]),
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

/// The headless Service of the NATS: `<shop>-nats` resolves to its pod.
pub fn headless_service(shop: &Shop) -> Service {
    super::pod::headless_service(shop, names::nats(shop), COMPONENT, "client", CLIENT_PORT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;
    use crate::crd::{ExternalNats, SecretKeyRef, SmtpSpec};

    fn with_smtp(name: &str) -> Shop {
        let mut s = shop(name);
        s.spec.notifications.smtp = Some(SmtpSpec::plain("mail.example.com"));
        s
    }

    /// `NATS_URL` as a value, or `secret:<name>/<key>` when it comes from a Secret.
    fn shown(env: Option<EnvVar>) -> Option<String> {
        let env = env?;
        let secret = env.value_from.and_then(|v| v.secret_key_ref).map(|r| format!("secret:{}/{}", r.name, r.key));
        env.value.or(secret)
    }

    #[test]
    fn the_managed_server_runs_only_for_notifications_and_an_external_url_always_reaches_orders() {
        let in_secret = |mut s: Shop| {
            s.spec.events.mode = EventsMode::External;
            let secret = SecretKeyRef { name: "nats-login".into(), key: "url".into() };
            s.spec.events.external = Some(ExternalNats { url: None, url_secret: Some(secret) });
            s
        };
        let cases = [
            ("managed without notifications", shop("demo"), false, None),
            ("managed with notifications", with_smtp("demo"), true, Some("nats://demo-nats:4222")),
            ("external without notifications", external(shop("demo")), false, Some("nats://nats.infra:4222")),
            ("external with notifications", external(with_smtp("demo")), false, Some("nats://nats.infra:4222")),
            ("external URL in a Secret", in_secret(with_smtp("demo")), false, Some("secret:nats-login/url")),
        ];
        for (what, s, runs, expected) in cases {
            assert_eq!(managed(&s), runs, "{what}");
            assert_eq!(shown(url_env(&s)).as_deref(), expected, "{what}");
        }
    }

    fn external(mut s: Shop) -> Shop {
        s.spec.events.mode = EventsMode::External;
        s.spec.events.external = Some(ExternalNats::at("nats://nats.infra:4222"));
        s
    }

    #[test]
    fn statefulset_runs_jetstream_on_its_claim() {
        let mut s = with_smtp("demo");
        s.spec.events.managed.storage_size = "3Gi".into();
        s.spec.events.managed.storage_class_name = Some("fast".into());
        s.spec.events.managed.image = "registry.local/nats:2.11-alpine".into();
        let sts = statefulset(&s);
        assert_eq!(sts.metadata.name.as_deref(), Some("demo-nats"));
        let spec = sts.spec.expect("spec");
        assert_eq!((spec.replicas, spec.service_name.as_deref()), (Some(1), Some("demo-nats")));
        let claim = &spec.volume_claim_templates.expect("claims")[0];
        let claim_spec = claim.spec.as_ref().expect("claim spec");
        assert_eq!(claim_spec.storage_class_name.as_deref(), Some("fast"));
        let requests = claim_spec.resources.as_ref().and_then(|r| r.requests.as_ref()).expect("requests");
        assert_eq!(requests["storage"].0, "3Gi");
        let labels = claim.metadata.labels.as_ref().expect("claim labels");
        assert_eq!(labels["app.kubernetes.io/component"], "events", "not a database claim");
        assert!(!labels.contains_key("app.kubernetes.io/version"), "claim templates are immutable");

        let pod = spec.template.spec.expect("pod");
        let c = &pod.containers[0];
        assert_eq!(c.image.as_deref(), Some("registry.local/nats:2.11-alpine"));
        let args = c.args.clone().expect("args").join(" ");
        assert_eq!(args, "--name $(POD_NAME) --port 4222 --http_port 8222 --jetstream --store_dir /data");
        let mounts = c.volume_mounts.as_ref().expect("mounts");
        assert_eq!((mounts[0].name.as_str(), mounts[0].mount_path.as_str()), ("data", "/data"));
        let path = |p: &Option<Probe>| p.as_ref().and_then(|p| p.http_get.as_ref()).and_then(|g| g.path.clone());
        assert_eq!(path(&c.readiness_probe).as_deref(), Some("/healthz?js-server-only=true"));
        assert_eq!(path(&c.liveness_probe).as_deref(), Some("/healthz?js-enabled-only=true"));
        let security = pod.security_context.as_ref().expect("pod security");
        assert_eq!(
            (security.run_as_user, security.fs_group),
            (Some(NATS_UID), Some(NATS_UID)),
            "the claim is writable"
        );
    }

    #[test]
    fn the_headless_service_selects_the_pod_on_the_client_port() {
        let s = with_smtp("demo");
        let svc = headless_service(&s);
        let spec = svc.spec.expect("spec");
        assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
        assert_eq!(spec.ports.expect("ports")[0].port, 4222);
        let pod_labels = statefulset(&s).spec.and_then(|s| s.template.metadata).and_then(|m| m.labels).expect("labels");
        assert!(spec.selector.expect("selector").iter().all(|(k, v)| pod_labels.get(k) == Some(v)));
    }
}
