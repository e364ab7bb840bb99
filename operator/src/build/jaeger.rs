//! The optional Jaeger all-in-one (in-memory storage): OTLP gRPC and HTTP receivers and the UI.

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec},
        core::v1::{
            Container, ContainerPort, HTTPGetAction, PodSpec, PodTemplateSpec, Probe, Service, ServicePort, ServiceSpec,
        },
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{
    labels::{child_meta, labels, selector_labels},
    names,
    pod::{container_security, env, pod_security, resources, scratch},
};
use crate::crd::{ExposureType, OtlpProtocol, Resources, Shop};

const COMPONENT: &str = "jaeger";
/// uid of the Jaeger images.
const JAEGER_UID: i64 = 10001;
pub const OTLP_GRPC_PORT: i32 = 4317;
pub const OTLP_HTTP_PORT: i32 = 4318;
pub const UI_PORT: i32 = 16686;
/// Jaeger's admin port; `/` answers 200 once it is ready.
const ADMIN_PORT: i32 = 14269;

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
    let probe = |period| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/".into()),
            port: IntOrString::String("admin".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        ..Probe::default()
    };
    let container = Container {
        name: COMPONENT.into(),
        image: Some(shop.spec.tracing.jaeger.image.clone()),
        ports: Some(vec![
            port("otlp-grpc", OTLP_GRPC_PORT),
            port("otlp-http", OTLP_HTTP_PORT),
            port("ui", UI_PORT),
            port("admin", ADMIN_PORT),
        ]),
        env: Some(vec![env("COLLECTOR_OTLP_ENABLED", "true"), env("SPAN_STORAGE_TYPE", "memory")]),
        resources: Some(resources(&Resources::jaeger())),
        readiness_probe: Some(probe(5)),
        liveness_probe: Some(probe(15)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![tmp_mount]),
        ..Container::default()
    };
    Deployment {
        metadata: child_meta(shop, names::jaeger(shop), COMPONENT),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(selector_labels(shop, COMPONENT)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels(shop, COMPONENT)), ..ObjectMeta::default() }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(vec![tmp_volume]),
                    security_context: Some(pod_security(JAEGER_UID)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
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
