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
    core::v1::{PersistentVolumeClaim, Secret, Service},
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
    self, Microservice, SecretVersions,
    labels::{MANAGER, database_claims_selector},
    names,
    secrets::{self, SecretError, SecretSource, SystemSource},
};
use crate::crd::{ComponentStatus, DatabaseMode, DeletionPolicy, Phase, Shop, ShopSpec, ShopStatus};
use crate::metrics::Health;
use crate::status::{self, Observed};
use crate::validate::validate;

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
            Err(error)
        }
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
        Err(message) => return reject(obj, &shops, ctx, previous.as_ref(), &message).await,
    };
    if let Err(errors) = validate(&shop) {
        return reject(obj, &shops, ctx, previous.as_ref(), &errors.to_string()).await;
    }
    sync_finalizer(obj, &shop, &shops).await?;
    if shop.spec.paused {
        let status = status::paused(generation, previous.as_ref(), &(ctx.now)());
        write_status(&shops, obj, previous.as_ref(), &status).await?;
        return Ok(Action::await_change());
    }

    let (mut versions, secret_count) = ensure_secrets(obj, &shop, &ns, ctx).await?;
    let external_database_problems = check_external_databases(&shop, &ns, ctx, &mut versions).await?;
    let built = build::workloads(&shop, &versions);
    let components = apply_workloads(&built, &ns, ctx).await?;
    prune(obj, &shop, previous.as_ref(), &ns, ctx).await?;

    let observed = Observed { secrets: secret_count, external_database_problems, components };
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

/// Reports an invalid Shop: Degraded status with an `InvalidSpec` condition, and an Event when
/// the message is new. No requeue: only an edit of the Shop can fix it.
async fn reject(
    obj: &DynamicObject,
    shops: &Api<DynamicObject>,
    ctx: &Context,
    previous: Option<&ShopStatus>,
    message: &str,
) -> Result<Action, Error> {
    let status = status::invalid(obj.metadata.generation, message, previous, &(ctx.now)());
    if previous != Some(&status) {
        ctx.publish(obj, EventType::Warning, "InvalidSpec", "Validate", message.to_string()).await;
    }
    write_status(shops, obj, previous, &status).await?;
    Ok(Action::await_change())
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
    // Read leniently: a Shop whose spec no longer parses must still be deletable.
    let delete_data =
        obj.data.pointer("/spec/database/managed/deletionPolicy").and_then(|v| v.as_str()) == Some("Delete");
    if delete_data {
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), ns);
        let selector = database_claims_selector(&name);
        let list = claims.list(&ListParams::default().labels(&selector)).await.map_err(kube_err(
            "list",
            "PersistentVolumeClaim",
            &selector,
        ))?;
        let mut deleted = Vec::new();
        for claim in list {
            if delete_if_present(&claims, &claim.name_any()).await? {
                deleted.push(claim.name_any());
            }
        }
        let secrets_api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
        let named = Shop { metadata: obj.metadata.clone(), spec: ShopSpec::default(), status: None };
        for service in Microservice::ALL {
            delete_if_present(&secrets_api, &names::db_secret(&named, service)).await?;
        }
        let note =
            format!("deletionPolicy Delete: deleted claims [{}] and the database credentials", deleted.join(", "));
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
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(source) => Err(kube_err("delete", &K::kind(&()), name)(source)),
    }
}

/// Server-side apply under the operator's field manager; `force` takes over fields another
/// manager (e.g. `kubectl edit`) changed, which is how drift is repaired.
async fn apply<K>(api: &Api<K>, object: &K) -> Result<K, Error>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    api.patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(object)).await.map_err(kube_err(
        "apply",
        &K::kind(&()),
        &name,
    ))
}

/// Ensures every generated Secret exists with every key, never changing an existing value.
/// Returns the Secrets' versions and how many there are.
async fn ensure_secrets(
    obj: &DynamicObject,
    shop: &Shop,
    ns: &str,
    ctx: &Context,
) -> Result<(SecretVersions, usize), Error> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let plans = secrets::secret_plans(shop);
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

