//! The optional Jaeger v2 (`jaegertracing/jaeger` 2.x, built on the OpenTelemetry collector):
//! OTLP gRPC and HTTP receivers, in-memory storage and the UI, configured by the
//! `<shop>-jaeger` ConfigMap. Jaeger v1 (all-in-one 1.x) is end-of-life.

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{
            ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, HTTPGetAction, PodSpec, Probe, Service,
            ServicePort, ServiceSpec, Volume, VolumeMount,
        },
    },
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{
    labels::{Component, child_meta, config_hash, selector_labels},
    names,
    pod::{container_security, deployment_of, pod_security, resources, scratch},
};
use crate::crd::{ExposureType, OtlpProtocol, Resources, Shop};

const COMPONENT: Component = Component::Jaeger;
/// uid of the Jaeger images.
const JAEGER_UID: i64 = 10001;
pub const OTLP_GRPC_PORT: i32 = 4317;
pub const OTLP_HTTP_PORT: i32 = 4318;
pub const UI_PORT: i32 = 16686;
/// The `healthcheckv2` extension's port; `/status` answers 200 once the pipeline runs.
pub const HEALTH_PORT: i32 = 13133;
/// The span metrics (the spanmetrics connector's Prometheus exporter), named `spanmetrics`.
pub const SPANMETRICS_PORT: i32 = 8889;
/// The name of that port, which the Prometheus monitors select.
pub const SPANMETRICS_PORT_NAME: &str = "spanmetrics";
/// Where the configuration is mounted, and its key in the ConfigMap.
const CONFIG_DIR: &str = "/etc/jaeger";
pub const CONFIG_KEY: &str = "config.yaml";

