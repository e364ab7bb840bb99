//! The effectful half of the operator: apply the built children with server-side apply, keep
//! Secrets without rewriting them, handle the data finalizer, write status and Events.
//!
//! The controller watches Shops as `DynamicObject`s and parses `spec` here, so one Shop that does
//! not deserialize is reported on (condition + Event) instead of breaking the watch for all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};
use kube::{
    Client, Resource, ResourceExt,
    api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams},
    core::ApiResource,
    runtime::{
        controller::Action,
        events::{Event, EventType, Recorder, Reporter},
    },
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;
use tracing::{info, warn};

use crate::build::{
    self, Microservice, SecretVersions, cnpg, database, gateway,
    labels::{MANAGER, database_claims_selector, events_claims_selector, owned_children_selector},
    monitoring, names, postgres,
    secrets::{self, SecretError, SecretSource, SystemSource},
};
use crate::crd::{
    ComponentStatus, DatabaseSpec, DeletionPolicy, EventsMode, Phase, SMTP_PASSWORD_KEY, SMTP_USERNAME_KEY, Shop,
    ShopSpec, ShopStatus, WorkloadKind,
};
use crate::metrics::Health;
use crate::status::{self, Observed};
use crate::validate::{ValidShop, validate};

/// Finalizer that deletes the managed databases' claims and credentials (deletionPolicy: Delete).
pub const FINALIZER: &str = "microshop.dev/delete-data";

/// The Shop resource as the dynamic type the controller watches.
pub fn shop_resource() -> ApiResource {
    ApiResource::erase::<Shop>(&())
}

/// Why a reconcile failed; it is retried with backoff ([`error_policy`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("{action} {kind} {name}: {source}")]
    Kube {
        action: &'static str,
        kind: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Shops are namespaced; one without a namespace cannot be reconciled.
    #[error("the Shop has no namespace")]
    MissingNamespace,
    /// A Secret could not be completed.
    #[error("Secret {name}: {source}")]
    Secret {
        name: String,
        #[source]
        source: SecretError,
    },
    /// An existing Secret holds values the operator did not write and cannot read; it is left alone.
    #[error("Secret {0} holds keys that are not UTF-8 ({1}); it is not rewritten")]
    ForeignSecret(String, String),
}

impl Error {
    /// Bounded label for the failure metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube { action, .. } => action,
            Error::MissingNamespace => "missing_namespace",
            Error::Secret { .. } => "secret",
            Error::ForeignSecret(..) => "foreign_secret",
        }
    }
}

fn kube_err(action: &'static str, kind: &str, name: &str) -> impl FnOnce(kube::Error) -> Error {
    let (kind, name) = (kind.to_string(), name.to_string());
    move |source| Error::Kube { action, kind, name, source }
}

/// Everything a reconcile needs, shared by all reconciles.
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub health: Arc<Health>,
    /// Where new secret values come from (the CSPRNG in production).
    pub secret_source: Box<dyn SecretSource + Send + Sync>,
    /// Current time as RFC 3339, for condition transitions (a parameter so tests control it).
    pub now: fn() -> String,
    /// Consecutive failures per Shop (`namespace/name`), for the backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context for the controller: CSPRNG secrets, wall-clock time.
    pub fn new(client: Client, health: Arc<Health>) -> Self {
        let reporter =
            Reporter { controller: MANAGER.into(), instance: std::env::var("POD_NAME").ok().filter(|s| !s.is_empty()) };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            health,
            secret_source: Box::new(SystemSource::default()),
            now: || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            failures: Mutex::default(),
        }
    }

    /// Publishes an Event about a Shop; failing to publish is logged, never fatal.
    async fn publish(&self, shop: &DynamicObject, type_: EventType, reason: &str, action: &str, note: String) {
        let note: String = note.chars().take(1000).collect();
        let event = Event { type_, reason: reason.into(), note: Some(note), action: action.into(), secondary: None };
        if let Err(error) = self.recorder.publish(&event, &shop.object_ref(&shop_resource())).await {
            warn!(%error, reason, "could not publish an Event");
        }
    }

    fn failure_count(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn key_of(obj: &DynamicObject) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// Requeue delay after `failures` consecutive failures: 5 s doubling up to 5 min.
pub fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(6);
    Duration::from_secs((5u64 << exponent).min(300))
}

