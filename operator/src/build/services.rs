//! Deployment and Service of each microshop service, wired as `docs/deployment-contract.md` says.

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{
            ConfigMapVolumeSource, Container, ContainerPort, EnvVar, HTTPGetAction, KeyToPath, PodSpec, Probe,
            SecretVolumeSource, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
        },
    },
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{
    HTTP_PORT, Microservice, SecretVersions, config_maps, database,
    labels::{Component, child_meta, config_hash, selector_labels},
    names,
    pod::{container_security, deployment_of, env, env_from_field, env_from_secret, pod_security, resources, scratch},
    secrets,
};
use crate::crd::{ExposureType, Shop};

/// uid/gid of the service images (deployment contract).
pub const SERVICE_UID: i64 = 65532;
/// Liveness probe path (deployment contract).
pub const LIVE_PATH: &str = "/health/live";
/// Readiness probe path (deployment contract).
pub const READY_PATH: &str = "/health/ready";

/// The image of a service: `<registry>/microshop-<service>:<tag>`.
pub fn image(shop: &Shop, service: Microservice) -> String {
    let image = &shop.spec.image;
    format!("{}/microshop-{}:{}", image.registry.trim_end_matches('/'), service.name(), image.tag)
}

/// The OTLP endpoint the services export to, if tracing is on.
pub fn otlp_endpoint(shop: &Shop) -> Option<String> {
    let tracing = &shop.spec.tracing;
    if tracing.jaeger.enabled { Some(super::jaeger::otlp_endpoint(shop)) } else { tracing.otlp_endpoint.clone() }
}

