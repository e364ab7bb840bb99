//! Fault flags switched while the service runs: each changes behaviour within 5 s, and
//! switching it off restores the service.

use std::time::{Duration, Instant};

use products::api::{SEARCH_DELAY_FLAG, UNAVAILABLE_FLAG};
use serde_json::json;
use shopkit::testing::{FaultFile, eventually};

use crate::helpers::{problem, spawn_app_with_faults};

/// The most a flag switch may take to show.
const SWITCH_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test]
async fn products_unavailable_answers_503_on_the_api_while_health_still_answers() {
    let flags = FaultFile::new();
    let app = spawn_app_with_faults(flags.faults()).await;
    assert_eq!(app.search(&[]).await.status(), 200, "healthy before the switch");

    flags.set(&[(UNAVAILABLE_FLAG, json!(true))]);
    eventually(SWITCH_WITHIN, "products answers 503", || async { app.search(&[]).await.status() == 503 }).await;
    let body = problem(app.get_product(&uuid::Uuid::new_v4().to_string()).await, 503).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains(UNAVAILABLE_FLAG), "{body}");
    for probe in ["/health/live", "/health/ready", "/metrics"] {
        let status = app.client.get(app.url(probe)).send().await.expect("probe").status();
        assert_eq!(status, 200, "{probe} keeps answering during the outage");
    }

    flags.set(&[]);
    eventually(SWITCH_WITHIN, "products answers again", || async { app.search(&[]).await.status() == 200 }).await;
}

#[tokio::test]
async fn search_delay_slows_searches_only_while_it_is_on() {
    let flags = FaultFile::new();
    let app = spawn_app_with_faults(flags.faults()).await;
    let delay = Duration::from_millis(1500);
    let timed_search = || async {
        let started = Instant::now();
        assert_eq!(app.search(&[("q", "lamp")]).await.status(), 200);
        started.elapsed()
    };

    flags.set(&[(SEARCH_DELAY_FLAG, json!(delay.as_millis() as u64))]);
    eventually(SWITCH_WITHIN, "searches take the injected delay", || async { timed_search().await >= delay }).await;
    assert_eq!(app.get_product(&uuid::Uuid::new_v4().to_string()).await.status(), 404, "other routes unaffected");

    flags.set(&[]);
    eventually(SWITCH_WITHIN, "searches are fast again", || async { timed_search().await < delay }).await;
}