/// Reconciles one Shop. On failure an Event says why; [`error_policy`] schedules the retry.
pub async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.health.metrics.reconcile_started();
    match reconcile_shop(&obj, &ctx).await {
        Ok(action) => {
            ctx.failure_count().remove(&key_of(&obj));
            Ok(action)
        }
        Err(error) => {
            warn!(shop = %key_of(&obj), %error, "reconcile failed");
            ctx.publish(&obj, EventType::Warning, "ReconcileFailed", "Reconcile", error.to_string()).await;
            report_failure(&obj, &ctx, &error).await;
            Err(error)
        }
    }
}

/// Puts a failed reconcile on the Shop itself (`Reconciled=False`, phase `Degraded`), so that
/// `kubectl get shop` shows it and not only an Event (e.g. "port already allocated" when a second
/// NodePort Shop asks for the same ports). Failing to write it is logged: the retry follows anyway.
async fn report_failure(obj: &DynamicObject, ctx: &Context, error: &Error) {
    let Some(ns) = obj.namespace() else { return };
    let shops: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &shop_resource());
    let previous: Option<ShopStatus> = obj.data.get("status").cloned().and_then(|v| serde_json::from_value(v).ok());
    let status = status::failed(obj.metadata.generation, &error.to_string(), previous.as_ref(), &(ctx.now)());
    if let Err(write_error) = write_status(&shops, obj, previous.as_ref(), &status).await {
        warn!(shop = %key_of(obj), error = %write_error, "could not report the failure in the status");
    }
}

/// Counts the failure and requeues the Shop with exponential backoff.
pub fn error_policy(obj: Arc<DynamicObject>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.health.metrics.reconcile_failed(error.metric_label());
    let mut failures = ctx.failure_count();
    let count = failures.entry(key_of(&obj)).or_insert(0);
    *count += 1;
    Action::requeue(backoff(*count))
}

async fn reconcile_shop(obj: &DynamicObject, ctx: &Context) -> Result<Action, Error> {
    let ns = obj.namespace().ok_or(Error::MissingNamespace)?;
    let shops: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &shop_resource());
    let previous: Option<ShopStatus> = obj.data.get("status").cloned().and_then(|v| serde_json::from_value(v).ok());
    let generation = obj.metadata.generation;
    if obj.metadata.deletion_timestamp.is_some() {
        return cleanup(obj, &ns, &shops, ctx).await;
    }
    let shop = match to_shop(obj, previous.clone()) {
        Ok(shop) => shop,
        Err(message) => return reject(obj, &shops, ctx, previous.as_ref(), INVALID_SPEC, &message).await,
    };
    let valid = match validate(&shop) {
        Ok(valid) => valid,
        Err(errors) => return reject(obj, &shops, ctx, previous.as_ref(), INVALID_SPEC, &errors.to_string()).await,
    };
    sync_finalizer(obj, &shop, &shops).await?;
    if shop.spec.paused {
        let status = status::paused(generation, previous.as_ref(), &(ctx.now)());
        write_status(&shops, obj, previous.as_ref(), &status).await?;
        return Ok(Action::await_change());
    }
    if let Some(message) = refused_database_upgrade(&shop, &ns, ctx).await? {
        return reject(obj, &shops, ctx, previous.as_ref(), UPGRADE_REFUSED, &message).await;
    }

    let (mut versions, secret_count) = ensure_secrets(obj, valid, &ns, ctx).await?;
    let mut user_secrets = UserSecrets::new(ctx, &ns);
    let external_database_problems = check_external_databases(&shop, &mut user_secrets, &mut versions).await?;
    let service_secret_problems = check_service_secrets(&shop, &mut user_secrets, &mut versions).await?;
    let built = build::workloads(valid, &versions);
    let components = apply_workloads(&built, &ns, ctx).await?;
    prune(obj, &shop, &built, &ns, ctx).await?;

    let observed = Observed { secrets: secret_count, external_database_problems, service_secret_problems, components };
    let status = status::reconciled(&shop, &observed, previous.as_ref(), &(ctx.now)());
    announce_changes(obj, ctx, previous.as_ref(), &status).await;
    write_status(&shops, obj, previous.as_ref(), &status).await?;
    // Owned objects trigger reconciles when they change; the periodic requeue re-checks what is
    // not watched (external Secrets) and repairs drift missed by a watch restart.
    Ok(Action::requeue(if status.phase == Phase::Ready { Duration::from_secs(300) } else { Duration::from_secs(30) }))
}