/// Environment of a service: common settings, then its own.
pub fn env_vars(shop: &Shop, service: Microservice) -> Vec<EnvVar> {
    let spec = service.spec(shop);
    let mut vars = vec![
        env("LISTEN_ADDR", format!("0.0.0.0:{HTTP_PORT}")),
        env("LOG_FORMAT", "json"),
        env("RUST_LOG", spec.log_level.clone()),
        env_from_secret("JWT_PUBLIC_KEY", &names::jwt_secret(shop), secrets::JWT_PUBLIC),
    ];
    if let Some(uri) = service.database_uri(shop) {
        match database::of(shop).tls(shop, service) {
            None => vars.push(env_from_secret("DATABASE_URL", &uri.name, &uri.key)),
            Some((mode, ca)) => {
                // Kubernetes expands `$(VAR)` from variables defined before it in the same list.
                vars.push(env_from_secret("DATABASE_URI", &uri.name, &uri.key));
                let mut url = format!("$(DATABASE_URI)?sslmode={}", mode.as_str());
                if ca.is_some() {
                    url.push_str(&format!("&sslrootcert={DB_CA_DIR}/{DB_CA_FILE}"));
                }
                vars.push(env("DATABASE_URL", url));
            }
        }
    }
    if let Some(host) = database::of(shop).read_host(shop, service) {
        vars.push(env("DATABASE_READ_HOST", host));
    }
    vars.extend(otel_env(shop, service.name()));
    match service {
        Microservice::Users => {
            let auth = &shop.spec.auth;
            vars.extend([
                env_from_secret("JWT_PRIVATE_KEY", &names::jwt_secret(shop), secrets::JWT_PRIVATE),
                env("ACCESS_TOKEN_TTL_SECS", auth.access_token_ttl_secs.to_string()),
                env("SERVICE_TOKEN_TTL_SECS", auth.service_token_ttl_secs.to_string()),
                env("REFRESH_TOKEN_TTL_SECS", auth.refresh_token_ttl_secs.to_string()),
                env_from_secret("SERVICE_CLIENTS", &names::clients_secret(shop), secrets::SERVICE_CLIENTS),
                env("BOOTSTRAP_ADMIN_EMAIL", auth.bootstrap_admin_email.clone()),
                env_from_secret("BOOTSTRAP_ADMIN_PASSWORD", &names::admin_secret(shop), secrets::ADMIN_PASSWORD),
            ]);
        }
        Microservice::Orders => {
            let url = |s| url(shop, s);
            vars.extend([
                env("PRODUCTS_URL", url(Microservice::Products)),
                env("USERS_URL", url(Microservice::Users)),
                env("PAYMENTS_URL", url(Microservice::Payments)),
                env_from_secret("SERVICE_CLIENT_ID", &names::clients_secret(shop), secrets::ORDERS_CLIENT_ID),
                env_from_secret("SERVICE_CLIENT_SECRET", &names::clients_secret(shop), secrets::ORDERS_CLIENT_SECRET),
                env("ORDER_TTL_SECS", shop.spec.orders.order_ttl_secs.to_string()),
            ]);
            // Without a server the outbox relay stays off and the events wait in the outbox.
            vars.extend(super::nats::url_env(shop));
        }
        Microservice::Payments => {
            let payments = &shop.spec.payments;
            vars.extend([
                env("PAYMENTS_SIMULATED_LATENCY_MS", payments.simulated_latency_ms.to_string()),
                env("PAYMENTS_FAILURE_RATE", payments.failure_rate.to_string()),
            ]);
        }
        Microservice::Storefront => {
            let url = |s| url(shop, s);
            vars.extend([
                env("PRODUCTS_URL", url(Microservice::Products)),
                env("USERS_URL", url(Microservice::Users)),
                env("ORDERS_URL", url(Microservice::Orders)),
                env(
                    "STOREFRONT_SECURE_COOKIES",
                    (shop.spec.storefront.secure_cookies || super::ingress::serves_tls(shop)).to_string(),
                ),
                env_from_secret(
                    "SERVICE_CLIENT_SECRET",
                    &names::clients_secret(shop),
                    secrets::STOREFRONT_CLIENT_SECRET,
                ),
                env("TRUSTED_PROXY_HOPS", super::ingress::proxy_hops(shop).to_string()),
            ]);
            // Its staff page of the e-mails sent; unset, the page says e-mails are not set up.
            if Microservice::Notifications.runs(shop) {
                vars.push(env("NOTIFICATIONS_URL", url(Microservice::Notifications)));
            }
        }
        Microservice::Notifications => {
            let notifications = &shop.spec.notifications;
            vars.extend(super::nats::url_env(shop));
            if let Some(smtp) = &notifications.smtp {
                vars.extend([env("SMTP_HOST", smtp.host.clone()), env("SMTP_TLS", smtp.tls.as_str().to_owned())]);
                vars.extend(smtp.port.map(|port| env("SMTP_PORT", port.to_string())));
                if let Some(secret) = &smtp.credentials_secret {
                    vars.extend([
                        env_from_secret("SMTP_USERNAME", secret, crate::crd::SMTP_USERNAME_KEY),
                        env_from_secret("SMTP_PASSWORD", secret, crate::crd::SMTP_PASSWORD_KEY),
                    ]);
                }
                if smtp.ca_secret.is_some() {
                    vars.push(env("SMTP_CA_FILE", format!("{SMTP_CA_DIR}/{SMTP_CA_FILE}")));
                }
                vars.extend(smtp.from.clone().map(|from| env("MAIL_FROM", from)));
            }
            vars.extend([
                env("USERS_URL", url(shop, Microservice::Users)),
                env_from_secret(
                    "SERVICE_CLIENT_SECRET",
                    &names::clients_secret(shop),
                    secrets::NOTIFICATIONS_CLIENT_SECRET,
                ),
            ]);
            vars.extend(notifications.email_max_age_hours.map(|hours| env("EMAIL_MAX_AGE_HOURS", hours.to_string())));
            let shop_url = notifications.shop_url.clone().or_else(|| super::ingress::public_url(shop));
            vars.extend(shop_url.map(|shop_url| env("SHOP_URL", shop_url)));
        }
        Microservice::Products => {}
    }
    if service.reads_faults() {
        vars.push(env("FAULTS_FILE", format!("{}/{}", config_maps::FAULTS_DIR, config_maps::FAULTS_KEY)));
    }
    vars
}