/// Jaeger v2's configuration: OTLP receivers on 4317/4318, memory storage (bounded), the query
/// UI on 16686 and the health check on 13133, every endpoint on all interfaces (the image's
/// defaults listen on localhost only). The same pipeline as docker compose's
/// `deploy/jaeger/config.yaml` (a test compares them).
pub const CONFIG: &str = r#"service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter, spanmetrics]
    metrics/spanmetrics:
      receivers: [spanmetrics]
      exporters: [prometheus]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 0.0.0.0
                port: 8888
    logs:
      level: info

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 0.0.0.0:13133
  jaeger_query:
    storage:
      traces: memstore
      metrics: prometheus
    http:
      endpoint: 0.0.0.0:16686
    grpc:
      endpoint: 0.0.0.0:16685
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 50000
    metric_backends:
      prometheus:
        prometheus:
          endpoint: ${env:PROMETHEUS_URL:-http://prometheus:9090}
          normalize_calls: true
          normalize_duration: true

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318

processors:
  batch:

connectors:
  spanmetrics: {}

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
  prometheus:
    endpoint: 0.0.0.0:8889
"#;

/// The ConfigMap holding [`CONFIG`].
pub fn config_map(shop: &Shop) -> ConfigMap {
    ConfigMap {
        metadata: child_meta(shop, names::jaeger(shop), COMPONENT),
        data: Some([(CONFIG_KEY.to_string(), CONFIG.to_string())].into()),
        ..ConfigMap::default()
    }
}

/// The in-cluster OTLP endpoint of the shop's Jaeger for the configured protocol.
pub fn otlp_endpoint(shop: &Shop) -> String {
    let port = match shop.spec.tracing.protocol {
        OtlpProtocol::Grpc => OTLP_GRPC_PORT,
        OtlpProtocol::HttpProtobuf => OTLP_HTTP_PORT,
    };
    format!("http://{}:{port}", names::jaeger(shop))
}

fn port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: port,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

/// The Jaeger Deployment.
pub fn deployment(shop: &Shop) -> Deployment {
    let (tmp_volume, tmp_mount) = scratch("tmp", "/tmp");
    let config_volume = Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource { name: names::jaeger(shop), ..ConfigMapVolumeSource::default() }),
        ..Volume::default()
    };
    let config_mount = VolumeMount {
        name: "config".into(),
        mount_path: CONFIG_DIR.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    let probe = |period| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/status".into()),
            port: IntOrString::String("health".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        ..Probe::default()
    };
    let container = Container {
        name: COMPONENT.name(),
        image: Some(shop.spec.tracing.jaeger.image.clone()),
        ports: Some(vec![
            port("otlp-grpc", OTLP_GRPC_PORT),
            port("otlp-http", OTLP_HTTP_PORT),
            port("ui", UI_PORT),
            port("health", HEALTH_PORT),
            port(SPANMETRICS_PORT_NAME, SPANMETRICS_PORT),
        ]),
        args: Some(vec![format!("--config={CONFIG_DIR}/{CONFIG_KEY}")]),
        // The Prometheus the Monitor tab queries (the config's default names a `prometheus` host).
        env: shop
            .spec
            .observability
            .prometheus
            .url
            .as_ref()
            .map(|url| vec![super::pod::env("PROMETHEUS_URL", url.clone())]),
        resources: Some(resources(&Resources::jaeger())),
        readiness_probe: Some(probe(5)),
        liveness_probe: Some(probe(15)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![tmp_mount, config_mount]),
        ..Container::default()
    };
    // Jaeger reads its configuration once: a new configuration (a new operator) rolls the pod.
    let hash = config_hash([CONFIG]);
    let pod = PodSpec {
        containers: vec![container],
        volumes: Some(vec![tmp_volume, config_volume]),
        security_context: Some(pod_security(JAEGER_UID)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        ..PodSpec::default()
    };
    deployment_of(shop, names::jaeger(shop), COMPONENT, Some(1), pod, hash)
}

/// The Jaeger Service; with NodePort exposure the UI gets its fixed node port.
pub fn service(shop: &Shop) -> Service {
    let node_port = shop.spec.exposure.type_ == ExposureType::NodePort;
    let service_port = |name: &str, port: i32, fixed: Option<i32>| ServicePort {
        name: Some(name.into()),
        port,
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        node_port: fixed,
        ..ServicePort::default()
    };
    Service {
        metadata: child_meta(shop, names::jaeger(shop), COMPONENT),
        spec: Some(ServiceSpec {
            type_: Some(if node_port { "NodePort" } else { "ClusterIP" }.into()),
            selector: Some(selector_labels(shop, COMPONENT)),
            ports: Some(vec![
                service_port("otlp-grpc", OTLP_GRPC_PORT, None),
                service_port("otlp-http", OTLP_HTTP_PORT, None),
                service_port("ui", UI_PORT, node_port.then_some(shop.spec.exposure.node_ports.jaeger)),
                service_port(SPANMETRICS_PORT_NAME, SPANMETRICS_PORT, None),
            ]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;

    #[test]
    fn endpoint_follows_the_protocol() {
        let mut s = shop("demo");
        assert_eq!(otlp_endpoint(&s), "http://demo-jaeger:4317");
        s.spec.tracing.protocol = OtlpProtocol::HttpProtobuf;
        assert_eq!(otlp_endpoint(&s), "http://demo-jaeger:4318");
    }

    #[test]
    fn config_is_v2_with_the_ports_the_services_and_probes_use() {
        let config: serde_json::Value = serde_saphyr::from_str(CONFIG).expect("config is YAML");
        let otlp = &config["receivers"]["otlp"]["protocols"];
        assert_eq!(otlp["grpc"]["endpoint"].as_str(), Some("0.0.0.0:4317"));
        assert_eq!(otlp["http"]["endpoint"].as_str(), Some("0.0.0.0:4318"));
        assert_eq!(config["extensions"]["jaeger_query"]["http"]["endpoint"].as_str(), Some("0.0.0.0:16686"));
        assert_eq!(config["extensions"]["healthcheckv2"]["http"]["endpoint"].as_str(), Some("0.0.0.0:13133"));
        let store = config["extensions"]["jaeger_query"]["storage"]["traces"].as_str();
        assert_eq!(config["exporters"]["jaeger_storage_exporter"]["trace_storage"].as_str(), store);
        assert!(config["extensions"]["jaeger_storage"]["backends"][store.unwrap_or_default()]["memory"].is_object());

        let s = shop("demo");
        let pod = deployment(&s).spec.and_then(|d| d.template.spec).expect("pod");
        let c = &pod.containers[0];
        assert_eq!(c.image.as_deref(), Some("docker.io/jaegertracing/jaeger:2.12.0"));
        assert_eq!(c.args.as_deref(), Some(&["--config=/etc/jaeger/config.yaml".to_string()][..]));
        let volume = pod.volumes.iter().flatten().find(|v| v.name == "config").expect("config volume");
        assert_eq!(volume.config_map.as_ref().map(|c| c.name.as_str()), Some("demo-jaeger"));
        assert!(config_map(&s).data.expect("data").contains_key(CONFIG_KEY));
    }

    /// Compose and the operator run the same Jaeger: same receivers, pipeline, storage bound,
    /// query and health endpoints.
    #[test]
    fn config_matches_the_compose_configuration() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/jaeger/config.yaml");
        let compose: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap_or_default()).expect("compose config is YAML");
        let ours: serde_json::Value = serde_saphyr::from_str(CONFIG).expect("config is YAML");
        assert_eq!(ours["receivers"], compose["receivers"], "receivers");
        assert_eq!(ours["service"]["pipelines"], compose["service"]["pipelines"], "pipelines");
        assert_eq!(ours["exporters"], compose["exporters"], "exporters");
        assert_eq!(ours["connectors"], compose["connectors"], "connectors");
        assert_eq!(ours["extensions"]["jaeger_storage"], compose["extensions"]["jaeger_storage"], "storage");
        assert_eq!(ours["extensions"]["healthcheckv2"], compose["extensions"]["healthcheckv2"], "health check");
        let query = |c: &serde_json::Value| c["extensions"]["jaeger_query"]["http"]["endpoint"].clone();
        assert_eq!(query(&ours), query(&compose), "query UI");
    }

    #[test]
    fn service_ports_name_container_ports() {
        let s = shop("demo");
        let container_ports: Vec<String> = deployment(&s).spec.and_then(|d| d.template.spec).expect("pod").containers
            [0]
        .ports
        .iter()
        .flatten()
        .filter_map(|p| p.name.clone())
        .collect();
        for port in service(&s).spec.and_then(|s| s.ports).expect("ports") {
            let Some(IntOrString::String(target)) = port.target_port else { panic!("named target port") };
            assert!(container_ports.contains(&target), "{target} is a container port");
        }
    }
}