/// The typed Shop, or a message saying why `spec` does not deserialize.
fn to_shop(obj: &DynamicObject, status: Option<ShopStatus>) -> Result<Shop, String> {
    let spec = obj.data.get("spec").cloned().ok_or_else(|| "spec is missing".to_string())?;
    let spec: ShopSpec =
        serde_json::from_value(spec).map_err(|e| format!("spec does not match the Shop schema: {e}"))?;
    Ok(Shop { metadata: obj.metadata.clone(), spec, status })
}

/// Reason of a Shop whose spec does not parse or fails validation.
const INVALID_SPEC: &str = "InvalidSpec";
/// Reason of a Shop whose managed database image changes PostgreSQL major version.
const UPGRADE_REFUSED: &str = "DatabaseUpgradeRefused";

/// Reports a Shop that cannot be applied as it is: Degraded status with a `Ready=False`
/// condition of this reason, and an Event when the message is new. No requeue: only an edit of
/// the Shop can fix it.
async fn reject(
    obj: &DynamicObject,
    shops: &Api<DynamicObject>,
    ctx: &Context,
    previous: Option<&ShopStatus>,
    reason: &str,
    message: &str,
) -> Result<Action, Error> {
    let status = status::invalid(obj.metadata.generation, reason, message, previous, &(ctx.now)());
    if previous != Some(&status) {
        ctx.publish(obj, EventType::Warning, reason, "Validate", message.to_string()).await;
    }
    write_status(shops, obj, previous, &status).await?;
    Ok(Action::await_change())
}

/// A managed database whose running image has another PostgreSQL major version than the spec
/// asks for: the new server would refuse the old data directory (it needs `pg_upgrade` or a
/// dump and restore), so the change is refused before anything is applied.
async fn refused_database_upgrade(shop: &Shop, ns: &str, ctx: &Context) -> Result<Option<String>, Error> {
    let Some(wanted_image) = database::of(shop).pinned_image(shop) else { return Ok(None) };
    let Some(wanted) = postgres::major_version(wanted_image) else { return Ok(None) };
    let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
    for service in Microservice::enabled(shop) {
        let name = names::db(shop, service);
        let Some(existing) = api.get_opt(&name).await.map_err(kube_err("get", "StatefulSet", &name))? else {
            continue;
        };
        let running = existing
            .spec
            .and_then(|s| s.template.spec)
            .and_then(|p| p.containers.into_iter().find(|c| c.name == "postgres"))
            .and_then(|c| c.image);
        if let Some(running) = running
            && let Some(major) = postgres::major_version(&running)
            && major != wanted
        {
            return Ok(Some(format!(
                "database.managed.image {wanted_image} is PostgreSQL {wanted}, but {name} runs {running} \
                 (PostgreSQL {major}): a major version change needs pg_upgrade or a dump and restore; \
                 set the image back to PostgreSQL {major}"
            )));
        }
    }
    Ok(None)
}

