//! A notifications service with everything it talks to, and an event publisher.

use std::time::Duration;

use async_nats::{HeaderMap, jetstream};
use notifications::{config::Smtp, consumer::Handler, mailer::Mailer};
use serde_json::{Value, json};
use shopkit::{
    client::{ServiceClient, TokenSource},
    config::Secret,
    db::Database,
    nats_server::NatsServer,
    smtp_catcher::SmtpCatcher,
    testing::{
        ADMIN_EMAIL, ADMIN_PASSWORD, TestDatabase, TestKeys, TestServerHandle, fresh_database, spawn_server,
        spawn_service, test_verifier,
    },
};
use shopwire::events::{OrderEvent, SUBJECT_PREFIX};
use uuid::Uuid;

pub use shopkit::testing::assert_problem as problem;

const SECRET: &str = "notifications-client-secret-0123";
pub const PASSWORD: &str = "correct horse battery";

pub struct World {
    pub nats: NatsServer,
    pub smtp: SmtpCatcher,
    pub users_url: String,
    pub notifications_url: String,
    pub db: TestDatabase,
    pub handler: Handler,
    _servers: Vec<TestServerHandle>,
}

pub async fn spawn_world() -> World {
    let nats = NatsServer::start().await;
    let smtp = SmtpCatcher::start().await;
    let client = users::config::ServiceClient { id: "notifications".into(), secret: Secret::new(SECRET.into()) };
    let limit = users::store::throttle::Limit { max_failures: 5, window: Duration::from_secs(900) };
    let users = spawn_service("users", &users::MIGRATOR, |database, _| {
        users::app(database, users::api::AuthSettings::new(TestKeys::get().signer.clone(), vec![client], limit))
    })
    .await;
    let admin =
        users::config::BootstrapAdmin { email: ADMIN_EMAIL.into(), password: Secret::new(ADMIN_PASSWORD.into()) };
    users::bootstrap::ensure_admin(&users.database, &admin).await.expect("admin");
    let users_url = users.server.base_url.clone();

    let db = fresh_database("notifications", &notifications::MIGRATOR).await;
    let database = Database::from_pool(db.pool.clone());
    database.migrate(&notifications::MIGRATOR).await.expect("migrations");
    let server = spawn_server(notifications::app(database.clone(), test_verifier())).await;
    let tokens = std::sync::Arc::new(TokenSource::at(
        "users",
        format!("{users_url}/auth/token"),
        "notifications".into(),
        Secret::new(SECRET.into()),
    ));
    let handler = Handler {
        database,
        users: ServiceClient::new("users", &users_url, tokens),
        mailer: Mailer::new(&Smtp::plain(&smtp.host, smtp.port)).expect("mailer"),
        shop_url: "https://shop.example".into(),
        email_max_age: chrono::TimeDelta::hours(24),
    };
    World {
        nats,
        smtp,
        users_url,
        notifications_url: server.base_url.clone(),
        db,
        handler,
        _servers: vec![users.server, server],
    }
}

impl World {
    /// Registers a customer; returns their id.
    pub async fn customer(&self, email: &str, name: &str) -> Uuid {
        let resp = reqwest::Client::new()
            .post(format!("{}/users", self.users_url))
            .json(&json!({"email": email, "password": PASSWORD, "name": name}))
            .send()
            .await
            .expect("register");
        let body: Value = resp.json().await.expect("json");
        body["id"].as_str().and_then(|id| id.parse().ok()).expect("id")
    }

    /// Starts a consumer task (as the service does at start).
    pub fn start_consumer(&self) -> (tokio::task::JoinHandle<()>, tokio::sync::watch::Sender<bool>) {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let task =
            tokio::spawn(notifications::consumer::consume_forever(self.handler.clone(), self.nats.url.clone(), stop));
        (task, stop_tx)
    }

    /// Publishes an event as orders' relay does; `msg_id` is JetStream's dedupe id (the event id
    /// normally); `extra_headers` are `traceparent`, `Occurred-At`.
    pub async fn publish(
        &self,
        kind: &str,
        event_id: Uuid,
        msg_id: Uuid,
        event: &OrderEvent,
        extra_headers: &[(&str, &str)],
    ) {
        // The stream exists once a consumer or the relay has created it.
        notifications::consumer::subscribe(&self.nats.url).await.expect("stream");
        let context = jetstream::new(async_nats::connect(&self.nats.url).await.expect("connect"));
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id.to_string().as_str());
        headers.insert("Event-Id", event_id.to_string().as_str());
        for (name, value) in extra_headers {
            headers.insert(*name, *value);
        }
        let payload = serde_json::to_vec(event).expect("json");
        let ack = context
            .publish_with_headers(format!("{SUBJECT_PREFIX}{kind}"), headers, payload.into())
            .await
            .expect("publish");
        ack.await.expect("acknowledged");
    }

    /// How many events were handled.
    pub async fn handled(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM notifications").fetch_one(&self.db.pool).await.expect("count")
    }

    /// Waits until `n` events were handled (or fails after 40 s: messages a killed consumer held
    /// come back after the ack wait, 10 s).
    pub async fn wait_handled(&self, n: i64) {
        for _ in 0..400 {
            if self.handled().await >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("only {} of {n} events handled", self.handled().await);
    }
}

/// An event of `user`'s order.
pub fn order_event(user: Uuid, status: &str, refunded: bool) -> OrderEvent {
    OrderEvent {
        order_id: Uuid::now_v7(),
        user_id: user,
        status: status.into(),
        total: 5489,
        currency: "EUR".into(),
        cancel_reason: (status == "cancelled").then(|| "cancelled_by_admin".to_owned()),
        refunded,
    }
}

/// An admin token, for `/emails`.
pub fn admin_token() -> String {
    TestKeys::get().token(&Uuid::new_v4().to_string(), shopkit::auth::Role::Admin)
}
