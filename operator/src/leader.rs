//! Leader election with a `coordination.k8s.io/v1` Lease, so the operator can run two replicas:
//! only the holder of the Lease reconciles; the other stands by and takes over once the holder
//! has not renewed it for a lease duration (the holder crashed or was partitioned away).
//!
//! The same protocol as client-go's `leaderelection`: the holder renews `renewTime` every
//! [`LeaseConfig::renew_every`]; a candidate takes an expired Lease over with a patch guarded by
//! `resourceVersion`, so of two candidates exactly one wins; a holder that cannot renew within
//! its renew deadline stops reconciling (the process exits and restarts as a candidate), and a
//! holder that stops gracefully releases the Lease so the other takes over at once.
//!
//! The renew deadline is shorter than the lease duration and bounds every renewal: a request to
//! an API server that stopped answering is abandoned at the deadline, so a cut-off leader stops
//! before a standby can see the Lease expire (two leaders never reconcile at once).

use std::time::Duration;

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
    jiff::Timestamp,
};
use kube::{
    Client,
    api::{Api, Patch, PatchParams, PostParams},
};
use serde_json::json;
use tracing::{info, warn};

/// Where the Lease is and who we are.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Lease name (`microshop-operator`).
    pub name: String,
    /// The operator's namespace (`POD_NAMESPACE`).
    pub namespace: String,
    /// This replica's identity (`POD_NAME`).
    pub identity: String,
    /// How long a Lease stays valid without renewal.
    pub duration: Duration,
    /// How often the holder renews (well below `duration`).
    pub renew_every: Duration,
    /// How long after its last successful renewal the holder gives up leadership, even while a
    /// renewal is still waiting for an answer. Below `duration`, so the holder has stopped
    /// before any standby may take the Lease over; the gap is the time left to stop reconciling.
    pub renew_deadline: Duration,
}

impl LeaseConfig {
    /// From `POD_NAMESPACE` and `POD_NAME` (set by the manifests with the downward API);
    /// `None` outside a cluster, where leader election is off.
    pub fn from_env() -> Option<Self> {
        let namespace = std::env::var("POD_NAMESPACE").ok().filter(|s| !s.is_empty())?;
        let identity = std::env::var("POD_NAME").ok().filter(|s| !s.is_empty())?;
        Some(Self {
            name: "microshop-operator".into(),
            namespace,
            identity,
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(3),
            renew_deadline: Duration::from_secs(10),
        })
    }

    /// How long a leader that lost its Lease may take to stop its controller before it exits
    /// anyway: half the time between the renew deadline and the Lease's expiry, so the process
    /// is gone with the other half to spare before a standby can take over.
    pub fn stop_grace(&self) -> Duration {
        self.duration.saturating_sub(self.renew_deadline) / 2
    }
}

/// What a replica does with the Lease as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// There is no Lease: create it, holding it.
    Create,
    /// We hold it: renew it.
    Renew,
    /// Someone else held it and let it expire (or released it): take it over.
    TakeOver,
    /// Someone else holds it.
    Wait { holder: String },
}

/// Decides from the Lease's spec (pure, so every case is a unit test).
pub fn decide(spec: Option<&LeaseSpec>, me: &str, now: Timestamp) -> Decision {
    let Some(spec) = spec else { return Decision::Create };
    let holder = spec.holder_identity.clone().unwrap_or_default();
    if holder == me {
        return Decision::Renew;
    }
    let duration_ms = i64::from(spec.lease_duration_seconds.unwrap_or(0)) * 1000;
    let expires = spec.renew_time.as_ref().map(|t| t.0.as_millisecond() + duration_ms).unwrap_or(i64::MIN);
    if holder.is_empty() || expires < now.as_millisecond() { Decision::TakeOver } else { Decision::Wait { holder } }
}