/// Adds the data finalizer when the deletion policy is `Delete`, removes it otherwise.
async fn sync_finalizer(obj: &DynamicObject, shop: &Shop, shops: &Api<DynamicObject>) -> Result<(), Error> {
    let wanted = shop.spec.database.managed.deletion_policy == DeletionPolicy::Delete;
    let present = obj.finalizers().iter().any(|f| f == FINALIZER);
    if wanted == present {
        return Ok(());
    }
    let mut finalizers: Vec<String> = obj.finalizers().iter().filter(|f| *f != FINALIZER).cloned().collect();
    if wanted {
        finalizers.push(FINALIZER.into());
    }
    set_finalizers(obj, shops, finalizers).await
}

/// Merge-patches the finalizer list, guarded by `resourceVersion` so a concurrent edit wins.
async fn set_finalizers(obj: &DynamicObject, shops: &Api<DynamicObject>, finalizers: Vec<String>) -> Result<(), Error> {
    let name = obj.name_any();
    let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": obj.resource_version()}});
    shops
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(kube_err("patch", "Shop", &name))?;
    Ok(())
}

/// A Shop is being deleted: with `Delete`, remove the claims and database credentials, then
/// release the finalizer. Children with owner references are garbage-collected by Kubernetes.
async fn cleanup(obj: &DynamicObject, ns: &str, shops: &Api<DynamicObject>, ctx: &Context) -> Result<Action, Error> {
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let name = obj.name_any();
    // Read leniently: a Shop whose spec no longer parses must still be deletable. Its
    // database section is read with the CRD's own types; one that does not parse either
    // reads as the default, which keeps the data (`Retain`).
    let database: DatabaseSpec = obj
        .data
        .pointer("/spec/database")
        .and_then(|section| serde_json::from_value(section.clone()).ok())
        .unwrap_or_default();
    if database.managed.deletion_policy == DeletionPolicy::Delete {
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), ns);
        let mut deleted = Vec::new();
        // The databases' claims, and the managed NATS's (its JetStream store) with them.
        for selector in [database_claims_selector(&name), events_claims_selector(&name)] {
            let list = claims.list(&ListParams::default().labels(&selector)).await.map_err(kube_err(
                "list",
                "PersistentVolumeClaim",
                &selector,
            ))?;
            for claim in list {
                if delete_if_present(&claims, &claim.name_any()).await? {
                    deleted.push(claim.name_any());
                }
            }
        }
        let secrets_api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
        let named = Shop { metadata: obj.metadata.clone(), spec: ShopSpec::default(), status: None };
        for service in Microservice::ALL {
            delete_if_present(&secrets_api, &names::db_secret(&named, service)).await?;
        }
        delete_if_present(&secrets_api, &names::admin_secret(&named)).await?;
        if database::backend(&database).deletes_clusters() {
            let clusters: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &cnpg::api_resource());
            for service in Microservice::ALL {
                let name = names::db(&named, service);
                if delete_named(&clusters, "Cluster", &name).await? {
                    deleted.push(format!("Cluster {name}"));
                }
            }
        }
        let note = format!(
            "deletionPolicy Delete: deleted claims [{}], the database credentials and the admin password",
            deleted.join(", ")
        );
        info!(shop = %key_of(obj), "{note}");
        ctx.publish(obj, EventType::Normal, "DataDeleted", "Delete", note).await;
    }
    let finalizers = obj.finalizers().iter().filter(|f| *f != FINALIZER).cloned().collect();
    set_finalizers(obj, shops, finalizers).await?;
    Ok(Action::await_change())
}

async fn delete_if_present<K>(api: &Api<K>, name: &str) -> Result<bool, Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    delete_named(api, &K::kind(&()), name).await
}

/// Deletes `name` (of `kind`, for errors); `false` when it was already gone. Works for typed
/// and dynamic objects alike.
async fn delete_named<K>(api: &Api<K>, kind: &str, name: &str) -> Result<bool, Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(source) => Err(kube_err("delete", kind, name)(source)),
    }
}

