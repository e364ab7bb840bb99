//! `spawn_app` and one helper per endpoint, so tests read as scenarios.

use products::{MIGRATOR, app_with_faults};
use reqwest::{Client, Response};
use serde_json::{Value, json};
pub use shopkit::testing::{assert_problem as problem, error_fields};
use shopkit::{
    auth::Role,
    db::Database,
    faults::Faults,
    testing::{TestDatabase, TestKeys, TestServerHandle, fresh_database, spawn_server, spawn_service, test_verifier},
};
use uuid::Uuid;

/// A products service on port 0 over a fresh database.
pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: TestDatabase,
    /// Held so the server runs as long as the test (dropping it shuts the server down).
    _server: TestServerHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_faults(Faults::none()).await
}

/// A products service following the fault flags `faults`.
pub async fn spawn_app_with_faults(faults: Faults) -> TestApp {
    let service =
        spawn_service("products", &MIGRATOR, |database, verifier| app_with_faults(database, verifier, faults)).await;
    TestApp { base: service.server.base_url.clone(), client: Client::new(), db: service.db, _server: service.server }
}

/// A products service whose catalogue reads go to `read_host` (`DATABASE_READ_HOST`) while
/// everything else uses the test database over 127.0.0.1.
pub async fn spawn_app_with_read_host(read_host: &str) -> TestApp {
    let db = fresh_database("products", &MIGRATOR).await;
    let url = shopkit::config::Secret::new(db.url.clone());
    let database = Database::connect_lazy_with_replica(&url, Some(read_host), 5).expect("valid url");
    let server = spawn_server(app_with_faults(database, test_verifier(), Faults::none())).await;
    TestApp { base: server.base_url.clone(), client: Client::new(), db, _server: server }
}

pub fn token(role: Role) -> String {
    let subject = match role {
        Role::Service => "orders".to_owned(),
        _ => Uuid::new_v4().to_string(),
    };
    TestKeys::get().token(&subject, role)
}

/// A valid product body; tests override fields with `with`.
pub fn product_body(sku: &str) -> Value {
    json!({
        "sku": sku,
        "name": "Desk lamp",
        "description": "A warm LED desk lamp with a brass arm",
        "price": 4999,
        "currency": "EUR",
        "stock": 10,
        "category": "lighting"
    })
}

pub fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn create_product(&self, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url("/products")).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Creates a product as admin and returns its JSON.
    pub async fn seed(&self, body: Value) -> Value {
        let resp = self.create_product(Some(&token(Role::Admin)), &body).await;
        assert_eq!(resp.status(), 201, "seeding {body}");
        resp.json().await.expect("json")
    }

    pub async fn get_product(&self, id: &str) -> Response {
        self.client.get(self.url(&format!("/products/{id}"))).send().await.expect("request")
    }

    pub async fn patch_product(&self, token: &str, id: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(&format!("/products/{id}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_product(&self, token: &str, id: &str) -> Response {
        self.client.delete(self.url(&format!("/products/{id}"))).bearer_auth(token).send().await.expect("request")
    }

    pub async fn search(&self, query: &[(&str, &str)]) -> Response {
        self.client.get(self.url("/products")).query(query).send().await.expect("request")
    }

    /// Searches and returns the page JSON, asserting 200.
    pub async fn search_ok(&self, query: &[(&str, &str)]) -> Value {
        let resp = self.search(query).await;
        assert_eq!(resp.status(), 200, "search {query:?}");
        resp.json().await.expect("json")
    }

    pub async fn reserve(&self, token: &str, order_id: Uuid, lines: Value) -> Response {
        self.client
            .put(self.url(&format!("/reservations/{order_id}")))
            .bearer_auth(token)
            .json(&json!({ "lines": lines }))
            .send()
            .await
            .expect("request")
    }

    pub async fn release(&self, token: &str, order_id: Uuid) -> Response {
        self.client
            .delete(self.url(&format!("/reservations/{order_id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_reservation(&self, token: &str, order_id: Uuid) -> Response {
        self.client
            .get(self.url(&format!("/reservations/{order_id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Current stock of a product, read directly from the database (even if deleted).
    pub async fn stock_of(&self, id: &str) -> i32 {
        let id = Uuid::parse_str(id).expect("uuid");
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await
            .expect("stock")
    }
}
