//! Attacks from issue 10 on users: control characters, oversized bodies, an unthrottled
//! token endpoint, deleting the last admin.

use serde_json::json;

use crate::helpers::{
    ADMIN_EMAIL, ORDERS_SECRET, PASSWORD, auth_settings, error_fields, problem, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn a_nul_byte_in_any_string_is_422_not_500() {
    let app = spawn_app().await;
    let refused = problem(app.login("ada\u{0}@example.com", PASSWORD).await, 422).await;
    assert_eq!(error_fields(&refused), ["email"]);
    let refused = problem(
        app.register(&json!({"email": "ada@example.com", "password": PASSWORD, "name": "A\u{0}da"})).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&refused), ["name"]);
    app.register_ok("ada@example.com").await;
    let token = app.token_for("ada@example.com", PASSWORD).await;
    let refused = problem(app.patch_me(&token, &json!({"name": "\u{0}"})).await, 422).await;
    assert_eq!(error_fields(&refused), ["name"]);
    let refused = problem(app.service_token("orders\u{0}", ORDERS_SECRET).await, 422).await;
    assert_eq!(error_fields(&refused), ["client_id"]);
}

#[tokio::test]
async fn a_100_mb_registration_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let name = "x".repeat(100 * 1024 * 1024);
    let resp = app
        .client
        .post(app.url("/users"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"email":"big@example.com","password":"{PASSWORD}","name":"{name}"}}"#))
        .send()
        .await;
    // The server answers 413 from the Content-Length and may close before the upload ends.
    if let Ok(resp) = resp {
        problem(resp, 413).await;
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'big@example.com'")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn wrong_client_secrets_are_throttled_like_logins() {
    let app = spawn_app_with(auth_settings(3)).await;
    for attempt in 0..3 {
        problem(app.service_token("orders", &format!("wrong-{attempt}")).await, 401).await;
    }
    let resp = app.service_token("orders", ORDERS_SECRET).await;
    assert!(resp.headers().contains_key("retry-after"), "429 says when to retry");
    problem(resp, 429).await;
}

#[tokio::test]
async fn the_last_admin_cannot_delete_itself() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let me = app.get("/users/me", &admin).await.json::<serde_json::Value>().await.expect("json");
    let id = me["id"].as_str().expect("id").to_owned();
    let body = problem(app.delete("/users/me", &admin).await, 409).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("last admin")), "{body}");
    problem(app.delete(&format!("/users/{id}"), &admin).await, 409).await;
    // With a second admin, the first may go.
    let second = app.register_ok("second.admin@example.com").await;
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1::uuid")
        .bind(second["id"].as_str().expect("id"))
        .execute(&app.db.pool)
        .await
        .expect("promote");
    assert_eq!(app.delete("/users/me", &admin).await.status(), 204);
    let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1")
        .bind(ADMIN_EMAIL)
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(gone, 0);
}