/// Server-side apply under the operator's field manager; `force` takes over fields another
/// manager (e.g. `kubectl edit`) changed, which is how drift is repaired.
async fn apply<K>(api: &Api<K>, object: &K) -> Result<K, Error>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    apply_as(api, &K::kind(&()), object).await
}

/// [`apply`] for any object, typed or dynamic (CloudNativePG's Cluster, the HTTPRoute), with
/// its `kind` named for errors.
async fn apply_as<K>(api: &Api<K>, kind: &str, object: &K) -> Result<K, Error>
where
    K: Resource + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    api.patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(object))
        .await
        .map_err(kube_err("apply", kind, &name))
}

/// Ensures every generated Secret exists with every key, never changing an existing value.
/// Returns the Secrets' versions and how many there are.
async fn ensure_secrets(
    obj: &DynamicObject,
    valid: ValidShop<'_>,
    ns: &str,
    ctx: &Context,
) -> Result<(SecretVersions, usize), Error> {
    let shop = valid.shop();
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let plans = secrets::secret_plans(valid);
    let mut versions = SecretVersions::new();
    let (mut created, mut completed) = (Vec::new(), Vec::new());
    for plan in &plans {
        let existing = api.get_opt(&plan.name).await.map_err(kube_err("get", "Secret", &plan.name))?;
        let (data, not_utf8) = existing.as_ref().map(secrets::string_data).unwrap_or_default();
        if !not_utf8.is_empty() {
            return Err(Error::ForeignSecret(plan.name.clone(), not_utf8.join(", ")));
        }
        let done = secrets::complete(shop, plan.kind, &data, ctx.secret_source.as_ref())
            .map_err(|source| Error::Secret { name: plan.name.clone(), source })?;
        let version = match &existing {
            Some(secret) if done.added.is_empty() => secret.resource_version(),
            _ => {
                let applied = apply(&api, &secrets::secret(shop, plan, &done.data)).await?;
                if existing.is_some() {
                    completed.push(format!("{} (added {})", plan.name, done.added.join(", ")));
                } else {
                    created.push(plan.name.clone());
                }
                applied.resource_version()
            }
        };
        versions.insert(plan.name.clone(), version.unwrap_or_default());
    }
    if !created.is_empty() {
        let note = format!("generated Secrets: {}", created.join(", "));
        ctx.publish(obj, EventType::Normal, "SecretsCreated", "Create", note).await;
    }
    if !completed.is_empty() {
        let note = format!("added missing keys, kept existing values: {}", completed.join("; "));
        ctx.publish(obj, EventType::Normal, "SecretsCompleted", "Update", note).await;
    }
    Ok((versions, plans.len()))
}

/// The user's Secrets a reconcile reads (database URIs, the SMTP login and CA, the NATS URL),
/// each fetched once however many references name it. They are the user's: read, never written.
struct UserSecrets {
    api: Api<Secret>,
    seen: BTreeMap<String, Option<Secret>>,
}

impl UserSecrets {
    fn new(ctx: &Context, ns: &str) -> Self {
        Self { api: Api::namespaced(ctx.client.clone(), ns), seen: BTreeMap::new() }
    }

    /// Checks that Secret `name` holds every key of `keys`: records its version (so a change rolls
    /// the pods that read it), or returns the problem, starting with `label`.
    async fn check(
        &mut self,
        label: &str,
        name: &str,
        keys: &[&str],
        versions: &mut SecretVersions,
    ) -> Result<Option<String>, Error> {
        if !self.seen.contains_key(name) {
            let secret = self.api.get_opt(name).await.map_err(kube_err("get", "Secret", name))?;
            self.seen.insert(name.to_owned(), secret);
        }
        let Some(secret) = self.seen.get(name).and_then(Option::as_ref) else {
            return Ok(Some(format!("{label} Secret {name} not found")));
        };
        let missing: Vec<&str> =
            keys.iter().copied().filter(|key| !secret.data.as_ref().is_some_and(|d| d.contains_key(*key))).collect();
        if !missing.is_empty() {
            return Ok(Some(format!("{label} Secret {name} has no key {}", missing.join(" and no key "))));
        }
        versions.insert(name.to_owned(), secret.resource_version().unwrap_or_default());
        Ok(None)
    }
}