/// Where a database CA certificate is mounted, and its file name.
pub const DB_CA_DIR: &str = "/etc/microshop/db-ca";
pub const DB_CA_FILE: &str = "ca.crt";

/// Where the SMTP relay's CA certificate is mounted (`SMTP_CA_FILE`).
pub const SMTP_CA_DIR: &str = "/etc/microshop/smtp-ca";
pub const SMTP_CA_FILE: &str = "ca.crt";

/// The CA Secret of a service's database as a volume, when TLS verification needs one.
fn database_ca_volume(shop: &Shop, service: Microservice) -> Option<(Volume, VolumeMount)> {
    let (_, ca) = database::of(shop).tls(shop, service)?;
    Some(ca_volume("db-ca", DB_CA_DIR, DB_CA_FILE, ca?))
}

/// The SMTP relay's CA Secret as a volume, for notifications when the Shop names one.
fn smtp_ca_volume(shop: &Shop, service: Microservice) -> Option<(Volume, VolumeMount)> {
    if service != Microservice::Notifications {
        return None;
    }
    let ca = shop.spec.notifications.smtp.as_ref()?.ca_secret.clone()?;
    Some(ca_volume("smtp-ca", SMTP_CA_DIR, SMTP_CA_FILE, ca))
}

/// One key of a Secret (a CA certificate) as the file `dir/file`, read-only.
fn ca_volume(name: &str, dir: &str, file: &str, ca: crate::crd::SecretKeyRef) -> (Volume, VolumeMount) {
    let volume = Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(ca.name),
            items: Some(vec![KeyToPath { key: ca.key, path: file.into(), mode: None }]),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    let mount =
        VolumeMount { name: name.into(), mount_path: dir.into(), read_only: Some(true), ..VolumeMount::default() };
    (volume, mount)
}

