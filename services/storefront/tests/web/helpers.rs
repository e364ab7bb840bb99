//! `spawn_shop`: the four services and the storefront wired together over HTTP (with
//! `spawn_shop_with_mail`, also orders' events through a real NATS to notifications and its
//! e-mails to a real SMTP catcher), plus helpers that read as the steps of a scenario.

use std::time::Duration;

use orders::config::Config as OrdersConfig;
use payments::config::Simulation;
use reqwest::Client;
use serde_json::{Value, json};
use shopkit::{
    auth::Role,
    config::{CommonConfig, Secret},
    db::Database,
    nats_server::NatsServer,
    smtp_catcher::{Caught, SmtpCatcher},
    testing::{TestDatabase, TestKeys, TestServerHandle, fresh_database, spawn_server, spawn_service, test_verifier},
};

pub use shopkit::testing::{ADMIN_EMAIL, ADMIN_PASSWORD};
const ORDERS_SECRET: &str = "orders-client-secret-storefront";
const STOREFRONT_SECRET: &str = "storefront-client-secret-0123";
const NOTIFICATIONS_SECRET: &str = "notifications-client-secret-0123";
pub const GOOD_CARD: &str = "4242 4242 4242 4242";
pub const DECLINED_CARD: &str = "4000 0000 0000 0002";
pub const PASSWORD: &str = "correct horse battery";

/// The whole shop: its URLs and the storefront's database, for assertions in SQL.
pub struct Shop {
    pub storefront: String,
    pub products_url: String,
    pub users_url: String,
    pub storefront_db: TestDatabase,
    /// The users service's database (refresh tokens).
    pub users_db: TestDatabase,
    /// The event bus and the mail catcher, when the shop sends e-mails.
    pub mail: Option<Mail>,
    _servers: Vec<TestServerHandle>,
}