/// In external mode, checks that the Secret and key of each service that runs exist, and records the
/// Secrets' versions so a changed URI rolls the service.
async fn check_external_databases(
    shop: &Shop,
    secrets: &mut UserSecrets,
    versions: &mut SecretVersions,
) -> Result<Vec<String>, Error> {
    if !database::of(shop).uris_from_user_secrets() {
        return Ok(Vec::new());
    }
    let mut problems = Vec::new();
    for service in Microservice::enabled(shop) {
        let Some(reference) = service.database_uri(shop) else { continue };
        let label = format!("{}:", service.name());
        problems.extend(secrets.check(&label, &reference.name, &[&reference.key], versions).await?);
    }
    Ok(problems)
}

/// The user's Secrets the services read besides the database URIs: the SMTP relay's login and
/// CA, and the external NATS URL.
async fn check_service_secrets(
    shop: &Shop,
    secrets: &mut UserSecrets,
    versions: &mut SecretVersions,
) -> Result<Vec<String>, Error> {
    let mut wanted: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    if let Some(name) = shop.spec.notifications.smtp.as_ref().and_then(|s| s.credentials_secret.as_deref()) {
        wanted.push(("SMTP credentials", name, vec![SMTP_USERNAME_KEY, SMTP_PASSWORD_KEY]));
    }
    if let Some(ca) = shop.spec.notifications.smtp.as_ref().and_then(|s| s.ca_secret.as_ref()) {
        wanted.push(("SMTP CA", &ca.name, vec![&ca.key]));
    }
    if shop.spec.events.mode == EventsMode::External
        && let Some(secret) = shop.spec.events.external.as_ref().and_then(|e| e.url_secret.as_ref())
    {
        wanted.push(("NATS URL", &secret.name, vec![&secret.key]));
    }
    let mut problems = Vec::new();
    for (label, name, keys) in wanted {
        problems.extend(secrets.check(label, name, &keys, versions).await?);
    }
    Ok(problems)
}

