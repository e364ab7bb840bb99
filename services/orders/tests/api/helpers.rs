//! `spawn_shop`: the four services wired together, and one helper per endpoint.

use std::time::Duration;

use orders::{config::Config, saga::Orders};
use payments::config::Simulation;
use reqwest::{Client, Response};
use serde_json::{Value, json};
use shopkit::{
    config::{CommonConfig, Secret},
    db::Database,
    testing::{TestDatabase, TestKeys, TestServerHandle, fresh_database, spawn_server, spawn_service, test_verifier},
};
use uuid::Uuid;

pub use shopkit::testing::{ADMIN_EMAIL, ADMIN_PASSWORD, assert_problem as problem, error_fields};

const ORDERS_SECRET: &str = "orders-client-secret-0123";
pub const GOOD_CARD: &str = "4242424242424242";

/// Knobs of a test shop.
pub struct ShopOptions {
    pub simulation: Simulation,
    pub order_ttl: Duration,
    pub sweep_interval: Option<Duration>,
}

impl Default for ShopOptions {
    fn default() -> Self {
        Self { simulation: Simulation::default(), order_ttl: Duration::from_secs(900), sweep_interval: None }
    }
}

pub struct Shop {
    pub client: Client,
    pub orders_url: String,
    pub products_url: String,
    pub users_url: String,
    pub flows: Orders,
    pub orders_db: TestDatabase,
    pub products_db: TestDatabase,
    pub payments_db: TestDatabase,
    pub products: Option<TestServerHandle>,
    _servers: Vec<TestServerHandle>,
    _sweeper: Option<tokio::sync::watch::Sender<bool>>,
}

pub async fn spawn_shop() -> Shop {
    spawn_shop_with(ShopOptions::default()).await
}

pub async fn spawn_shop_with(options: ShopOptions) -> Shop {
    let keys = TestKeys::get();
    let orders_client = users::config::ServiceClient { id: "orders".into(), secret: Secret::new(ORDERS_SECRET.into()) };
    let login_limit = users::store::throttle::Limit { max_failures: 50, window: Duration::from_secs(900) };
    let auth = users::api::AuthSettings::new(keys.signer.clone(), vec![orders_client], login_limit);
    let users = spawn_service("users", &users::MIGRATOR, |database, _| users::app(database, auth)).await;
    let admin =
        users::config::BootstrapAdmin { email: ADMIN_EMAIL.into(), password: Secret::new(ADMIN_PASSWORD.into()) };
    users::bootstrap::ensure_admin(&users.database, &admin).await.expect("admin");
    let products = spawn_service("products", &products::MIGRATOR, products::app).await;
    let simulation = options.simulation;
    let payments = spawn_service("payments", &payments::MIGRATOR, |database, verifier| {
        payments::app(database, verifier, simulation)
    })
    .await;
    let (users_server, products_db, products_server, payments_db, payments_server) =
        (users.server, products.db, products.server, payments.db, payments.server);

    let orders_db = fresh_database("orders", &orders::MIGRATOR).await;
    let orders_database = Database::from_pool(orders_db.pool.clone());
    orders_database.migrate(&orders::MIGRATOR).await.expect("orders migrations");
    let config = Config {
        common: CommonConfig::local(&orders_db.url),
        jwt_public_key: keys.public_pem.clone(),
        urls: orders::clients::DependencyUrls {
            users: users_server.base_url.clone(),
            products: products_server.base_url.clone(),
            payments: payments_server.base_url.clone(),
        },
        client_id: "orders".into(),
        client_secret: Secret::new(ORDERS_SECRET.into()),
        order_ttl: options.order_ttl,
        sweep_interval: Duration::from_secs(5),
        recovery_after: Duration::from_secs(30),
        nats_url: None,
    };
    let flows = orders::orders(&orders_database, &config);
    let sweeper = options.sweep_interval.map(|interval| {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(flows.clone().sweep_forever(interval, Duration::from_secs(30), rx));
        tx
    });
    let orders_server = spawn_server(orders::app(orders_database, test_verifier(), flows.clone())).await;
    Shop {
        client: Client::new(),
        orders_url: orders_server.base_url.clone(),
        products_url: products_server.base_url.clone(),
        users_url: users_server.base_url.clone(),
        flows,
        orders_db,
        products_db,
        payments_db,
        products: Some(products_server),
        _servers: vec![users_server, payments_server, orders_server],
        _sweeper: sweeper,
    }
}

