//! Registration, profile updates, deletion, and who may read whom.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ORDERS_SECRET, PASSWORD, error_fields, problem, spawn_app};

#[tokio::test]
async fn registration_returns_the_account_without_password_material() {
    let app = spawn_app().await;
    let resp = app
        .register(&json!({"email": " Ada@Example.com ", "password": PASSWORD, "name": "Ada Lovelace", "role": "admin"}))
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().expect("location").to_owned();
    let text = resp.text().await.expect("text");
    assert!(!text.contains("password") && !text.contains("argon2"), "{text}");
    let user: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "customer", "`role` in the body is ignored");
    assert_eq!(location, format!("/users/{}", user["id"].as_str().expect("id")));
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'ada@example.com'")
        .fetch_one(&app.db.pool)
        .await
        .expect("row");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "OWASP argon2id parameters: {hash}");
}

#[tokio::test]
async fn duplicate_email_is_a_conflict_case_insensitively() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let resp = app.register(&json!({"email": "ADA@example.com", "password": PASSWORD, "name": "Other"})).await;
    problem(resp, 409).await;
}

#[tokio::test]
async fn weak_or_malformed_registrations_are_422() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": "not-an-email", "password": PASSWORD, "name": "Ada"}), vec!["email"], "malformed email"),
        (json!({"email": "a@example.com", "password": "short", "name": "Ada"}), vec!["password"], "short password"),
        (
            json!({"email": "a@example.com", "password": "password123", "name": "Ada"}),
            vec!["password"],
            "common password",
        ),
        (
            json!({"email": "a@example.com", "password": "a@example.com", "name": " "}),
            vec!["name", "password"],
            "name and password",
        ),
    ];
    for (body, fields, message) in cases {
        let body = problem(app.register(&body).await, 422).await;
        assert_eq!(error_fields(&body), fields, "{message}");
    }
    problem(app.register(&json!({"email": "a@example.com"})).await, 400).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'customer'")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn profile_reads_and_updates() {
    let app = spawn_app().await;
    let user = app.register_ok("ada@example.com").await;
    let token = app.token_for("ada@example.com", PASSWORD).await;
    let me: Value = app.get("/users/me", &token).await.json().await.expect("json");
    assert_eq!(me, user);

    let resp = app.patch_me(&token, &json!({"name": "Countess Ada"})).await;
    assert_eq!(resp.status(), 200);
    let updated: Value = resp.json().await.expect("json");
    assert_eq!((updated["name"].clone(), updated["email"].clone()), (json!("Countess Ada"), json!("ada@example.com")));

    // Email and password changes need the current password.
    let body = problem(app.patch_me(&token, &json!({"email": "ada@lovelace.org"})).await, 422).await;
    assert_eq!(error_fields(&body), ["current_password"]);
    problem(
        app.patch_me(&token, &json!({"email": "ada@lovelace.org", "current_password": "wrong password!"})).await,
        403,
    )
    .await;
    let resp = app
        .patch_me(
            &token,
            &json!({"email": "ada@lovelace.org", "password": "a brand new passphrase", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    problem(app.login("ada@example.com", PASSWORD).await, 401).await;
    problem(app.login("ada@lovelace.org", PASSWORD).await, 401).await;
    assert_eq!(app.login("ada@lovelace.org", "a brand new passphrase").await.status(), 200);

    app.register_ok("grace@example.com").await;
    let resp = app
        .patch_me(&token, &json!({"email": "grace@example.com", "current_password": "a brand new passphrase"}))
        .await;
    problem(resp, 409).await;
    let body = problem(
        app.patch_me(&token, &json!({"password": "short", "current_password": "a brand new passphrase"})).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["password"]);
}

#[tokio::test]
async fn deleting_my_account_removes_it_and_its_data() {
    let app = spawn_app().await;
    let user = app.register_ok("ada@example.com").await;
    let token = app.token_for("ada@example.com", PASSWORD).await;
    assert_eq!(app.delete("/users/me", &token).await.status(), 204);
    problem(app.login("ada@example.com", PASSWORD).await, 401).await;
    problem(app.get("/users/me", &token).await, 404).await;
    let admin = app.admin_token().await;
    problem(app.get(&format!("/users/{}", user["id"].as_str().expect("id")), &admin).await, 404).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'ada@example.com' OR name = 'Ada'")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "no personal data is kept");
    app.register_ok("ada@example.com").await;
}

#[tokio::test]
async fn customers_cannot_read_or_delete_other_accounts() {
    let app = spawn_app().await;
    let ada = app.register_ok("ada@example.com").await;
    let grace = app.register_ok("grace@example.com").await;
    let ada_token = app.token_for("ada@example.com", PASSWORD).await;
    let grace_path = format!("/users/{}", grace["id"].as_str().expect("id"));
    let ada_path = format!("/users/{}", ada["id"].as_str().expect("id"));
    problem(app.get(&grace_path, &ada_token).await, 403).await;
    problem(app.delete(&grace_path, &ada_token).await, 403).await;
    assert_eq!(app.get(&ada_path, &ada_token).await.status(), 200, "reading oneself by id is fine");
    problem(app.client.get(app.url("/users/me")).send().await.expect("send"), 401).await;

    // A service (orders checking a customer) may read; only an admin may delete.
    let service: Value = app.service_token("orders", ORDERS_SECRET).await.json().await.expect("json");
    let service = service["access_token"].as_str().expect("token").to_owned();
    assert_eq!(app.get(&grace_path, &service).await.status(), 200);
    problem(app.delete(&grace_path, &service).await, 403).await;
    problem(app.get("/users/me", &service).await, 403).await;

    let admin = app.admin_token().await;
    assert_eq!(app.get(&grace_path, &admin).await.status(), 200);
    assert_eq!(app.delete(&grace_path, &admin).await.status(), 204);
    problem(app.delete(&grace_path, &admin).await, 404).await;
    problem(app.login("grace@example.com", PASSWORD).await, 401).await;
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1 AND role = 'admin'")
        .bind(ADMIN_EMAIL)
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn staff_find_an_account_by_e_mail() {
    let app = spawn_app().await;
    let ada = app.register_ok("ada@example.com").await;
    let admin = app.admin_token().await;
    let found: serde_json::Value = app.get("/users?email=ADA@example.com", &admin).await.json().await.expect("json");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["items"][0]["id"], ada["id"], "case-insensitive");
    let none: serde_json::Value = app.get("/users?email=nobody@example.com", &admin).await.json().await.expect("json");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    problem(app.get("/users?email=not-an-email", &admin).await, 422).await;
    let customer = app.token_for("ada@example.com", PASSWORD).await;
    problem(app.get("/users?email=ada@example.com", &customer).await, 403).await;
}