/// Whether a workload's status describes its current spec: right after an apply that changed
/// the spec, `status` still tells about the previous generation (ready replicas of old pods).
fn observed(generation: Option<i64>, observed_generation: Option<i64>) -> bool {
    match (generation, observed_generation) {
        (Some(generation), Some(observed)) => observed >= generation,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// The Pod counts of a Deployment's or StatefulSet's status.
#[derive(Debug, Clone, Copy)]
struct Pods {
    /// Every Pod the workload has, of any template, terminating ones included.
    total: i32,
    ready: i32,
    /// Pods of the current template.
    updated: i32,
}

/// How many ready Pods of the current template a workload has, for the Shop's status. Nothing
/// counts before the workload controller has seen the current generation (its status still
/// describes the old pods). Old pods of a rollout do not count, and while any of them remains
/// (a surge Pod's predecessor not yet gone) the workload stays one short of `desired`, however
/// many new pods are ready: a Shop is not Ready in the middle of a rollout.
fn current_ready(observed: bool, pods: Pods, desired: i32) -> i32 {
    if !observed {
        return 0;
    }
    let current = pods.ready.min(pods.updated);
    if pods.total > pods.updated { current.min(desired - 1).max(0) } else { current }
}

fn component_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/name")).cloned().unwrap_or_default()
}

/// Applies databases, Services and Deployments (in that order) and reads their readiness from
/// the API server's answers.
async fn apply_workloads(built: &build::Workloads, ns: &str, ctx: &Context) -> Result<Vec<ComponentStatus>, Error> {
    let mut components = Vec::new();
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.config_maps {
        apply(&config_maps, desired).await?;
    }
    // Policies before the pods they protect, so no pod starts unprotected.
    let policies: Api<NetworkPolicy> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.network_policies {
        apply(&policies, desired).await?;
    }
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.disruption_budgets {
        apply(&budgets, desired).await?;
    }
    let ingresses: Api<Ingress> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.ingresses {
        apply(&ingresses, desired).await?;
    }
    let routes: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &gateway::api_resource());
    for desired in &built.http_routes {
        let name = desired.name_any();
        routes.patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(desired)).await.map_err(kube_err(
            "apply",
            "HTTPRoute",
            &name,
        ))?;
    }
    for desired in &built.monitors {
        let monitors: Api<DynamicObject> =
            Api::namespaced_with(ctx.client.clone(), ns, &monitoring::resource_of(desired));
        apply_as(&monitors, monitoring::kind_of(desired), desired).await?;
    }
    let autoscalers: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.autoscalers {
        apply(&autoscalers, desired).await?;
    }
    let statefulsets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.statefulsets {
        let applied = apply(&statefulsets, desired).await?;
        let status = applied.status.clone().unwrap_or_default();
        let desired_replicas = desired.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let ready = current_ready(
            observed(applied.metadata.generation, status.observed_generation),
            Pods {
                total: status.replicas,
                ready: status.ready_replicas.unwrap_or(0),
                updated: status.updated_replicas.unwrap_or(0),
            },
            desired_replicas,
        );
        components.push(ComponentStatus {
            name: component_of(&desired.metadata),
            kind: WorkloadKind::StatefulSet,
            desired_replicas,
            ready_replicas: ready,
        });
    }
    let services: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.services {
        apply(&services, desired).await?;
    }
    let clusters: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &cnpg::api_resource());
    for desired in &built.clusters {
        let applied = apply_as(&clusters, "Cluster", desired).await?;
        components.push(ComponentStatus {
            name: component_of(&desired.metadata),
            kind: WorkloadKind::Cluster,
            desired_replicas: desired.data.pointer("/spec/instances").and_then(|v| v.as_i64()).unwrap_or(1) as i32,
            ready_replicas: cnpg::ready_instances(&applied),
        });
    }
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.deployments {
        let applied = apply(&deployments, desired).await?;
        let status = applied.status.clone().unwrap_or_default();
        // Without `replicas` in what we applied (an HPA owns the count), the count the API server
        // holds is the one to wait for.
        let wanted = desired.spec.as_ref().and_then(|s| s.replicas);
        let current = applied.spec.as_ref().and_then(|s| s.replicas);
        let desired_replicas = wanted.or(current).unwrap_or(1);
        let ready = current_ready(
            observed(applied.metadata.generation, status.observed_generation),
            Pods {
                total: status.replicas.unwrap_or(0),
                ready: status.ready_replicas.unwrap_or(0),
                updated: status.updated_replicas.unwrap_or(0),
            },
            desired_replicas,
        );
        components.push(ComponentStatus {
            name: component_of(&desired.metadata),
            kind: WorkloadKind::Deployment,
            desired_replicas,
            ready_replicas: ready,
        });
    }
    Ok(components)
}

