//! The token-delay fault flag, switched while the service runs.

use std::time::{Duration, Instant};

use serde_json::json;
use shopkit::testing::{FaultFile, eventually};
use users::api::TOKEN_DELAY_FLAG;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, ORDERS_SECRET, auth_settings, spawn_app_with_faults};

#[tokio::test]
async fn token_delay_slows_logins_and_service_tokens_only_while_it_is_on() {
    let flags = FaultFile::new();
    let app = spawn_app_with_faults(auth_settings(5), flags.faults()).await;
    let delay = Duration::from_millis(1500);
    let timed = |service: bool| {
        let app = &app;
        async move {
            let started = Instant::now();
            let resp = if service {
                app.service_token("orders", ORDERS_SECRET).await
            } else {
                app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
            };
            assert_eq!(resp.status(), 200, "the request still succeeds, only later");
            started.elapsed()
        }
    };

    flags.set(&[(TOKEN_DELAY_FLAG, json!(delay.as_millis() as u64))]);
    eventually(Duration::from_secs(5), "logins take the injected delay", || async { timed(false).await >= delay })
        .await;
    assert!(timed(true).await >= delay, "service tokens are delayed too");

    flags.set(&[]);
    eventually(Duration::from_secs(5), "logins are fast again", || async { timed(false).await < delay }).await;
    assert!(timed(true).await < delay, "service tokens are fast again");
}
