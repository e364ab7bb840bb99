//! Logins: tokens, indistinguishable failures, throttling.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{
    ORDERS_SECRET, PASSWORD, TestApp, auth_settings, claims_of, error_fields, problem, spawn_app, spawn_app_with,
};

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

/// A log-in made by a microshop service on a shopper's behalf: its token, the shopper's address.
async fn login_from(app: &TestApp, token: Option<&str>, address: &str, email: &str, password: &str) -> Response {
    let mut request = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": email, "password": password, "client_address": address}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

/// A service token of the `orders` client (any microshop service may log someone in).
async fn service_token(app: &TestApp) -> String {
    let body: Value = app.service_token("orders", ORDERS_SECRET).await.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn guesses_from_another_address_do_not_lock_the_owner_out() {
    let app = spawn_app_with(auth_settings(3)).await;
    app.register_ok("ada@example.com").await;
    let service = service_token(&app).await;
    let attacker = "203.0.113.7";
    for _ in 0..3 {
        problem(login_from(&app, Some(&service), attacker, "ada@example.com", "wrong password!!").await, 401).await;
    }
    let locked = login_from(&app, Some(&service), attacker, "ada@example.com", PASSWORD).await;
    assert!(locked.headers().contains_key("retry-after"), "429 says when to retry");
    problem(locked, 429).await;
    // The owner, from their own address, never failed: they log in.
    let owner = login_from(&app, Some(&service), "198.51.100.2", "ada@example.com", PASSWORD).await;
    assert_eq!(owner.status(), 200);
    let owner_v6 = login_from(&app, Some(&service), "2001:db8::2", "ada@example.com", PASSWORD).await;
    assert_eq!(owner_v6.status(), 200, "IPv6 addresses count too");
}

#[tokio::test]
async fn an_address_claimed_without_a_service_token_is_not_believed() {
    let app = spawn_app_with(auth_settings(3)).await;
    app.register_ok("ada@example.com").await;
    // A fresh claimed address per guess would dodge the throttle if it were believed.
    let customer = app.token_for("ada@example.com", PASSWORD).await;
    for (i, token) in [None, Some(customer.as_str()), None].into_iter().enumerate() {
        let address = format!("203.0.113.{i}");
        problem(login_from(&app, token, &address, "ada@example.com", "wrong password!!").await, 401).await;
    }
    problem(login_from(&app, None, "203.0.113.99", "ada@example.com", PASSWORD).await, 429).await;
    // A claim that is not an address is refused, naming the field.
    let service = service_token(&app).await;
    let body = problem(login_from(&app, Some(&service), "shop.example", "ada@example.com", PASSWORD).await, 422).await;
    assert_eq!(error_fields(&body), ["client_address"]);
}

#[tokio::test]
async fn an_account_guessed_from_many_addresses_locks_except_where_its_owner_logged_in() {
    // One failure per account and address; ten for the account over all addresses.
    let app = spawn_app_with(auth_settings(1)).await;
    app.register_ok("ada@example.com").await;
    let service = service_token(&app).await;
    let home = "198.51.100.2";
    assert_eq!(login_from(&app, Some(&service), home, "ada@example.com", PASSWORD).await.status(), 200);
    for i in 0..10 {
        let address = format!("203.0.113.{i}");
        problem(login_from(&app, Some(&service), &address, "ada@example.com", "wrong password!!").await, 401).await;
    }
    // A new address is paused for this account even with the right password...
    problem(login_from(&app, Some(&service), "192.0.2.50", "ada@example.com", PASSWORD).await, 429).await;
    // ...but the owner's own address is not.
    assert_eq!(login_from(&app, Some(&service), home, "ada@example.com", PASSWORD).await.status(), 200);
}
