//! The durable JetStream consumer: each order event is handled once (the event id is the key
//! of `notifications`), its e-mail sent over SMTP, then the message acknowledged. A message not
//! acknowledged (a crash, SMTP or users down) is delivered again; one already handled is only
//! acknowledged. The event's `traceparent` header makes its handling part of the order's trace.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt as _;
use serde::Deserialize;
use shopkit::{
    client::{ClientError, ServiceClient, TokenSource},
    db::Database,
};
use shopwire::events::{DUPLICATE_WINDOW_SECS, OCCURRED_AT, OrderEvent, STREAM, SUBJECT_PREFIX};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use uuid::Uuid;

use crate::{
    config::{CLIENT_ID, Config},
    email::{Customer, compose},
    mailer::{Mailer, SetupError},
    store,
};

/// The durable consumer's name: every replica shares it, so each event goes to one of them.
pub const DURABLE: &str = "notifications";
/// How long JetStream waits for an acknowledgement before delivering a message again.
pub const ACK_WAIT: Duration = Duration::from_secs(10);

/// What handling an event needs.
#[derive(Clone)]
pub struct Handler {
    pub database: Database,
    pub users: ServiceClient,
    pub mailer: Mailer,
    pub shop_url: String,
    /// Events older than this get no e-mail (see [`Config::email_max_age`]).
    pub email_max_age: chrono::TimeDelta,
}

impl Handler {
    /// From the config; fails when the mailer cannot be set up (a bad sender, CA file or TLS
    /// setting), so the service does not start to fail on every event.
    pub fn new(database: Database, config: &Config) -> Result<Self, SetupError> {
        let token_url = format!("{}/auth/token", config.users_url.trim_end_matches('/'));
        let tokens = Arc::new(TokenSource::at("users", token_url, CLIENT_ID.to_owned(), config.client_secret.clone()));
        Ok(Self {
            database,
            users: ServiceClient::new("users", &config.users_url, tokens),
            mailer: Mailer::new(&config.smtp)?,
            shop_url: config.shop_url.clone(),
            email_max_age: config.email_max_age,
        })
    }
}

/// Why an event could not be handled now (the message is delivered again later).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("users: {0}")]
    Users(#[from] ClientError),
    #[error("smtp: {0}")]
    Smtp(String),
}

#[derive(Deserialize)]
struct User {
    email: String,
    name: String,
}

/// The stream (created by whichever of orders and notifications starts first) and the durable
/// consumer of every order event.
pub async fn subscribe(url: &str) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
    subscribe_with(&jetstream::new(shopkit::nats::connect(url).await?)).await
}

/// [`subscribe`] on a connection.
pub async fn subscribe_with(
    context: &jetstream::Context,
) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
    let config = jetstream::stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![format!("{SUBJECT_PREFIX}>")],
        duplicate_window: Duration::from_secs(DUPLICATE_WINDOW_SECS),
        ..Default::default()
    };
    let stream = match context.get_or_create_stream(config).await {
        Ok(stream) => stream,
        // orders' relay (or another replica) created it between the look-up and the creation:
        // the server refuses ours ("subjects overlap") and theirs is the one to read.
        Err(err) => context.get_stream(STREAM).await.map_err(|_| err)?,
    };
    let config = pull::Config {
        durable_name: Some(DURABLE.to_owned()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        // A message handed to a replica that died comes back after this: long enough for a slow
        // SMTP server, short enough that a crash delays e-mails by seconds.
        ack_wait: ACK_WAIT,
        filter_subject: format!("{SUBJECT_PREFIX}>"),
        ..Default::default()
    };
    match stream.get_or_create_consumer(DURABLE, config).await {
        Ok(consumer) => Ok(consumer),
        // Another replica created it at the same moment: share theirs.
        Err(err) => Ok(stream.get_consumer(DURABLE).await.map_err(|_| err)?),
    }
}

