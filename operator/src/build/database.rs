//! What the rest of the operator asks of a database mode, answered once per mode: the managed
//! StatefulSets ([`super::managed::Managed`]), CloudNativePG clusters
//! ([`super::cnpg::CloudNativePg`]) or the user's own servers ([`super::external::External`]).
//! Builders, validation, status and the reconciler call [`of`] and ask the [`Backend`]; the
//! match on [`DatabaseMode`] is written here only, so a fourth mode is one new module and one
//! arm, and the compiler lists every question it must answer.

use super::{Microservice, SecretVersions, Workloads};
use crate::crd::{DatabaseMode, DatabaseSpec, SecretKeyRef, Shop, ShopSpec, SslMode, WorkloadKind};

/// The answers of one database mode. Defaults are those of a mode whose databases the
/// operator neither runs nor creates credentials for.
pub trait Backend: Sync {
    /// How status messages name the databases ("managed PostgreSQL").
    fn describe(&self) -> &'static str;

    /// The spec's problems in this mode, added to `errors` (validation, before anything is
    /// applied).
    fn validate(&self, spec: &ShopSpec, errors: &mut Vec<String>);

    /// The Secret key holding `service`'s database URI. `None` only in external mode without a
    /// reference, which validation rejects first.
    fn uri(&self, shop: &Shop, service: Microservice) -> Option<SecretKeyRef>;

    /// The effective TLS to `service`'s database: `sslmode` and the CA Secret key, or `None` to
    /// use the URI as it is.
    fn tls(&self, shop: &Shop, service: Microservice) -> Option<(SslMode, Option<SecretKeyRef>)>;

    /// The host of replicas that take `service`'s reads, when the Shop sends them there.
    fn read_host(&self, _shop: &Shop, _service: Microservice) -> Option<String> {
        None
    }

    /// Whether the operator generates each service's database credentials (a Secret each).
    fn generates_credentials(&self) -> bool {
        false
    }

    /// Adds the objects that run the databases of `services` to `out`.
    fn add_workloads(
        &self,
        _shop: &Shop,
        _services: &[Microservice],
        _versions: &SecretVersions,
        _out: &mut Workloads,
    ) {
    }

    /// The kind and desired instances of the component each service's database reports in
    /// status; `None` when the operator runs no database.
    fn component(&self, _shop: &Shop) -> Option<(WorkloadKind, i32)> {
        None
    }

    /// Whether the operator puts a NetworkPolicy in front of the database pods (the pods it
    /// runs itself; CloudNativePG's pods are CloudNativePG's to guard).
    fn guards_database_pods(&self) -> bool {
        false
    }

    /// The PostgreSQL image whose major version must not change under existing data, when
    /// the operator runs the servers on it.
    fn pinned_image<'a>(&self, _shop: &'a Shop) -> Option<&'a str> {
        None
    }

    /// Whether the URIs are in Secrets the user made, which the reconciler checks exist and
    /// whose versions roll the services.
    fn uris_from_user_secrets(&self) -> bool {
        false
    }

    /// Whether deleting a Shop with deletion policy `Delete` removes CloudNativePG Clusters.
    fn deletes_clusters(&self) -> bool {
        false
    }
}

/// The backend of a database section.
pub fn backend(database: &DatabaseSpec) -> &'static dyn Backend {
    match database.mode {
        DatabaseMode::Managed => &super::managed::Managed,
        DatabaseMode::CloudNativePg => &super::cnpg::CloudNativePg,
        DatabaseMode::External => &super::external::External,
    }
}

/// The backend of a Shop.
pub fn of(shop: &Shop) -> &'static dyn Backend {
    backend(&shop.spec.database)
}
