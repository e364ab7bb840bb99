//! The optional load generator (`microshop-loadgen`): one replica, no port, shopping through
//! the storefront (when it runs) and the APIs until it is switched off.

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Container, EnvVar, PodSpec},
};

use super::{
    Microservice, SecretVersions,
    labels::Component,
    names,
    pod::{container_security, deployment_of, env, env_from_secret, pod_security, resources, scratch},
    secrets,
    services::{SERVICE_UID, otel_env, pod_hash, url},
};
use crate::crd::Shop;

/// Component name (labels, status) of the load generator.
pub const COMPONENT: Component = Component::LoadGenerator;

/// Environment of the load generator (its contract: HELPERS.md "Load generator").
pub fn env_vars(shop: &Shop) -> Vec<EnvVar> {
    let spec = &shop.spec.load_generator;
    let mut vars = vec![
        env("LOG_FORMAT", "json"),
        env("RUST_LOG", "info"),
        env("PRODUCTS_URL", url(shop, Microservice::Products)),
        env("USERS_URL", url(shop, Microservice::Users)),
        env("ORDERS_URL", url(shop, Microservice::Orders)),
        env("LOADGEN_USERS_PER_SEC", spec.users_per_second.to_string()),
        // 0: until the Deployment is removed (loadGenerator.enabled: false).
        env("LOADGEN_DURATION_SECS", "0"),
        env("LOADGEN_ADMIN_EMAIL", shop.spec.auth.bootstrap_admin_email.clone()),
        env_from_secret("LOADGEN_ADMIN_PASSWORD", &names::admin_secret(shop), secrets::ADMIN_PASSWORD),
    ];
    if shop.spec.storefront.enabled {
        vars.push(env("STOREFRONT_URL", url(shop, Microservice::Storefront)));
    }
    vars.extend(otel_env(shop, &COMPONENT.name()));
    vars
}

/// The load generator's Deployment.
pub fn deployment(shop: &Shop, versions: &SecretVersions) -> Deployment {
    let image = &shop.spec.image;
    let (tmp_volume, tmp_mount) = scratch("tmp", "/tmp");
    let container = Container {
        name: COMPONENT.name(),
        image: Some(format!("{}/microshop-loadgen:{}", image.registry.trim_end_matches('/'), image.tag)),
        image_pull_policy: Some(image.pull_policy.as_str().into()),
        env: Some(env_vars(shop)),
        resources: Some(resources(&shop.spec.load_generator.resources)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![tmp_mount]),
        ..Container::default()
    };
    let pod = PodSpec {
        containers: vec![container],
        volumes: Some(vec![tmp_volume]),
        security_context: Some(pod_security(SERVICE_UID)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        ..PodSpec::default()
    };
    let hash = pod_hash(&pod, versions);
    deployment_of(shop, names::loadgen(shop), COMPONENT, Some(1), pod, hash)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::build::tests::shop;

    fn env_of(shop: &Shop) -> BTreeMap<String, String> {
        env_vars(shop)
            .into_iter()
            .map(|e| {
                let shown = e
                    .value
                    .or_else(|| {
                        let r = e.value_from?.secret_key_ref?;
                        Some(format!("secret:{}/{}", r.name, r.key))
                    })
                    .unwrap_or_default();
                (e.name, shown)
            })
            .collect()
    }

    #[test]
    fn env_follows_the_load_generator_contract() {
        let mut s = shop("demo");
        s.spec.load_generator.enabled = true;
        s.spec.load_generator.users_per_second = 2.5;
        let env = env_of(&s);
        assert_eq!(env["STOREFRONT_URL"], "http://demo-storefront:8080");
        assert_eq!(env["PRODUCTS_URL"], "http://demo-products:8080");
        assert_eq!(env["USERS_URL"], "http://demo-users:8080");
        assert_eq!(env["ORDERS_URL"], "http://demo-orders:8080");
        assert_eq!(env["LOADGEN_USERS_PER_SEC"], "2.5");
        assert_eq!(env["LOADGEN_DURATION_SECS"], "0");
        assert_eq!(env["LOADGEN_ADMIN_EMAIL"], "admin@microshop.local");
        assert_eq!(env["LOADGEN_ADMIN_PASSWORD"], "secret:demo-admin/password");

        s.spec.storefront.enabled = false;
        assert!(!env_of(&s).contains_key("STOREFRONT_URL"), "no storefront, no storefront traffic");
    }

    #[test]
    fn one_replica_of_the_loadgen_image_without_ports() {
        let d = deployment(&shop("demo"), &SecretVersions::new());
        let spec = d.spec.expect("spec");
        assert_eq!(spec.replicas, Some(1));
        let c = &spec.template.spec.expect("pod").containers[0];
        assert_eq!(c.image.as_deref(), Some("ghcr.io/microshop/microshop-loadgen:0.1.0"));
        assert!(c.ports.is_none() && c.readiness_probe.is_none(), "no port, so nothing to probe");
    }
}
