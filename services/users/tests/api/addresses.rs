//! Saved delivery addresses: per account, checked like an order's, at most ten, deleted with
//! the account.

use serde_json::{Value, json};

use crate::helpers::{ORDERS_SECRET, PASSWORD, TestApp, error_fields, problem, spawn_app};

fn paris(line1: &str) -> Value {
    json!({"recipient": "Ada Lovelace", "line1": line1, "postal_code": "75011", "city": "Paris", "country": "fr"})
}

async fn save(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url("/users/me/addresses")).bearer_auth(token).json(body).send().await.expect("request")
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let body: Value = app.get("/users/me/addresses", token).await.json().await.expect("json");
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_shopper_saves_lists_and_forgets_addresses() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let ada = app.token_for("ada@example.com", PASSWORD).await;
    let saved: Value = save(&app, &ada, &paris("12 rue des Lilas")).await.json().await.expect("json");
    assert_eq!((saved["country"].as_str(), saved["line2"].as_str()), (Some("FR"), Some("")), "{saved}");
    save(&app, &ada, &paris("3 place du Tertre")).await;
    // Saving the first again marks it used instead of copying it.
    let again: Value = save(&app, &ada, &paris("12 rue des Lilas")).await.json().await.expect("json");
    assert_eq!(again["id"], saved["id"]);
    let mine = list(&app, &ada).await;
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["line1"], "12 rue des Lilas", "most recently used first");

    // Another account sees none of them and cannot delete them.
    app.register_ok("grace@example.com").await;
    let grace = app.token_for("grace@example.com", PASSWORD).await;
    assert!(list(&app, &grace).await.is_empty());
    let id = saved["id"].as_str().expect("id");
    problem(app.delete(&format!("/users/me/addresses/{id}"), &grace).await, 404).await;
    assert_eq!(app.delete(&format!("/users/me/addresses/{id}"), &ada).await.status(), 204);
    assert_eq!(list(&app, &ada).await.len(), 1);

    // Checked like an order's address; a service has no addresses.
    let bad = json!({"recipient": " ", "line1": "x", "postal_code": "", "city": "Paris", "country": "France"});
    let body = problem(save(&app, &ada, &bad).await, 422).await;
    assert_eq!(error_fields(&body), ["recipient", "postal_code", "country"]);
    let service: Value = app.service_token("orders", ORDERS_SECRET).await.json().await.expect("json");
    problem(app.get("/users/me/addresses", service["access_token"].as_str().expect("token")).await, 403).await;
}

#[tokio::test]
async fn an_account_keeps_its_ten_latest_addresses_and_loses_them_with_itself() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let ada = app.token_for("ada@example.com", PASSWORD).await;
    for n in 0..12 {
        assert_eq!(save(&app, &ada, &paris(&format!("{n} rue des Lilas"))).await.status(), 200);
    }
    let mine = list(&app, &ada).await;
    assert_eq!(mine.len(), 10);
    assert_eq!(mine[0]["line1"], "11 rue des Lilas");
    assert!(mine.iter().all(|a| a["line1"] != "0 rue des Lilas" && a["line1"] != "1 rue des Lilas"), "the oldest went");
    assert_eq!(app.delete("/users/me", &ada).await.status(), 204);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM addresses").fetch_one(&app.db.pool).await.expect("count");
    assert_eq!(left, 0);
}
