//! A managed PostgreSQL per service: a one-replica StatefulSet with a claim template, and the
//! headless Service that gives its pod a stable DNS name (the host in the Secret's URI).
//!
//! The official image applies `POSTGRES_PASSWORD` only when it creates the data directory. So
//! that rotating the password in the Secret really rotates it, an init container sets the role's
//! password from the Secret on every start (PostgreSQL's single-user mode, before the server
//! runs), and the pod template carries the Secret's version, so a new password rolls the pod.

use k8s_openapi::{
    api::{
        apps::v1::{StatefulSet, StatefulSetSpec},
        core::v1::{
            Container, ContainerPort, EmptyDirVolumeSource, ExecAction, PersistentVolumeClaim,
            PersistentVolumeClaimSpec, PodSpec, Probe, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
            VolumeResourceRequirements,
        },
    },
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::ObjectMeta, util::intstr::IntOrString},
};

use super::{
    Microservice, SecretVersions,
    labels::{Component, MANAGER, child_meta, config_hash, selector_labels},
    names,
    pod::{container_security, env, env_from_secret, pod_security, pod_template, resources, scratch, selector},
    secrets,
};
use crate::crd::Shop;

/// uid/gid of the `postgres` user in the official image.
pub const POSTGRES_UID: i64 = 999;
pub const POSTGRES_PORT: i32 = 5432;
/// Name of the claim template; claims are named `data-<statefulset>-0`.
pub const DATA_VOLUME: &str = "data";
const DATA_PATH: &str = "/var/lib/postgresql/data";
/// Size of the memory-backed `/dev/shm` (PostgreSQL's dynamic shared memory; a container's
/// default is 64 MiB, too small for parallel queries). It counts against the memory limit.
const SHM_SIZE: &str = "128Mi";

/// Init container script: on an existing data directory, sets the role's password to the one
/// in the Secret (single-user mode, no network). A new data directory gets it from initdb.
/// Single quotes in the password are doubled for the SQL literal.
pub const SET_PASSWORD_SCRIPT: &str = r#"set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "new data directory: initdb sets the password"
  exit 0
fi
pw=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
printf 'ALTER ROLE "%s" PASSWORD '"'"'%s'"'"';\n' "$POSTGRES_USER" "$pw" \
  | postgres --single -D "$PGDATA" -c listen_addresses='' postgres > /dev/null
echo "password of $POSTGRES_USER set from the Secret"
"#;