/// The `<shop>-faults` ConfigMap as a directory volume: no `subPath`, so the kubelet refreshes
/// the file in the running pod when the Shop's faults change.
fn faults_volume(shop: &Shop) -> (Volume, VolumeMount) {
    let volume = Volume {
        name: "faults".into(),
        config_map: Some(ConfigMapVolumeSource { name: names::faults(shop), ..ConfigMapVolumeSource::default() }),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name: "faults".into(),
        mount_path: config_maps::FAULTS_DIR.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    (volume, mount)
}

/// Standard OpenTelemetry variables; with no endpoint the SDK is switched off explicitly (the
/// metrics stay on `/metrics`). The resource names the environment and, through the downward
/// API, the pod, its namespace and node: Kubernetes expands `$(K8S_POD_NAME)` in
/// `OTEL_RESOURCE_ATTRIBUTES` from the variables defined before it. When the endpoint is the
/// shop's own Jaeger, which keeps traces only, metrics and logs do not go over OTLP.
pub fn otel_env(shop: &Shop, service_name: &str) -> Vec<EnvVar> {
    let tracing = &shop.spec.tracing;
    let mut vars = vec![
        env("OTEL_SERVICE_NAME", service_name),
        env_from_field("K8S_NAMESPACE_NAME", "metadata.namespace"),
        env_from_field("K8S_POD_NAME", "metadata.name"),
        env_from_field("K8S_NODE_NAME", "spec.nodeName"),
        env("OTEL_RESOURCE_ATTRIBUTES", resource_attributes(shop)),
    ];
    match otlp_endpoint(shop) {
        Some(endpoint) => {
            vars.extend([
                env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                env("OTEL_EXPORTER_OTLP_PROTOCOL", tracing.protocol.as_str()),
                env("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                env("OTEL_TRACES_SAMPLER_ARG", tracing.sample_ratio.to_string()),
            ]);
            if tracing.jaeger.enabled {
                vars.extend([env("OTEL_METRICS_EXPORTER", "none"), env("OTEL_LOGS_EXPORTER", "none")]);
            }
        }
        None => vars.push(env("OTEL_SDK_DISABLED", "true")),
    }
    vars
}

/// `OTEL_RESOURCE_ATTRIBUTES`: the shop as `service.namespace`, its environment, and the
/// Kubernetes names from the downward-API variables of [`otel_env`].
pub fn resource_attributes(shop: &Shop) -> String {
    format!(
        "service.namespace={},deployment.environment.name={},k8s.namespace.name=$(K8S_NAMESPACE_NAME),\
         k8s.pod.name=$(K8S_POD_NAME),k8s.node.name=$(K8S_NODE_NAME)",
        kube::ResourceExt::name_any(shop),
        shop.spec.observability.environment
    )
}

fn http_probe(path: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(2),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// The Deployment of a service. Its pod template carries a hash of the container config and of
/// the versions of the Secrets it reads, so rotating a Secret rolls the pods.
pub fn deployment(shop: &Shop, service: Microservice, versions: &SecretVersions) -> Deployment {
    let component = Component::Service(service);
    let spec = service.spec(shop);
    let (tmp_volume, tmp_mount) = scratch("tmp", "/tmp");
    let (mut volumes, mut mounts) = (vec![tmp_volume], vec![tmp_mount]);
    if service.reads_faults() {
        let (volume, mount) = faults_volume(shop);
        volumes.push(volume);
        mounts.push(mount);
    }
    for (volume, mount) in database_ca_volume(shop, service).into_iter().chain(smtp_ca_volume(shop, service)) {
        volumes.push(volume);
        mounts.push(mount);
    }
    let container = Container {
        name: service.name().into(),
        image: Some(image(shop, service)),
        image_pull_policy: Some(shop.spec.image.pull_policy.as_str().into()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: HTTP_PORT,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(env_vars(shop, service)),
        resources: Some(resources(&spec.resources)),
        liveness_probe: Some(http_probe(LIVE_PATH, 10, 3)),
        readiness_probe: Some(http_probe(READY_PATH, 5, 2)),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let pod = PodSpec {
        containers: vec![container],
        volumes: Some(volumes),
        security_context: Some(pod_security(SERVICE_UID)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        // The contract promises a graceful stop within 10 s; leave headroom before SIGKILL.
        termination_grace_period_seconds: Some(20),
        ..PodSpec::default()
    };
    let hash = pod_hash(&pod, versions);
    let replicas = (!shop.spec.autoscaling.enabled).then_some(spec.replicas);
    deployment_of(shop, names::service(shop, service), component, replicas, pod, hash)
}

/// The in-cluster URL of a service.
pub fn url(shop: &Shop, service: Microservice) -> String {
    format!("http://{}:{HTTP_PORT}", names::service(shop, service))
}

/// Hash of a pod spec and of the versions of every Secret its containers reference, in their
/// environment or as a volume (a CA read once at start-up).
pub fn pod_hash(pod: &PodSpec, versions: &SecretVersions) -> String {
    let pod_json = serde_json::to_string(pod).unwrap_or_default();
    let mounted = pod.volumes.iter().flatten().filter_map(|v| v.secret.as_ref()?.secret_name.as_deref());
    let mut referenced: Vec<&str> = pod
        .containers
        .iter()
        .flat_map(|c| c.env.iter().flatten())
        .filter_map(|e| e.value_from.as_ref()?.secret_key_ref.as_ref().map(|r| r.name.as_str()))
        .chain(mounted)
        .collect();
    referenced.sort_unstable();
    referenced.dedup();
    let mut parts = vec![pod_json.as_str()];
    for name in referenced {
        parts.push(name);
        parts.push(versions.get(name).map(String::as_str).unwrap_or("absent"));
    }
    config_hash(parts)
}

/// The Service of a service: ClusterIP, or NodePort on the Shop's fixed port.
pub fn service(shop: &Shop, service: Microservice) -> Service {
    let component = Component::Service(service);
    let node_port = shop.spec.exposure.type_ == ExposureType::NodePort;
    Service {
        metadata: child_meta(shop, names::service(shop, service), component),
        spec: Some(ServiceSpec {
            type_: Some(if node_port { "NodePort" } else { "ClusterIP" }.into()),
            selector: Some(selector_labels(shop, component)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: HTTP_PORT,
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                node_port: node_port.then(|| service.node_port(shop)),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
