//! `database.mode: managed` (the default): the operator runs one PostgreSQL per service
//! itself ([`super::postgres`]: a StatefulSet and its headless Service) and generates each
//! one's credentials. The servers speak no TLS, so they are reachable from their own service
//! only, behind a NetworkPolicy.

use super::{Microservice, SecretVersions, Workloads, database::Backend, names, postgres, secrets};
use crate::crd::{SecretKeyRef, Shop, ShopSpec, SslMode, WorkloadKind};

/// The managed mode's answers.
pub struct Managed;

impl Backend for Managed {
    fn describe(&self) -> &'static str {
        "managed PostgreSQL"
    }

    fn validate(&self, spec: &ShopSpec, errors: &mut Vec<String>) {
        if spec.database.tls.ssl_mode.is_some_and(|m| !matches!(m, SslMode::Disable | SslMode::Prefer)) {
            errors.push(
                "database.tls.sslMode: the managed PostgreSQL serves no TLS; use external or cloudnativepg".into(),
            );
        }
    }

    fn uri(&self, shop: &Shop, service: Microservice) -> Option<SecretKeyRef> {
        Some(SecretKeyRef { name: names::db_secret(shop, service), key: secrets::DB_URI.into() })
    }

    /// The generated URI as it is: the servers speak no TLS.
    fn tls(&self, _shop: &Shop, _service: Microservice) -> Option<(SslMode, Option<SecretKeyRef>)> {
        None
    }

    fn generates_credentials(&self) -> bool {
        true
    }

    fn add_workloads(&self, shop: &Shop, services: &[Microservice], versions: &SecretVersions, out: &mut Workloads) {
        for service in services {
            out.statefulsets.push(postgres::statefulset(shop, *service, versions));
            out.services.push(postgres::headless_service(shop, *service));
        }
    }

    fn component(&self, _shop: &Shop) -> Option<(WorkloadKind, i32)> {
        Some((WorkloadKind::StatefulSet, 1))
    }

    fn guards_database_pods(&self) -> bool {
        true
    }

    fn pinned_image<'a>(&self, shop: &'a Shop) -> Option<&'a str> {
        Some(&shop.spec.database.managed.image)
    }
}
