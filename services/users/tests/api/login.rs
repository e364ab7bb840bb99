//! Logins: tokens, indistinguishable failures, throttling.

use serde_json::Value;

use crate::helpers::{PASSWORD, auth_settings, claims_of, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_issues_a_bearer_token_with_the_documented_claims() {
    let app = spawn_app().await;
    let user = app.register_ok("ada@example.com").await;
    let resp = app.login("ADA@example.com", PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["token_type"].as_str(), body["expires_in"].as_u64()), (Some("Bearer"), Some(900)));
    let claims = claims_of(body["access_token"].as_str().expect("token"));
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["role"], "customer");
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some("microshop-users"), Some("microshop")));
    let (iat, exp) = (claims["iat"].as_i64().expect("iat"), claims["exp"].as_i64().expect("exp"));
    assert_eq!(exp - iat, 900);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 32));
    let header = {
        use base64::Engine;
        let raw = body["access_token"].as_str().expect("token").split('.').next().expect("header").to_owned();
        serde_json::from_slice::<Value>(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).expect("b64"))
            .expect("json")
    };
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let wrong_password = problem(app.login("ada@example.com", "not the password").await, 401).await;
    let unknown_email = problem(app.login("nobody@example.com", PASSWORD).await, 401).await;
    let malformed = problem(app.login("not an email", PASSWORD).await, 401).await;
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password, malformed);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = spawn_app_with(auth_settings(3)).await;
    app.register_ok("ada@example.com").await;
    app.register_ok("grace@example.com").await;
    for _ in 0..3 {
        problem(app.login("ada@example.com", "wrong password!!").await, 401).await;
    }
    let resp = app.login("ada@example.com", PASSWORD).await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    problem(resp, 429).await;
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 200, "other accounts are unaffected");

    // When the lock has run out, the right password works again.
    sqlx::query("UPDATE login_throttle SET locked_until = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .expect("expire");
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn many_failures_from_one_address_lock_that_address() {
    let app = spawn_app_with(auth_settings(2)).await;
    app.register_ok("ada@example.com").await;
    // Per-address limit is 4x the per-account one: 8 failures over different accounts.
    for i in 0..8 {
        problem(app.login(&format!("guess{i}@example.com"), "wrong password!!").await, 401).await;
    }
    problem(app.login("ada@example.com", PASSWORD).await, 429).await;
}

#[tokio::test]
async fn a_successful_login_resets_the_account_counter() {
    let app = spawn_app_with(auth_settings(3)).await;
    app.register_ok("ada@example.com").await;
    for _ in 0..2 {
        problem(app.login("ada@example.com", "wrong password!!").await, 401).await;
    }
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
    for _ in 0..2 {
        problem(app.login("ada@example.com", "wrong password!!").await, 401).await;
    }
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200, "two fresh failures are below the limit");
}
