//! Refresh tokens: issued at log-in, rotated on each use, revoked by log-out, by a reuse of an
//! exchanged token, by a password change and by deleting the account; stored hashed.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, auth_settings, claims_of, error_fields, problem, spawn_app, spawn_app_with};

/// Logs `email` in; returns (access token, refresh token).
async fn log_in(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let resp = app.login(email, password).await;
    assert_eq!(resp.status(), 200, "login {email}");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["refresh_expires_in"], 7 * 24 * 3600, "{body}");
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client.post(app.url("/auth/refresh")).json(&json!({"refresh_token": token})).send().await.expect("request")
}

async fn logout(app: &TestApp, token: &str) -> reqwest::Response {
    app.client.post(app.url("/auth/logout")).json(&json!({"refresh_token": token})).send().await.expect("request")
}

/// Exchanges `token`, expecting success; returns the new pair.
async fn refresh_ok(app: &TestApp, token: &str) -> (String, String) {
    let resp = refresh(app, token).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

#[tokio::test]
async fn a_refresh_token_is_exchanged_once_for_a_new_pair() {
    let app = spawn_app().await;
    let account = app.register_ok("ada@example.com").await;
    let (_, first) = log_in(&app, "ada@example.com", PASSWORD).await;
    let (access, second) = refresh_ok(&app, &first).await;
    assert_ne!(first, second, "rotated");
    let claims = claims_of(&access);
    assert_eq!((claims["sub"].as_str(), claims["role"].as_str()), (account["id"].as_str(), Some("customer")));
    let me = app.get("/users/me", &access).await;
    assert_eq!(me.status(), 200, "the new access token works");
    let (_, third) = refresh_ok(&app, &second).await;
    assert_ne!(second, third);

    // Only hashes are stored: no row holds any token as issued.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens").fetch_all(&app.db.pool).await.expect("rows");
    assert_eq!(stored.len(), 3);
    for token in [&first, &second, &third] {
        assert!(stored.iter().all(|hash| hash.as_slice() != token.as_bytes()));
    }
    // A service token has no refresh token.
    let service: Value = app.service_token("orders", crate::helpers::ORDERS_SECRET).await.json().await.expect("json");
    assert!(service.get("refresh_token").is_none(), "{service}");
}

#[tokio::test]
async fn presenting_an_exchanged_token_again_revokes_the_whole_log_in() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let (_, first) = log_in(&app, "ada@example.com", PASSWORD).await;
    let (_, second) = refresh_ok(&app, &first).await;
    // Someone replays the first token: refused, and the legitimate successor dies with it.
    let replay = problem(refresh(&app, &first).await, 401).await;
    assert!(replay["detail"].as_str().unwrap_or_default().contains("log in again"), "{replay}");
    problem(refresh(&app, &second).await, 401).await;
    // Another log-in of the same account is another family, untouched.
    let (_, other) = log_in(&app, "ada@example.com", PASSWORD).await;
    refresh_ok(&app, &other).await;
}

#[tokio::test]
async fn two_concurrent_exchanges_of_one_token_give_one_new_pair() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let (_, token) = log_in(&app, "ada@example.com", PASSWORD).await;
    let (a, b) = tokio::join!(refresh(&app, &token), refresh(&app, &token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "the row lock lets one exchange through");
}

#[tokio::test]
async fn log_out_revokes_the_family_and_is_idempotent() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let (_, first) = log_in(&app, "ada@example.com", PASSWORD).await;
    let (_, second) = refresh_ok(&app, &first).await;
    // Logging out with any token of the log-in ends it.
    assert_eq!(logout(&app, &first).await.status(), 204);
    problem(refresh(&app, &second).await, 401).await;
    assert_eq!(logout(&app, &second).await.status(), 204, "again");
    let unknown = "A".repeat(43);
    assert_eq!(logout(&app, &unknown).await.status(), 204, "unknown token");
    problem(refresh(&app, &unknown).await, 401).await;
    // Malformed tokens are a 422 naming the field.
    for bad in ["", "short", &"!".repeat(43)] {
        let body = problem(refresh(&app, bad).await, 422).await;
        assert!(error_fields(&body).contains(&"refresh_token".to_owned()), "{bad}: {body}");
        problem(logout(&app, bad).await, 422).await;
    }
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let mut settings = auth_settings(5);
    settings.refresh_token_ttl = Duration::from_secs(1);
    let app = spawn_app_with(settings).await;
    app.register_ok("ada@example.com").await;
    let resp = app.login("ada@example.com", PASSWORD).await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["refresh_expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    problem(refresh(&app, body["refresh_token"].as_str().expect("refresh")).await, 401).await;
}

#[tokio::test]
async fn a_password_change_or_an_account_deletion_ends_every_log_in() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let (access, phone) = log_in(&app, "ada@example.com", PASSWORD).await;
    let (_, laptop) = log_in(&app, "ada@example.com", PASSWORD).await;
    // A name change leaves log-ins alone.
    assert_eq!(app.patch_me(&access, &json!({"name": "Ada L."})).await.status(), 200);
    let (_, phone) = refresh_ok(&app, &phone).await;
    let change = json!({"password": "a brand new passphrase", "current_password": PASSWORD});
    assert_eq!(app.patch_me(&access, &change).await.status(), 200);
    problem(refresh(&app, &phone).await, 401).await;
    problem(refresh(&app, &laptop).await, 401).await;

    let (access, after) = log_in(&app, "ada@example.com", "a brand new passphrase").await;
    assert_eq!(app.delete("/users/me", &access).await.status(), 204);
    problem(refresh(&app, &after).await, 401).await;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens").fetch_one(&app.db.pool).await.expect("count");
    assert_eq!(left, 0, "the account's tokens went with it");
}
