//! Leader election: the decision table, and the protocol against the fake API server.

use serde_json::{Value, json};

use super::*;
use crate::fixtures::FakeApiServer;

const LEASE_PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/microshop-system/leases/microshop-operator";

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).expect("valid time")
}

fn spec(holder: &str, renewed: i64, duration: i32) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.into()).filter(|h: &String| !h.is_empty()),
        renew_time: Some(MicroTime(ts(renewed))),
        lease_duration_seconds: Some(duration),
        ..LeaseSpec::default()
    }
}

#[test]
fn decisions() {
    let now = ts(1_000);
    let cases = [
        ("no lease", None, Decision::Create),
        ("ours", Some(spec("a", 990, 15)), Decision::Renew),
        ("ours, even expired", Some(spec("a", 900, 15)), Decision::Renew),
        ("theirs, fresh", Some(spec("b", 990, 15)), Decision::Wait { holder: "b".into() }),
        ("theirs, expired", Some(spec("b", 980, 15)), Decision::TakeOver),
        ("released", Some(spec("", 999, 1)), Decision::TakeOver),
    ];
    for (what, lease, expected) in cases {
        assert_eq!(decide(lease.as_ref(), "a", now), expected, "{what}");
    }
}

fn elector(client: kube::Client, identity: &str) -> LeaderElector {
    LeaderElector::new(
        client,
        LeaseConfig {
            name: "microshop-operator".into(),
            namespace: "microshop-system".into(),
            identity: identity.into(),
            duration: Duration::from_secs(15),
            renew_every: Duration::from_millis(10),
            renew_deadline: Duration::from_secs(10),
        },
    )
}

fn lease(holder: &str, renew_time: &str, transitions: i32) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "microshop-operator", "namespace": "microshop-system"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": renew_time,
                 "acquireTime": renew_time, "leaseTransitions": transitions}})
}

#[tokio::test]
async fn the_first_replica_creates_the_lease_and_the_second_waits() {
    let (client, fake) = FakeApiServer::start();
    let (a, b) = (elector(client.clone(), "pod-a"), elector(client, "pod-b"));

    assert!(a.try_acquire_or_renew().await.expect("a"), "no Lease: a creates it");
    assert_eq!(fake.get(LEASE_PATH).expect("lease")["spec"]["holderIdentity"], "pod-a");
    assert!(!b.try_acquire_or_renew().await.expect("b"), "a holds a fresh Lease: b waits");
    assert!(a.try_acquire_or_renew().await.expect("a renews"));
    assert_eq!(fake.get(LEASE_PATH).expect("lease")["spec"]["holderIdentity"], "pod-a");
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_a_released_one_at_once() {
    let (client, fake) = FakeApiServer::start();
    fake.insert(LEASE_PATH, lease("pod-a", "2020-01-01T00:00:00.000000Z", 3));
    let b = elector(client.clone(), "pod-b");

    assert!(b.try_acquire_or_renew().await.expect("b"), "expired: b takes over");
    let stored = fake.get(LEASE_PATH).expect("lease");
    assert_eq!(stored["spec"]["holderIdentity"], "pod-b");
    assert_eq!(stored["spec"]["leaseTransitions"], 4);

    b.release().await;
    assert!(fake.get(LEASE_PATH).expect("lease")["spec"]["holderIdentity"].is_null(), "released");
    let a = elector(client, "pod-a");
    assert!(a.try_acquire_or_renew().await.expect("a"), "a released Lease is free at once");
}

#[tokio::test]
async fn a_lost_race_is_not_leadership() {
    let (client, fake) = FakeApiServer::start();
    fake.insert(LEASE_PATH, lease("pod-a", "2020-01-01T00:00:00.000000Z", 0));
    fake.fail(http::Method::PATCH, "/leases/", 409);

    let won = elector(client, "pod-b").try_acquire_or_renew().await.expect("a conflict is an answer");

    assert!(!won, "the other candidate's write came first");
}

#[tokio::test]
async fn holding_ends_when_another_replica_took_the_lease() {
    let (client, fake) = FakeApiServer::start();
    let a = elector(client, "pod-a");
    let acquired = a.acquire(std::future::pending()).await.expect("acquired");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    fake.insert(LEASE_PATH, lease("pod-b", &now, 1));

    tokio::time::timeout(Duration::from_secs(5), a.hold(acquired)).await.expect("hold returns: leadership lost");
}

/// A leader whose API server stops answering must stop before a standby may take over, i.e.
/// before a lease duration has passed since its last renewal; before the fix it waited on the
/// hung renewal forever.
#[tokio::test(start_paused = true)]
async fn a_leader_cut_off_from_the_api_server_gives_up_before_its_lease_expires() {
    let (client, fake) = FakeApiServer::start();
    let a = elector(client, "pod-a");
    let acquired = a.acquire(std::future::pending()).await.expect("acquired");
    // Renewals succeed for a second, then every Lease request hangs.
    let cut_off = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        fake.hang(http::Method::GET, "/leases/");
        fake.hang(http::Method::PATCH, "/leases/");
        tokio::time::Instant::now()
    };
    let holding = async {
        a.hold(acquired).await;
        tokio::time::Instant::now()
    };

    let (cut_at, gave_up_at) = tokio::join!(cut_off, tokio::time::timeout(Duration::from_secs(60), holding));

    let gave_up_at = gave_up_at.expect("hold must return while the renewal hangs");
    let after = gave_up_at - cut_at;
    // The last renewal started at most one renew interval (10 ms) before the cut.
    assert!(after >= Duration::from_millis(9_980), "not before the renew deadline: {after:?}");
    assert!(after < Duration::from_secs(15) - Duration::from_millis(10), "before the Lease expires: {after:?}");
}
