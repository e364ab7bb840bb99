//! Pieces every pod template shares: the restricted security context, resources, env helpers.
//!
//! The security context follows the Kubernetes "restricted" Pod Security Standard, so a shop
//! runs in a namespace that enforces it.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::apps::v1::{Deployment, DeploymentSpec},
    api::core::v1::{
        Capabilities, EmptyDirVolumeSource, EnvVar, EnvVarSource, PersistentVolumeClaim, PersistentVolumeClaimSpec,
        PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile, SecretKeySelector,
        SecurityContext, Service, ServicePort, ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::labels::{CONFIG_HASH_ANNOTATION, Component, MANAGER, child_meta, labels, selector_labels};
use crate::crd::{Resources, Shop};

/// The headless Service of a StatefulSet (a database, the NATS): `name` resolves straight to
/// the pods of `component`, whose container port `port_name` is `port`.
pub fn headless_service(shop: &Shop, name: String, component: Component, port_name: &str, port: i32) -> Service {
    Service {
        metadata: child_meta(shop, name, component),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(selector_labels(shop, component)),
            ports: Some(vec![ServicePort {
                name: Some(port_name.into()),
                port,
                target_port: Some(IntOrString::String(port_name.into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The claim template of a StatefulSet's data volume `name` (a database, the NATS store). Claim
/// templates are immutable, so its labels must not change with the spec: no version label.
pub fn claim_template(
    shop: &Shop,
    component: Component,
    name: &str,
    storage_class_name: Option<String>,
    size: &str,
) -> PersistentVolumeClaim {
    let mut claim_labels = selector_labels(shop, component);
    claim_labels.insert("app.kubernetes.io/managed-by".into(), MANAGER.into());
    PersistentVolumeClaim {
        metadata: ObjectMeta { name: Some(name.into()), labels: Some(claim_labels), ..ObjectMeta::default() },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name,
            resources: Some(VolumeResourceRequirements {
                requests: Some([("storage".to_string(), Quantity(size.into()))].into()),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    }
}

/// Pod-level security context: non-root with a fixed uid/gid, RuntimeDefault seccomp.
pub fn pod_security(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(uid),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
        ..PodSecurityContext::default()
    }
}

/// Container-level security context: read-only root, no privilege escalation, no capabilities.
pub fn container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
        ..SecurityContext::default()
    }
}

/// Kubernetes resource requirements from the Shop's flat resource settings.
pub fn resources(spec: &Resources) -> ResourceRequirements {
    let requests = BTreeMap::from([
        ("cpu".to_string(), Quantity(spec.cpu_request.clone())),
        ("memory".to_string(), Quantity(spec.memory_request.clone())),
    ]);
    let mut limits = BTreeMap::from([("memory".to_string(), Quantity(spec.memory_limit.clone()))]);
    if let Some(cpu) = &spec.cpu_limit {
        limits.insert("cpu".into(), Quantity(cpu.clone()));
    }
    ResourceRequirements { requests: Some(requests), limits: Some(limits), ..ResourceRequirements::default() }
}

/// A plain environment variable.
pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), value_from: None }
}

/// An environment variable from the downward API: a field of the pod (`metadata.name`,
/// `metadata.namespace`, `spec.nodeName`).
pub fn env_from_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(k8s_openapi::api::core::v1::ObjectFieldSelector {
                field_path: field_path.into(),
                ..Default::default()
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// An environment variable read from a Secret key.
pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: Some(false) }),
            ..EnvVarSource::default()
        }),
    }
}

/// A writable scratch directory (the root filesystem is read-only).
pub fn scratch(name: &str, path: &str) -> (Volume, VolumeMount) {
    (
        Volume { name: name.into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Volume::default() },
        VolumeMount { name: name.into(), mount_path: path.into(), ..VolumeMount::default() },
    )
}

/// A Deployment of one component: selector on the stable labels, and the pod template carrying
/// the component's labels and its config hash (a new hash rolls the pods).
/// The selector of a workload: the component's stable labels only.
pub fn selector(shop: &Shop, component: Component) -> LabelSelector {
    LabelSelector { match_labels: Some(selector_labels(shop, component)), ..LabelSelector::default() }
}

/// A pod template with the component's labels and the config hash that rolls it.
pub fn pod_template(shop: &Shop, component: Component, pod: PodSpec, hash: String) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(shop, component)),
            annotations: Some([(CONFIG_HASH_ANNOTATION.to_string(), hash)].into()),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    }
}

/// `replicas: None` leaves the count to someone else (an HPA).
pub fn deployment_of(
    shop: &Shop,
    name: String,
    component: Component,
    replicas: Option<i32>,
    pod: PodSpec,
    hash: String,
) -> Deployment {
    Deployment {
        metadata: child_meta(shop, name, component),
        spec: Some(DeploymentSpec {
            replicas,
            selector: selector(shop, component),
            template: pod_template(shop, component, pod, hash),
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}
