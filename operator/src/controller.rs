//! The running controller: watches Shops and their children and drives [`crate::reconcile`].

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    core::v1::{ConfigMap, Secret, Service},
};
use kube::{
    Client,
    api::{Api, DynamicObject, ListParams},
    runtime::{Controller, watcher},
};
use tracing::{debug, info, warn};

use crate::build::labels::MANAGED_BY_SELECTOR;
use crate::metrics::Health;
use crate::reconcile::{Context, error_policy, reconcile, shop_resource};

/// Runs the controller until `shutdown` resolves; in-flight reconciles finish first.
///
/// Fails early when Shops cannot be listed (CRD not installed, or RBAC missing), so the pod
/// never reports ready in a cluster where it cannot work.
pub async fn run(
    client: Client,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), kube::Error> {
    let resource = shop_resource();
    let shops = Api::<DynamicObject>::all_with(client.clone(), &resource);
    shops.list(&ListParams::default().limit(1)).await?;
    // Children are watched by label so the operator does not cache every Secret of the cluster.
    let children = watcher::Config::default().labels(MANAGED_BY_SELECTOR);
    let context = Arc::new(Context::new(client.clone(), health.clone()));
    health.set_ready(true);
    info!("controller started");
    Controller::new_with(shops, watcher::Config::default(), resource)
        .owns(Api::<Deployment>::all(client.clone()), children.clone())
        .owns(Api::<StatefulSet>::all(client.clone()), children.clone())
        .owns(Api::<Service>::all(client.clone()), children.clone())
        .owns(Api::<ConfigMap>::all(client.clone()), children.clone())
        .owns(Api::<Secret>::all(client), children)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            match result {
                Ok((shop, action)) => debug!(shop = %shop, ?action, "reconciled"),
                Err(error) => warn!(%error, "reconcile error"),
            }
        })
        .await;
    health.set_ready(false);
    info!("controller stopped");
    Ok(())
}