/// In external mode, checks that each referenced Secret and key exists, and records the
/// Secrets' versions so a changed URI rolls the service.
async fn check_external_databases(
    shop: &Shop,
    ns: &str,
    ctx: &Context,
    versions: &mut SecretVersions,
) -> Result<Vec<String>, Error> {
    if shop.spec.database.mode != DatabaseMode::External {
        return Ok(Vec::new());
    }
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let mut seen: BTreeMap<String, Option<Secret>> = BTreeMap::new();
    let mut problems = Vec::new();
    for service in Microservice::ALL {
        let Some(reference) = service.database_uri(shop) else { continue };
        if !seen.contains_key(&reference.name) {
            let secret = api.get_opt(&reference.name).await.map_err(kube_err("get", "Secret", &reference.name))?;
            seen.insert(reference.name.clone(), secret);
        }
        match seen.get(&reference.name).and_then(Option::as_ref) {
            None => problems.push(format!("{}: Secret {} not found", service.name(), reference.name)),
            Some(secret) if !secret.data.as_ref().is_some_and(|d| d.contains_key(&reference.key)) => {
                problems.push(format!("{}: Secret {} has no key {}", service.name(), reference.name, reference.key))
            }
            Some(secret) => {
                versions.insert(reference.name.clone(), secret.resource_version().unwrap_or_default());
            }
        }
    }
    Ok(problems)
}

fn component_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/name")).cloned().unwrap_or_default()
}

/// Applies databases, Services and Deployments (in that order) and reads their readiness from
/// the API server's answers.
async fn apply_workloads(built: &build::Workloads, ns: &str, ctx: &Context) -> Result<Vec<ComponentStatus>, Error> {
    let mut components = Vec::new();
    let statefulsets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.statefulsets {
        let applied = apply(&statefulsets, desired).await?;
        let status = applied.status.clone().unwrap_or_default();
        components.push(ComponentStatus {
            name: component_of(&desired.metadata),
            kind: "StatefulSet".into(),
            desired_replicas: desired.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready_replicas: status.ready_replicas.unwrap_or(0),
        });
    }
    let services: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.services {
        apply(&services, desired).await?;
    }
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
    for desired in &built.deployments {
        let applied = apply(&deployments, desired).await?;
        let status = applied.status.clone().unwrap_or_default();
        // Pods of the current template that are ready: old pods of a rollout do not count.
        let ready = status.ready_replicas.unwrap_or(0).min(status.updated_replicas.unwrap_or(0));
        components.push(ComponentStatus {
            name: component_of(&desired.metadata),
            kind: "Deployment".into(),
            desired_replicas: desired.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready_replicas: ready,
        });
    }
    Ok(components)
}

/// Deletes workloads the previous status reported that the spec no longer wants (Jaeger turned
/// off, managed databases after a switch to external). Claims and credentials are kept.
async fn prune(
    obj: &DynamicObject,
    shop: &Shop,
    previous: Option<&ShopStatus>,
    ns: &str,
    ctx: &Context,
) -> Result<(), Error> {
    let wanted: BTreeSet<String> = build::components(shop).into_iter().map(|c| c.0).collect();
    let stale: Vec<&ComponentStatus> =
        previous.map(|p| p.components.iter().filter(|c| !wanted.contains(&c.name)).collect()).unwrap_or_default();
    if stale.is_empty() {
        return Ok(());
    }
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
    let statefulsets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
    let services: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    for component in &stale {
        let name = format!("{}-{}", shop.name_any(), component.name);
        if component.kind == "StatefulSet" {
            delete_if_present(&statefulsets, &name).await?;
        } else {
            delete_if_present(&deployments, &name).await?;
        }
        delete_if_present(&services, &name).await?;
    }
    let removed: Vec<&str> = stale.iter().map(|c| c.name.as_str()).collect();
    let note = format!("removed components no longer in the spec: {}", removed.join(", "));
    ctx.publish(obj, EventType::Normal, "Deleted", "Delete", note).await;
    Ok(())
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
