//! `spawn_app` and one helper per endpoint.

use payments::{MIGRATOR, app_with_faults, config::Simulation};
use reqwest::{Client, Response};
use serde_json::{Value, json};
pub use shopkit::testing::{assert_problem as problem, error_fields};
use shopkit::{
    auth::Role,
    faults::Faults,
    testing::{TestDatabase, TestKeys, TestServerHandle, spawn_service},
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
    spawn_app_with_faults(simulation, Faults::none()).await
}

/// A payments service following the fault flags `faults`.
pub async fn spawn_app_with_faults(simulation: Simulation, faults: Faults) -> TestApp {
    let service = spawn_service("payments", &MIGRATOR, |database, verifier| {
        app_with_faults(database, verifier, simulation, faults)
    })
    .await;
    TestApp {
        base: service.server.base_url.clone(),
        client: Client::new(),
        db: service.db,
        service_token: TestKeys::get().token("orders", Role::Service),
        _server: service.server,
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