impl Shop {
    /// Logs in through the real users service.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let resp = self
            .client
            .post(format!("{}/auth/login", self.users_url))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200, "login {email}");
        resp.json::<Value>().await.expect("json")["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Registers a customer and returns (user id, token).
    pub async fn customer(&self, email: &str) -> (String, String) {
        let password = "customer passphrase";
        let resp = self
            .client
            .post(format!("{}/users", self.users_url))
            .json(&json!({"email": email, "password": password, "name": "Customer"}))
            .send()
            .await
            .expect("register");
        assert_eq!(resp.status(), 201);
        let user: Value = resp.json().await.expect("json");
        (user["id"].as_str().expect("id").to_owned(), self.login(email, password).await)
    }

    /// Adds a product through the real products API and returns its id.
    pub async fn product(&self, sku: &str, price: i64, stock: i64) -> String {
        let body = json!({"sku": sku, "name": format!("Product {sku}"), "price": price, "currency": "EUR", "stock": stock, "category": "test"});
        let resp = self
            .client
            .post(format!("{}/products", self.products_url))
            .bearer_auth(self.admin().await)
            .json(&body)
            .send()
            .await
            .expect("create product");
        assert_eq!(resp.status(), 201);
        resp.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned()
    }

    pub async fn stock(&self, product: &str) -> i32 {
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1::uuid")
            .bind(product)
            .fetch_one(&self.products_db.pool)
            .await
            .expect("stock")
    }

    /// Units held by active reservations, all orders together.
    pub async fn held(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT coalesce(sum(l.quantity), 0) FROM reservation_lines l JOIN reservations r USING (order_id) WHERE r.status = 'active'",
        )
        .fetch_one(&self.products_db.pool)
        .await
        .expect("held")
    }

    pub async fn place(&self, token: &str, key: Option<&str>, items: Value) -> Response {
        let mut req =
            self.client.post(format!("{}/orders", self.orders_url)).bearer_auth(token).json(&json!({"items": items}));
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send().await.expect("place")
    }

    /// Places an order, asserting 201, and returns it.
    pub async fn place_ok(&self, token: &str, items: Value) -> Value {
        let resp = self.place(token, None, items).await;
        assert_eq!(resp.status(), 201, "place order");
        resp.json().await.expect("json")
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client.get(format!("{}{}", self.orders_url, path)).bearer_auth(token).send().await.expect("get")
    }

    pub async fn pay(&self, token: &str, order: &str, card: &str, key: &str) -> Response {
        self.client
            .post(format!("{}/orders/{order}/pay", self.orders_url))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({"card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}))
            .send()
            .await
            .expect("pay")
    }

    pub async fn patch(&self, token: &str, order: &str, body: Value) -> Response {
        self.client
            .patch(format!("{}/orders/{order}", self.orders_url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("patch")
    }

    pub async fn cancel(&self, token: &str, order: &str) -> Response {
        self.client
            .post(format!("{}/orders/{order}/cancel", self.orders_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("cancel")
    }

    pub async fn delete(&self, token: &str, order: &str) -> Response {
        self.client
            .delete(format!("{}/orders/{order}", self.orders_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("delete")
    }

    /// Payments recorded for an order, straight from the payments database.
    pub async fn payment_statuses(&self, order: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT status FROM payments WHERE order_id = $1::uuid ORDER BY created_at")
            .bind(order)
            .fetch_all(&self.payments_db.pool)
            .await
            .expect("payments")
    }
}

pub fn item(product: &str, quantity: i64) -> Value {
    json!({"product_id": product, "quantity": quantity})
}

pub fn id_of(order: &Value) -> String {
    order["id"].as_str().expect("id").to_owned()
}

pub fn new_key() -> String {
    Uuid::new_v4().to_string()
}
