//! `spawn_app` and one helper per endpoint.

use std::time::Duration;

use reqwest::{Client, Response};
use serde_json::{Value, json};
pub use shopkit::testing::{ADMIN_EMAIL, ADMIN_PASSWORD, assert_problem as problem, error_fields};
use shopkit::{
    config::Secret,
    db::Database,
    faults::Faults,
    testing::{TestDatabase, TestKeys, TestServerHandle, spawn_service},
};
use users::{
    MIGRATOR,
    api::AuthSettings,
    app_with_faults,
    config::{BootstrapAdmin, ServiceClient},
    store::throttle::Limit,
};

pub const ORDERS_SECRET: &str = "orders-secret-0123456789";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: TestDatabase,
    pub database: Database,
    _server: TestServerHandle,
}

pub fn auth_settings(max_failures: i32) -> AuthSettings {
    let orders = ServiceClient { id: "orders".into(), secret: Secret::new(ORDERS_SECRET.into()) };
    AuthSettings::new(
        TestKeys::get().signer.clone(),
        vec![orders],
        Limit { max_failures, window: Duration::from_secs(900) },
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(auth_settings(5)).await
}

pub async fn spawn_app_with(settings: AuthSettings) -> TestApp {
    spawn_app_with_faults(settings, Faults::none()).await
}

/// A users service following the fault flags `faults`.
pub async fn spawn_app_with_faults(settings: AuthSettings, faults: Faults) -> TestApp {
    let service = spawn_service("users", &MIGRATOR, |database, _| app_with_faults(database, settings, faults)).await;
    let admin = BootstrapAdmin { email: ADMIN_EMAIL.into(), password: Secret::new(ADMIN_PASSWORD.into()) };
    users::bootstrap::ensure_admin(&service.database, &admin).await.expect("bootstrap admin");
    TestApp {
        base: service.server.base_url.clone(),
        client: Client::new(),
        db: service.db,
        database: service.database,
        _server: service.server,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn register(&self, body: &Value) -> Response {
        self.client.post(self.url("/users")).json(body).send().await.expect("request")
    }

    /// Registers `email` with the default password and returns the account JSON.
    pub async fn register_ok(&self, email: &str) -> Value {
        let resp = self.register(&json!({"email": email, "password": PASSWORD, "name": "Ada"})).await;
        assert_eq!(resp.status(), 201, "register {email}");
        resp.json().await.expect("json")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request")
    }

    /// Logs in and returns the access token.
    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let resp = self.login(email, password).await;
        assert_eq!(resp.status(), 200, "login {email}");
        let body: Value = resp.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn patch_me(&self, token: &str, body: &Value) -> Response {
        self.client.patch(self.url("/users/me")).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn service_token(&self, client_id: &str, secret: &str) -> Response {
        self.client
            .post(self.url("/auth/token"))
            .json(&json!({"client_id": client_id, "client_secret": secret}))
            .send()
            .await
            .expect("request")
    }
}

/// The claims of a JWT, decoded without verification (to inspect what was issued).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"))
        .expect("json")
}
