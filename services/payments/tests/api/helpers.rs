//! `spawn_app` and one helper per endpoint.

use payments::{MIGRATOR, app, config::Simulation};
use reqwest::{Client, Response};
use serde_json::{Value, json};
use shopkit::{
    auth::{Role, TokenVerifier},
    config::{DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER},
    db::Database,
    testing::{TestDatabase, TestKeys, TestServerHandle, fresh_database, spawn_server},
};
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: TestDatabase,
    pub service_token: String,
    _server: TestServerHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Simulation::default()).await
}

pub async fn spawn_app_with(simulation: Simulation) -> TestApp {
    let db = fresh_database("payments", &MIGRATOR).await;
    let database = Database::from_pool(db.pool.clone());
    database.migrate(&MIGRATOR).await.expect("migrations");
    let verifier =
        TokenVerifier::from_public_pem(&TestKeys::get().public_pem, DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE)
            .expect("verifier");
    let server = spawn_server(app(database, verifier, simulation)).await;
    TestApp {
        base: server.base_url.clone(),
        client: Client::new(),
        db,
        service_token: TestKeys::get().token("orders", Role::Service),
        _server: server,
    }
}

/// A valid charge body for `card`.
pub fn charge(order_id: Uuid, amount: i64, card: &str) -> Value {
    json!({"order_id": order_id, "amount": amount, "currency": "EUR",
           "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn pay(&self, key: Option<&str>, body: &Value) -> Response {
        self.pay_as(&self.service_token, key, body).await
    }

    pub async fn pay_as(&self, token: &str, key: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url("/payments")).bearer_auth(token).json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(&self.service_token).send().await.expect("request")
    }

    pub async fn refund(&self, id: &str) -> Response {
        self.client
            .post(self.url(&format!("/payments/{id}/refund")))
            .bearer_auth(&self.service_token)
            .send()
            .await
            .expect("request")
    }
}

pub async fn problem(resp: Response, status: u16) -> Value {
    assert_eq!(resp.status(), status, "status");
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("application/problem+json"), "content type was {content_type}");
    resp.json().await.expect("problem json")
}

pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