/// Now as the Lease's time type (from the system clock through chrono, which the operator uses
/// for its other timestamps).
fn now() -> Timestamp {
    Timestamp::from_millisecond(chrono::Utc::now().timestamp_millis()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Acquires, renews and releases the Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaseConfig,
}

impl LeaderElector {
    pub fn new(client: Client, config: LeaseConfig) -> Self {
        Self { api: Api::namespaced(client, &config.namespace), config }
    }

    /// One round of the protocol; `Ok(true)` when this replica holds the Lease afterwards.
    /// A lost race (409 Conflict or 409 AlreadyExists) is `Ok(false)`, not an error.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let current = self.api.get_opt(&self.config.name).await?;
        let spec = current.as_ref().and_then(|l| l.spec.as_ref());
        let now = now();
        let duration = i32::try_from(self.config.duration.as_secs()).unwrap_or(15);
        let result = match decide(spec, &self.config.identity, now) {
            Decision::Wait { .. } => return Ok(false),
            Decision::Create => {
                let lease = Lease {
                    metadata: ObjectMeta { name: Some(self.config.name.clone()), ..ObjectMeta::default() },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.config.identity.clone()),
                        lease_duration_seconds: Some(duration),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                self.api.create(&PostParams::default(), &lease).await.map(|_| ())
            }
            decision => {
                let version = current.as_ref().and_then(|l| l.metadata.resource_version.clone());
                let mut spec = json!({"holderIdentity": self.config.identity, "leaseDurationSeconds": duration,
                    "renewTime": MicroTime(now)});
                if decision == Decision::TakeOver {
                    let transitions = current.as_ref().and_then(|l| l.spec.as_ref()?.lease_transitions).unwrap_or(0);
                    spec["acquireTime"] = json!(MicroTime(now));
                    spec["leaseTransitions"] = json!(transitions + 1);
                }
                // resourceVersion makes the patch fail with 409 if the Lease changed since we read it.
                let patch = json!({"metadata": {"resourceVersion": version}, "spec": spec});
                self.api.patch(&self.config.name, &PatchParams::default(), &Patch::Merge(&patch)).await.map(|_| ())
            }
        };
        match result {
            Ok(()) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Waits until this replica holds the Lease; returns when the winning attempt started (the
    /// Lease's renewTime is no earlier), or `None` when `stop` resolved first.
    pub async fn acquire(&self, stop: impl std::future::Future<Output = ()>) -> Option<tokio::time::Instant> {
        tokio::pin!(stop);
        loop {
            let started = tokio::time::Instant::now();
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    info!(identity = %self.config.identity, "acquired the leader Lease");
                    return Some(started);
                }
                Ok(false) => {}
                Err(error) => warn!(%error, "leader election: could not read or write the Lease"),
            }
            tokio::select! {
                _ = &mut stop => return None,
                _ = tokio::time::sleep(self.config.renew_every) => {}
            }
        }
    }

    /// Renews the Lease until it is lost: another replica holds it, or no renewal succeeded
    /// within the renew deadline (a renewal still in flight at the deadline is abandoned).
    /// Then returns: leadership is lost, stop reconciling.
    ///
    /// `renewed` is when the last successful renewal (or the acquisition) started: the deadline
    /// counts from there because the renewTime that standbys read was taken no earlier.
    pub async fn hold(&self, renewed: tokio::time::Instant) {
        let mut deadline = renewed + self.config.renew_deadline;
        loop {
            tokio::time::sleep_until((tokio::time::Instant::now() + self.config.renew_every).min(deadline)).await;
            let started = tokio::time::Instant::now();
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => deadline = started + self.config.renew_deadline,
                Ok(Ok(false)) => {
                    warn!("leader election: another replica holds the Lease");
                    return;
                }
                Ok(Err(error)) => warn!(%error, "leader election: renewing the Lease failed"),
                Err(_) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                warn!(
                    deadline_seconds = self.config.renew_deadline.as_secs(),
                    "leader election: the Lease was not renewed within the renew deadline"
                );
                return;
            }
        }
    }

    /// Gives the Lease up (graceful stop) so the other replica takes over without waiting.
    pub async fn release(&self) {
        let patch = json!({"spec": {"holderIdentity": null, "leaseDurationSeconds": 1}});
        let current = self.api.get_opt(&self.config.name).await.ok().flatten();
        let ours = current.and_then(|l| l.spec?.holder_identity).is_some_and(|h| h == self.config.identity);
        if ours
            && let Err(error) = self.api.patch(&self.config.name, &PatchParams::default(), &Patch::Merge(&patch)).await
        {
            warn!(%error, "leader election: could not release the Lease");
        }
    }
}

#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;