/// Deletes the children this operator made for this Shop that the spec no longer wants (Jaeger
/// or the load generator switched off, the storefront disabled, managed databases after a switch
/// to external), found by label and controller owner, so nothing depends on an earlier status.
/// Secrets and claims are not listed: credentials and data are only deleted by the finalizer.
async fn prune(
    obj: &DynamicObject,
    shop: &Shop,
    built: &build::Workloads,
    ns: &str,
    ctx: &Context,
) -> Result<(), Error> {
    let wanted = built.names();
    let selector = owned_children_selector(&shop.name_any());
    let params = ListParams::default().labels(&selector);
    let mut removed = Vec::new();
    removed.extend(prune_kind::<Deployment>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<StatefulSet>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<Service>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<ConfigMap>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<NetworkPolicy>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<PodDisruptionBudget>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<Ingress>(ctx, ns, &params, shop, &wanted).await?);
    removed.extend(prune_kind::<HorizontalPodAutoscaler>(ctx, ns, &params, shop, &wanted).await?);
    let routes: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &gateway::api_resource());
    removed.extend(prune_listed(&routes, "HTTPRoute", &params, shop, &wanted).await?);
    for kind in monitoring::KINDS {
        let Some(resource) = monitoring::api_resource(kind) else { continue };
        let monitors: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &resource);
        removed.extend(prune_listed(&monitors, monitoring::kind_name(kind), &params, shop, &wanted).await?);
    }
    if !removed.is_empty() {
        let note = format!("removed objects no longer in the spec: {}", removed.join(", "));
        ctx.publish(obj, EventType::Normal, "Deleted", "Delete", note).await;
    }
    Ok(())
}

/// Deletes the objects of one kind that carry the Shop's labels and controller owner reference
/// but are not wanted; returns `Kind/name` of each.
async fn prune_kind<K>(
    ctx: &Context,
    ns: &str,
    params: &ListParams,
    shop: &Shop,
    wanted: &BTreeSet<(&'static str, String)>,
) -> Result<Vec<String>, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    prune_listed(&Api::<K>::namespaced(ctx.client.clone(), ns), &K::kind(&()), params, shop, wanted).await
}

/// [`prune_kind`] over any API, typed or dynamic. An API the cluster does not serve (the list
/// answers 404: the Gateway API's CRDs are optional) has nothing to prune.
async fn prune_listed<K>(
    api: &Api<K>,
    kind: &str,
    params: &ListParams,
    shop: &Shop,
    wanted: &BTreeSet<(&'static str, String)>,
) -> Result<Vec<String>, Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let list = match api.list(params).await {
        Ok(list) => list,
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(Vec::new()),
        Err(source) => {
            return Err(kube_err("list", kind, &params.label_selector.clone().unwrap_or_default())(source));
        }
    };
    let uid = shop.uid();
    let mut removed = Vec::new();
    for object in list {
        let name = object.name_any();
        let owned =
            object.owner_references().iter().any(|o| o.controller == Some(true) && Some(&o.uid) == uid.as_ref());
        if owned && !wanted.iter().any(|(k, n)| *k == kind && *n == name) && delete_named(api, kind, &name).await? {
            removed.push(format!("{kind}/{name}"));
        }
    }
    Ok(removed)
}

/// Events for new components and for a newly applied generation.
async fn announce_changes(obj: &DynamicObject, ctx: &Context, previous: Option<&ShopStatus>, status: &ShopStatus) {
    let known: BTreeSet<&str> =
        previous.map(|p| p.components.iter().map(|c| c.name.as_str()).collect()).unwrap_or_default();
    let new: Vec<&str> = status.components.iter().map(|c| c.name.as_str()).filter(|n| !known.contains(n)).collect();
    if !new.is_empty() {
        let note = format!("created {}", new.join(", "));
        ctx.publish(obj, EventType::Normal, "Created", "Create", note).await;
    } else if previous.is_some_and(|p| p.observed_generation != status.observed_generation) {
        let note = format!("applied generation {}", status.observed_generation.unwrap_or_default());
        ctx.publish(obj, EventType::Normal, "Updated", "Update", note).await;
    }
}

/// Writes status with server-side apply on the status subresource, only when it changed.
async fn write_status(
    shops: &Api<DynamicObject>,
    obj: &DynamicObject,
    previous: Option<&ShopStatus>,
    status: &ShopStatus,
) -> Result<(), Error> {
    if previous == Some(status) {
        return Ok(());
    }
    let name = obj.name_any();
    let patch = json!({
        "apiVersion": Shop::api_version(&()),
        "kind": Shop::kind(&()),
        "status": status,
    });
    shops.patch_status(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await.map_err(kube_err(
        "apply",
        "Shop/status",
        &name,
    ))?;
    Ok(())
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