/// NATS, notifications' consumer and the SMTP catcher its e-mails land in.
pub struct Mail {
    pub smtp: SmtpCatcher,
    _nats: NatsServer,
    /// Dropped with the shop: stops the relay and the consumer.
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Mail {
    /// Waits (15 s at most) for an e-mail whose subject contains `subject` and returns it.
    pub async fn wait_for(&self, subject: &str) -> Caught {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let found =
                self.smtp.messages().into_iter().find(|m| m.header("subject").is_some_and(|s| s.contains(subject)));
            if let Some(mail) = found {
                return mail;
            }
            assert!(std::time::Instant::now() < deadline, "no e-mail about `{subject}` within 15 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn users_auth(access_token_ttl: Duration) -> users::api::AuthSettings {
    let client =
        |id: &str, secret: &str| users::config::ServiceClient { id: id.into(), secret: Secret::new(secret.into()) };
    let clients = vec![
        client("orders", ORDERS_SECRET),
        client("storefront", STOREFRONT_SECRET),
        client("notifications", NOTIFICATIONS_SECRET),
    ];
    // Three failures per account and address, as in production's spirit (five there).
    let login_limit = users::store::throttle::Limit { max_failures: 3, window: Duration::from_secs(900) };
    users::api::AuthSettings {
        access_token_ttl,
        ..users::api::AuthSettings::new(TestKeys::get().signer.clone(), clients, login_limit)
    }
}

pub async fn spawn_shop() -> Shop {
    spawn_shop_with(Duration::from_secs(900)).await
}

/// The shop with users issuing access tokens that live `access_token_ttl` (short, to see the
/// storefront renew them).
pub async fn spawn_shop_with(access_token_ttl: Duration) -> Shop {
    spawn(access_token_ttl, false).await
}

/// The shop with its e-mails: orders publishes its events to a real NATS, notifications sends
/// them to a real SMTP catcher, and the staff e-mail page reads notifications.
pub async fn spawn_shop_with_mail() -> Shop {
    spawn(Duration::from_secs(900), true).await
}

async fn spawn(access_token_ttl: Duration, with_mail: bool) -> Shop {
    let keys = TestKeys::get();
    let users =
        spawn_service("users", &users::MIGRATOR, |database, _| users::app(database, users_auth(access_token_ttl)))
            .await;
    let admin =
        users::config::BootstrapAdmin { email: ADMIN_EMAIL.into(), password: Secret::new(ADMIN_PASSWORD.into()) };
    users::bootstrap::ensure_admin(&users.database, &admin).await.expect("admin");
    let products = spawn_service("products", &products::MIGRATOR, products::app).await;
    let payments = spawn_service("payments", &payments::MIGRATOR, |database, verifier| {
        payments::app(database, verifier, Simulation::default())
    })
    .await;

    let orders_db = fresh_database("orders", &orders::MIGRATOR).await;
    let orders_database = Database::from_pool(orders_db.pool.clone());
    orders_database.migrate(&orders::MIGRATOR).await.expect("orders migrations");
    let config = OrdersConfig {
        common: CommonConfig::local(&orders_db.url),
        jwt_public_key: keys.public_pem.clone(),
        urls: orders::clients::DependencyUrls {
            users: users.server.base_url.clone(),
            products: products.server.base_url.clone(),
            payments: payments.server.base_url.clone(),
        },
        client_id: "orders".into(),
        client_secret: Secret::new(ORDERS_SECRET.into()),
        order_ttl: Duration::from_secs(900),
        sweep_interval: Duration::from_secs(5),
        recovery_after: Duration::from_secs(30),
        nats_url: None,
    };
    let flows = orders::orders(&orders_database, &config);
    let orders_server = spawn_server(orders::app(orders_database.clone(), test_verifier(), flows)).await;
    let (mail, notifications) = if with_mail {
        let (mail, server) = start_mail(orders_database, &users.server.base_url).await;
        (Some(mail), Some(server))
    } else {
        (None, None)
    };

    let storefront_db = fresh_database("storefront", &storefront::MIGRATOR).await;
    let storefront_database = Database::from_pool(storefront_db.pool.clone());
    storefront_database.migrate(&storefront::MIGRATOR).await.expect("storefront migrations");
    let urls = storefront::config::BackendUrls {
        products: products.server.base_url.clone(),
        users: users.server.base_url.clone(),
        orders: orders_server.base_url.clone(),
        notifications: notifications.as_ref().map(|s| s.base_url.clone()),
    };
    let backends =
        storefront::clients::Backends::new(&urls).with_client_secret(&urls, Secret::new(STOREFRONT_SECRET.into()));
    let mut state = storefront::web::AppState::new(storefront_db.pool.clone(), backends, test_verifier(), false);
    // As behind an Ingress: a test browser stands for a shopper elsewhere with `X-Forwarded-For`.
    state.trusted_proxy_hops = 1;
    let storefront_server = spawn_server(storefront::app(storefront_database, state)).await;
    Shop {
        storefront: storefront_server.base_url.clone(),
        products_url: products.server.base_url.clone(),
        users_url: users.server.base_url.clone(),
        storefront_db,
        users_db: users.db,
        mail,
        _servers: [users.server, products.server, payments.server, orders_server, storefront_server]
            .into_iter()
            .chain(notifications)
            .collect(),
    }
}

/// NATS, the orders outbox relay, notifications (its API and its consumer) and the catcher.
async fn start_mail(orders_database: Database, users_url: &str) -> (Mail, TestServerHandle) {
    let nats = NatsServer::start().await;
    let smtp = SmtpCatcher::start().await;
    let db = fresh_database("notifications", &notifications::MIGRATOR).await;
    let database = Database::from_pool(db.pool.clone());
    database.migrate(&notifications::MIGRATOR).await.expect("notifications migrations");
    let config = notifications::config::Config {
        common: CommonConfig::local(&db.url),
        jwt_public_key: TestKeys::get().public_pem.clone(),
        nats_url: nats.url.clone(),
        smtp: notifications::config::Smtp::plain(&smtp.host, smtp.port),
        users_url: users_url.to_owned(),
        client_secret: Secret::new(NOTIFICATIONS_SECRET.into()),
        shop_url: "http://shop.test".into(),
        email_max_age: chrono::TimeDelta::hours(24),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handler = notifications::consumer::Handler::new(database.clone(), &config).expect("mailer");
    tokio::spawn(notifications::consumer::consume_forever(handler, nats.url.clone(), stopped.clone()));
    tokio::spawn(orders::relay::relay_forever(orders_database, nats.url.clone(), stopped));
    let server = spawn_server(notifications::app(database, test_verifier())).await;
    (Mail { smtp, _nats: nats, _stop: stop }, server)
}

impl Shop {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.storefront, path)
    }

    /// Adds a product through the real products API (as an admin) and returns it.
    pub async fn product(&self, body: Value) -> Value {
        let mut full = json!({"sku": "SKU-1", "name": "Product", "description": "", "price": 1000,
            "currency": "EUR", "stock": 10, "category": "test"});
        if let (Some(full), Some(body)) = (full.as_object_mut(), body.as_object()) {
            full.extend(body.clone());
        }
        let resp = Client::new()
            .post(format!("{}/products", self.products_url))
            .bearer_auth(TestKeys::get().token(&uuid::Uuid::new_v4().to_string(), Role::Admin))
            .json(&full)
            .send()
            .await
            .expect("create product");
        assert_eq!(resp.status(), 201, "creating {full}");
        resp.json().await.expect("json")
    }

    /// The product as the products API has it now.
    pub async fn product_now(&self, id: &str) -> Value {
        reqwest::get(format!("{}/products/{id}", self.products_url)).await.expect("get").json().await.expect("json")
    }

    /// Registers a customer directly with the users service.
    pub async fn customer(&self, email: &str) {
        let resp = Client::new()
            .post(format!("{}/users", self.users_url))
            .json(&json!({"email": email, "password": PASSWORD, "name": "Ada"}))
            .send()
            .await
            .expect("register");
        assert_eq!(resp.status(), 201);
    }
}

/// A browser-like HTTP client: keeps cookies, does not follow redirects (tests look at them).
pub struct Browser {
    pub http: Client,
    pub base: String,
}

impl Browser {
    pub fn new(shop: &Shop) -> Self {
        let http =
            Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { http, base: shop.storefront.clone() }
    }

    /// A browser of a shopper at `address`, as the proxy in front of the storefront reports it.
    pub fn at_address(shop: &Shop, address: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", address.parse().expect("header value"));
        let http = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .expect("client");
        Self { http, base: shop.storefront.clone() }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("get")
    }

    pub async fn page(&self, path: &str) -> String {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.text().await.expect("html")
    }

    /// The CSRF token of the session, as the page's forms carry it.
    pub async fn csrf(&self) -> String {
        let html = self.page("/login").await;
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("a form with a csrf field") + marker.len();
        html[start..start + 43].to_owned()
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        self.http.post(format!("{}{path}", self.base)).form(&form).send().await.expect("post")
    }

    /// Posts a form and follows its redirect, returning the page it lands on.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> (reqwest::StatusCode, String) {
        let resp = self.post(path, fields).await;
        let status = resp.status();
        if status == 303 {
            let to = resp.headers()["location"].to_str().expect("location").to_owned();
            let page = self.get(&to).await;
            return (page.status(), page.text().await.expect("html"));
        }
        (status, resp.text().await.expect("html"))
    }

    /// Enters a delivery address in Paris (standard shipping) at checkout, as the delivery
    /// form does; the session keeps it for the review and `POST /checkout`.
    pub async fn deliver_to_paris(&self) {
        let fields = [
            ("recipient", "Ada Lovelace"),
            ("line1", "12 rue des Lilas"),
            ("postal_code", "75011"),
            ("city", "Paris"),
            ("country", "FR"),
            ("method", "standard"),
        ];
        let resp = self.post("/checkout/delivery", &fields).await;
        assert_eq!(resp.status(), 303, "delivery saved");
        assert_eq!(resp.headers()["location"], "/checkout/review");
    }

    pub async fn register(&self, email: &str) {
        let (status, html) = self
            .submit("/register", &[("name", "Ada"), ("email", email), ("password", PASSWORD), ("next", "/cart")])
            .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Welcome, Ada!"), "{html}");
    }
}
