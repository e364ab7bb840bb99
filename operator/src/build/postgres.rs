//! A managed PostgreSQL per service: a one-replica StatefulSet with a claim template, and the
//! headless Service that gives its pod a stable DNS name (the host in the Secret's URI).
//!
//! The service logs in as a role that owns its database and is not a superuser (migrations
//! need no more: `pg_trgm` is a trusted extension); the `postgres` superuser's password is in
//! the same Secret and only the database pod sees it. The official image applies passwords only
//! when it creates the data directory, so an init container ([`PREPARE_ROLES_SCRIPT`]) does both
//! jobs on every start: it creates the data directory itself when there is none, then sets the
//! roles, their passwords and the database's owner from the Secret. The pod template carries the
//! Secret's version, so a rotated password rolls the pod and the init container applies it.

use k8s_openapi::{
    api::{
        apps::v1::{StatefulSet, StatefulSetSpec},
        core::v1::{
            Container, ContainerPort, EmptyDirVolumeSource, ExecAction, PodSpec, Probe, Service, Volume, VolumeMount,
        },
    },
    apimachinery::pkg::api::resource::Quantity,
};

use super::{
    Microservice, SecretVersions,
    labels::{Component, child_meta, config_hash},
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

/// Init container script, run before the server on every start. On an empty volume it runs
/// initdb (superuser `postgres`, password authentication over TCP, as the official image does).
/// Then, on a server listening on a private socket only, it makes the state match the Secret:
/// the superuser's password, the application role (login, not a superuser, its password), the
/// database owned by that role and closed to other roles. psql variables keep the passwords out
/// of the SQL text. A data directory made by an older operator, whose bootstrap superuser is the
/// application role, keeps it a superuser (PostgreSQL forbids demoting it) and says so.
pub const PREPARE_ROLES_SCRIPT: &str = r#"set -eu
umask 077
socket="$(mktemp -d)"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" > "$socket/pw"
  initdb -D "$PGDATA" -U postgres --pwfile="$socket/pw" -E UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 > /dev/null
  rm -f "$socket/pw"
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  echo "initialised a new data directory"
fi
pg_ctl -D "$PGDATA" -o "-c listen_addresses= -k $socket" -w -s start
trap 'pg_ctl -D "$PGDATA" -m fast -w -s stop' EXIT
bootstrap_query='SELECT rolname FROM pg_roles WHERE oid = 10'
bootstrap=$(psql -h "$socket" -U postgres -d postgres -XtAc "$bootstrap_query" 2>/dev/null \
  || psql -h "$socket" -U "$APP_USER" -d postgres -XtAc "$bootstrap_query")
psql -h "$socket" -U "$bootstrap" -d postgres -Xq -v ON_ERROR_STOP=1 \
  -v su_password="$POSTGRES_PASSWORD" -v app="$APP_USER" -v app_password="$APP_PASSWORD" \
  -v db="$POSTGRES_DB" <<'SQL'
SELECT 'CREATE ROLE postgres SUPERUSER LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') \gexec
ALTER ROLE postgres PASSWORD :'su_password';
SELECT format('CREATE ROLE %I', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', :'app')
 WHERE (SELECT oid FROM pg_roles WHERE rolname = :'app') <> 10 \gexec
SELECT format('the role %s is the bootstrap superuser of a data directory made by an older operator: it stays a superuser', :'app') AS warning
 WHERE (SELECT oid FROM pg_roles WHERE rolname = :'app') = 10;
ALTER ROLE :"app" LOGIN PASSWORD :'app_password';
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0', :'db', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"app";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
echo "roles and passwords of $POSTGRES_DB set from the Secret"
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
    // What the server and its probes need: no password (the data directory exists when it
    // starts, so the image's entrypoint never uses one).
    let server_env = vec![
        env("POSTGRES_USER", "postgres"),
        env_from_secret("POSTGRES_DB", &secret, secrets::DB_NAME),
        // A subdirectory: the volume's root may hold `lost+found`, which initdb refuses.
        env("PGDATA", format!("{DATA_PATH}/pgdata")),
    ];
    let mut prepare_env = server_env.clone();
    prepare_env.extend([
        env_from_secret("POSTGRES_PASSWORD", &secret, secrets::DB_SUPERUSER_PASSWORD),
        env_from_secret("APP_USER", &secret, secrets::DB_USERNAME),
        env_from_secret("APP_PASSWORD", &secret, secrets::DB_PASSWORD),
    ]);
    let prepare_roles = Container {
        name: "prepare-roles".into(),
        image: Some(managed.image.clone()),
        command: Some(vec!["sh".into(), "-c".into(), PREPARE_ROLES_SCRIPT.into()]),
        env: Some(prepare_env),
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
        env: Some(server_env),
        resources: Some(resources(&managed.resources)),
        readiness_probe: Some(pg_isready(5, 3)),
        liveness_probe: Some(Probe { initial_delay_seconds: Some(30), ..pg_isready(10, 6) }),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![data_mount, run_mount, tmp_mount, shm_mount]),
        ..Container::default()
    };
    let version = versions.get(&secret).map(String::as_str).unwrap_or("absent");
    let hash = config_hash([secret.as_str(), version]);
    let claim = super::pod::claim_template(
        shop,
        component,
        DATA_VOLUME,
        managed.storage_class_name.clone(),
        &managed.storage_size,
    );
    let pod = PodSpec {
        init_containers: Some(vec![prepare_roles]),
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
    super::pod::headless_service(
        shop,
        names::db(shop, service),
        Component::Database(service),
        "postgres",
        POSTGRES_PORT,
    )
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
        assert!(env.iter().all(|e| !e.name.contains("PASSWORD")), "the server itself needs no password");
        let init_env = pod.init_containers.as_ref().and_then(|c| c[0].env.as_ref()).expect("init env");
        let from_secret = |name: &str| {
            let var = init_env.iter().find(|e| e.name == name).expect(name);
            let key = var.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()).expect("from secret");
            (key.name.clone(), key.key.clone())
        };
        assert_eq!(from_secret("APP_USER"), ("demo-payments-db".into(), secrets::DB_USERNAME.into()));
        assert_eq!(from_secret("APP_PASSWORD"), ("demo-payments-db".into(), secrets::DB_PASSWORD.into()));
        assert_eq!(
            from_secret("POSTGRES_PASSWORD"),
            ("demo-payments-db".into(), secrets::DB_SUPERUSER_PASSWORD.into()),
            "the superuser has its own password"
        );
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
        assert_eq!(init.command.as_ref().expect("command")[2], PREPARE_ROLES_SCRIPT);
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
