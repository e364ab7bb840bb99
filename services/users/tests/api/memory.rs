//! Password hashing must not make the users process keep memory: every login needs a 19 MiB
//! argon2 buffer, and glibc used to keep one per blocking thread. The service runs as its
//! own process here so its resident memory can be read from `/proc`.

use std::{process::Stdio, time::Duration};

use serde_json::json;
use shopkit::testing::{TestKeys, fresh_database};

use crate::helpers::PASSWORD;

/// Logins after the first one: sequential, then in concurrent waves (a bounded count; this
/// asserts memory, not speed).
const SEQUENTIAL: usize = 10;
const WAVES: usize = 6;
const CONCURRENT: usize = 4;

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

#[tokio::test]
async fn memory_stays_flat_over_many_logins() {
    let db = fresh_database("users", &users::MIGRATOR).await;
    let port = shopkit::localdb::free_port().expect("free port");
    let keys = TestKeys::get();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_users"))
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &db.url)
        .env("JWT_PRIVATE_KEY", &keys.private_pem)
        .env("JWT_PUBLIC_KEY", &keys.public_pem)
        .env("RUST_LOG", "warn")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start users");
    let pid = child.id().expect("pid");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "users did not become ready");
    let email = "memory@example.com";
    let created = client
        .post(format!("{base}/users"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Memory"}))
        .send()
        .await
        .expect("register");
    assert_eq!(created.status(), 201);
    let login = || {
        let request = client.post(format!("{base}/auth/login")).json(&json!({"email": email, "password": PASSWORD}));
        async move { request.send().await.expect("login").status().as_u16() }
    };
    assert_eq!(login().await, 200);
    let after_first = rss_mib(pid);

    for _ in 0..SEQUENTIAL {
        assert_eq!(login().await, 200);
    }
    for _ in 0..WAVES {
        let statuses = futures::future::join_all((0..CONCURRENT).map(|_| login())).await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    let after_all = rss_mib(pid);
    let _ = child.kill().await;

    // One argon2 buffer is 19 MiB: keeping even one more than after the first login fails.
    assert!(
        after_all - after_first < 16.0,
        "RSS grew from {after_first:.1} MiB to {after_all:.1} MiB over {} logins",
        1 + SEQUENTIAL + WAVES * CONCURRENT
    );
}