/// `pg_isready` against the local server, as the database's own user.
fn pg_isready(period: i32, failures: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                r#"exec pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB""#.into(),
            ]),
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// The StatefulSet of one service's database. `versions` holds the credential Secret's
/// version: a rotated password rolls the pod, whose init container then applies it.
pub fn statefulset(shop: &Shop, service: Microservice, versions: &SecretVersions) -> StatefulSet {
    let component = Component::Database(service);
    let managed = &shop.spec.database.managed;
    let secret = names::db_secret(shop, service);
    let (run_volume, run_mount) = scratch("run", "/var/run/postgresql");
    let (tmp_volume, tmp_mount) = scratch("tmp", "/tmp");
    let shm_volume = Volume {
        name: "shm".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            size_limit: Some(Quantity(SHM_SIZE.into())),
        }),
        ..Volume::default()
    };
    let shm_mount = VolumeMount { name: "shm".into(), mount_path: "/dev/shm".into(), ..VolumeMount::default() };
    let data_mount = VolumeMount { name: DATA_VOLUME.into(), mount_path: DATA_PATH.into(), ..VolumeMount::default() };
    let env_vars = vec![
        env_from_secret("POSTGRES_USER", &secret, secrets::DB_USERNAME),
        env_from_secret("POSTGRES_PASSWORD", &secret, secrets::DB_PASSWORD),
        env_from_secret("POSTGRES_DB", &secret, secrets::DB_NAME),
        // A subdirectory: the volume's root may hold `lost+found`, which initdb refuses.
        env("PGDATA", format!("{DATA_PATH}/pgdata")),
    ];
    let set_password = Container {
        name: "set-password".into(),
        image: Some(managed.image.clone()),
        command: Some(vec!["sh".into(), "-c".into(), SET_PASSWORD_SCRIPT.into()]),
        env: Some(env_vars.clone()),
        resources: Some(resources(&managed.resources)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![data_mount.clone(), run_mount.clone(), tmp_mount.clone()]),
        ..Container::default()
    };
    let container = Container {
        name: "postgres".into(),
        image: Some(managed.image.clone()),
        ports: Some(vec![ContainerPort {
            name: Some("postgres".into()),
            container_port: POSTGRES_PORT,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(env_vars),
        resources: Some(resources(&managed.resources)),
        readiness_probe: Some(pg_isready(5, 3)),
        liveness_probe: Some(Probe { initial_delay_seconds: Some(30), ..pg_isready(10, 6) }),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![data_mount, run_mount, tmp_mount, shm_mount]),
        ..Container::default()
    };
    let version = versions.get(&secret).map(String::as_str).unwrap_or("absent");
    let hash = config_hash([secret.as_str(), version]);
    // Claim templates are immutable: their labels must not change with the spec (no version).
    let mut claim_labels = selector_labels(shop, component);
    claim_labels.insert("app.kubernetes.io/managed-by".into(), MANAGER.into());
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta { name: Some(DATA_VOLUME.into()), labels: Some(claim_labels), ..ObjectMeta::default() },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: managed.storage_class_name.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some([("storage".to_string(), Quantity(managed.storage_size.clone()))].into()),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    };
    let pod = PodSpec {
        init_containers: Some(vec![set_password]),
        containers: vec![container],
        volumes: Some(vec![run_volume, tmp_volume, shm_volume]),
        security_context: Some(pod_security(POSTGRES_UID)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        ..PodSpec::default()
    };
    StatefulSet {
        metadata: child_meta(shop, names::db(shop, service), component),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(names::db(shop, service)),
            selector: selector(shop, component),
            template: pod_template(shop, component, pod, hash),
            volume_claim_templates: Some(vec![claim]),
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

/// The PostgreSQL major version of an image reference, from its tag: `postgres:17`,
/// `postgres:17.2-bookworm`, `registry/pg:16@sha256:...` give 17, 17, 16. `None` when the tag
/// does not start with a number (`latest`, no tag): then a change cannot be judged.
pub fn major_version(image: &str) -> Option<u32> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_segment = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let (_, tag) = last_segment.split_once(':')?;
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The headless Service of one database.
pub fn headless_service(shop: &Shop, service: Microservice) -> Service {
    let component = Component::Database(service);
    Service {
        metadata: child_meta(shop, names::db(shop, service), component),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(selector_labels(shop, component)),
            ports: Some(vec![ServicePort {
                name: Some("postgres".into()),
                port: POSTGRES_PORT,
                target_port: Some(IntOrString::String("postgres".into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
#[path = "postgres_rotation_tests.rs"]
mod rotation_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::labels::CONFIG_HASH_ANNOTATION;
    use crate::build::tests::shop;
    use crate::crd::DeletionPolicy;

    #[test]
    fn statefulset_uses_the_secret_and_the_claim_settings() {
        let mut s = shop("demo");
        s.spec.database.managed.storage_size = "5Gi".into();
        s.spec.database.managed.storage_class_name = Some("fast".into());
        s.spec.database.managed.deletion_policy = DeletionPolicy::Delete;
        let sts = statefulset(&s, Microservice::Payments, &SecretVersions::new());
        let spec = sts.spec.expect("spec");
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(spec.service_name.as_deref(), Some("demo-payments-db"));
        let claim = &spec.volume_claim_templates.expect("claims")[0];
        let claim_spec = claim.spec.as_ref().expect("claim spec");
        assert_eq!(claim_spec.storage_class_name.as_deref(), Some("fast"));
        let requests = claim_spec.resources.as_ref().and_then(|r| r.requests.as_ref()).expect("requests");
        assert_eq!(requests["storage"].0, "5Gi");
        let claim_labels = claim.metadata.labels.as_ref().expect("claim labels");
        assert!(!claim_labels.contains_key("app.kubernetes.io/version"), "claim templates are immutable");
        assert_eq!(claim_labels["app.kubernetes.io/component"], "database");

        let pod = spec.template.spec.expect("pod");
        let container = &pod.containers[0];
        let probe = container.readiness_probe.as_ref().and_then(|p| p.exec.as_ref()).expect("exec probe");
        assert!(probe.command.as_ref().expect("command")[2].contains("pg_isready"));
        let env = container.env.as_ref().expect("env");
        let user = env.iter().find(|e| e.name == "POSTGRES_USER").expect("POSTGRES_USER");
        let secret = user.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()).expect("from secret");
        assert_eq!(secret.name, "demo-payments-db");
        assert!(container.resources.as_ref().and_then(|r| r.requests.as_ref()).is_some(), "requests set");
    }

    #[test]
    fn major_versions_are_read_from_tags() {
        let cases = [
            ("docker.io/library/postgres:17", Some(17)),
            ("postgres:17.2-bookworm", Some(17)),
            ("registry.local:5000/pg:16@sha256:abc", Some(16)),
            ("registry.local:5000/postgres", None),
            ("postgres:latest", None),
            ("ghcr.io/cloudnative-pg/postgresql:15.6", Some(15)),
        ];
        for (image, expected) in cases {
            assert_eq!(major_version(image), expected, "{image}");
        }
    }

    #[test]
    fn a_rotated_password_rolls_the_database_and_an_init_container_applies_it() {
        let s = shop("demo");
        let hash = |version: &str| {
            let versions = SecretVersions::from([("demo-users-db".to_string(), version.to_string())]);
            let sts = statefulset(&s, Microservice::Users, &versions);
            sts.spec.and_then(|s| s.template.metadata).and_then(|m| m.annotations).expect("annotations")
                [CONFIG_HASH_ANNOTATION]
                .clone()
        };
        assert_ne!(hash("1"), hash("2"), "a new Secret version rolls the pod");
        let pod = statefulset(&s, Microservice::Users, &SecretVersions::new()).spec.and_then(|s| s.template.spec);
        let pod = pod.expect("pod");
        let init = &pod.init_containers.as_ref().expect("init containers")[0];
        assert_eq!(init.command.as_ref().expect("command")[2], SET_PASSWORD_SCRIPT);
        let shm = pod.volumes.iter().flatten().find(|v| v.name == "shm").expect("shm volume");
        assert_eq!(shm.empty_dir.as_ref().and_then(|e| e.medium.as_deref()), Some("Memory"));
        let mounts = pod.containers[0].volume_mounts.iter().flatten();
        assert!(mounts.clone().any(|m| m.mount_path == "/dev/shm"), "shared memory sized");
    }

    #[test]
    fn headless_service_selects_the_database_pod() {
        let s = shop("demo");
        let svc = headless_service(&s, Microservice::Users);
        let spec = svc.spec.expect("spec");
        assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
        let sts = statefulset(&s, Microservice::Users, &SecretVersions::new());
        let pod_labels = sts.spec.and_then(|s| s.template.metadata).and_then(|m| m.labels).expect("labels");
        for (k, v) in spec.selector.expect("selector") {
            assert_eq!(pod_labels.get(&k), Some(&v), "selector {k} matches the pod");
        }
    }
}