/// Consumes forever, reconnecting after a failure; `stop` ends it between messages.
pub async fn consume_forever(handler: Handler, url: String, mut stop: tokio::sync::watch::Receiver<bool>) {
    handler.database.wait_until_migrated().await;
    loop {
        let failure = match subscribe(&url).await {
            Ok(consumer) => match consumer.messages().await {
                Ok(mut messages) => loop {
                    tokio::select! {
                        next = messages.next() => match next {
                            Some(Ok(message)) => settle(&handler, message).await,
                            Some(Err(err)) => break err.to_string(),
                            None => break "the message stream ended".to_owned(),
                        },
                        _ = stop.changed() => return,
                    }
                },
                Err(err) => err.to_string(),
            },
            Err(err) => err.to_string(),
        };
        tracing::warn!(error = failure, url = shopkit::nats::redacted(&url), "order events unavailable; retrying");
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Handles one message and acknowledges it, or asks for it again in a few seconds.
async fn settle(handler: &Handler, message: jetstream::Message) {
    let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.to_string());
    let kind = message.subject.strip_prefix(SUBJECT_PREFIX).unwrap_or(&message.subject).to_owned();
    let span = tracing::info_span!(
        "process order event",
        otel.name = format!("process {}", message.subject),
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.operation.type = "process",
        messaging.destination.name = %message.subject,
        messaging.message.id = header("Event-Id").unwrap_or_default(),
    );
    if let Some(traceparent) = header("traceparent")
        && let Ok(value) = poem::http::HeaderValue::from_str(&traceparent)
    {
        let mut headers = poem::http::HeaderMap::new();
        headers.insert("traceparent", value);
        // Fails only when the span is disabled (tracing off): nothing to join then.
        let _ = span.set_parent(shopkit::telemetry::propagation::extract(&headers));
    }
    let event_id = header("Event-Id").and_then(|id| Uuid::parse_str(&id).ok());
    let event = serde_json::from_slice::<OrderEvent>(&message.payload).ok();
    // Without the header (a relay older than it), the event counts as new.
    let occurred_at = header(OCCURRED_AT).and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok());
    let (Some(event_id), Some(event)) = (event_id, event) else {
        // Not an event this service understands: retrying would not change that.
        tracing::error!(parent: &span, subject = %message.subject, "malformed order event dropped");
        let _ = message.ack().await;
        return;
    };
    let occurred_at = occurred_at.map(|at| at.with_timezone(&chrono::Utc));
    let outcome = handle(handler, event_id, &kind, &event, occurred_at).instrument(span.clone()).await;
    let acked = match outcome {
        Ok(()) => message.ack().await,
        Err(err) => {
            tracing::warn!(parent: &span, error = %err, "order event not handled; it will come again");
            message.ack_with(AckKind::Nak(Some(Duration::from_secs(2)))).await
        }
    };
    if let Err(err) = acked {
        tracing::warn!(parent: &span, error = %err, "acknowledgement lost; the event will come again and be skipped");
    }
}

/// Handles event `id` once: the e-mail it calls for, then the record that it was handled. An
/// event that happened (`occurred_at`) longer ago than the handler's `email_max_age` is only
/// recorded: an e-mail about it would arrive too late to mean anything.
pub async fn handle(
    handler: &Handler,
    id: Uuid,
    kind: &str,
    event: &OrderEvent,
    occurred_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), HandleError> {
    let mut conn = handler.database.pool().acquire().await?;
    if store::handled(&mut conn, id).await? {
        tracing::info!(event_id = %id, "already handled");
        return Ok(());
    }
    if let Some(at) = occurred_at
        && chrono::Utc::now() - at > handler.email_max_age
    {
        tracing::info!(event_id = %id, occurred_at = %at, "too old for an e-mail; recorded without one");
        store::record(&mut conn, id, event.order_id, kind, None).await?;
        return Ok(());
    }
    drop(conn);
    let customer = match handler.users.get::<User>(&format!("/users/{}", event.user_id)).await {
        Ok(user) => Some(Customer { name: user.name, email: user.email }),
        // The account was deleted since: nobody to write to.
        Err(ClientError::Rejected { status, .. }) if status == 404 => None,
        Err(err) => return Err(err.into()),
    };
    let email = customer.and_then(|c| compose(kind, event, &c, &handler.shop_url));
    if let Some(email) = &email {
        handler.mailer.send(id, email).await.map_err(HandleError::Smtp)?;
        tracing::info!(event_id = %id, subject = %email.subject, "e-mail sent");
    }
    let mut conn = handler.database.pool().acquire().await?;
    store::record(&mut conn, id, event.order_id, kind, email.as_ref()).await?;
    Ok(())
}
