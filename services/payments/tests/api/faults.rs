//! The processor fault flags, switched while the service runs: they override the configured
//! simulation while on, and the configured behaviour returns when they are off.

use std::time::{Duration, Instant};

use payments::{
    config::Simulation,
    simulation::{FAILURE_RATE_FLAG, LATENCY_FLAG},
};
use serde_json::json;
use shopkit::testing::{FaultFile, eventually};
use uuid::Uuid;

use crate::helpers::{TestApp, charge, problem, spawn_app_with_faults};

const SWITCH_WITHIN: Duration = Duration::from_secs(5);
const GOOD_CARD: &str = "4242424242424242";

/// Status of a fresh charge (new order, new idempotency key).
async fn charge_status(app: &TestApp) -> u16 {
    let key = Uuid::new_v4().to_string();
    app.pay(Some(&key), &charge(Uuid::new_v4(), 1999, GOOD_CARD)).await.status().as_u16()
}

#[tokio::test]
async fn failure_rate_flag_makes_every_charge_fail_until_it_is_off() {
    let flags = FaultFile::new();
    let app = spawn_app_with_faults(Simulation::default(), flags.faults()).await;
    assert_eq!(charge_status(&app).await, 201, "charges succeed before the switch");

    flags.set(&[(FAILURE_RATE_FLAG, json!(1.0))]);
    eventually(SWITCH_WITHIN, "charges fail", || async { charge_status(&app).await == 503 }).await;
    let key = Uuid::new_v4().to_string();
    problem(app.pay(Some(&key), &charge(Uuid::new_v4(), 1999, GOOD_CARD)).await, 503).await;

    flags.set(&[(FAILURE_RATE_FLAG, json!(0))]);
    eventually(SWITCH_WITHIN, "charges succeed again", || async { charge_status(&app).await == 201 }).await;
}

#[tokio::test]
async fn latency_flag_overrides_the_configured_latency_while_on() {
    let flags = FaultFile::new();
    let configured = Simulation { latency: Duration::ZERO, failure_rate: 0.0 };
    let app = spawn_app_with_faults(configured, flags.faults()).await;
    let delay = Duration::from_millis(1500);
    let timed_charge = || async {
        let started = Instant::now();
        assert_eq!(charge_status(&app).await, 201, "slow, not failed");
        started.elapsed()
    };

    flags.set(&[(LATENCY_FLAG, json!(delay.as_millis() as u64))]);
    eventually(SWITCH_WITHIN, "charges take the injected latency", || async { timed_charge().await >= delay }).await;

    flags.set(&[]);
    eventually(SWITCH_WITHIN, "charges are fast again", || async { timed_charge().await < delay }).await;
}
