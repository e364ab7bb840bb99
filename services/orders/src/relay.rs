//! The outbox relay: publishes the order events the outbox holds to NATS JetStream, oldest
//! first, and marks them published. The rows stay locked (and unmarked) until JetStream has
//! acknowledged every message of the batch, so a relay stopped at any point loses nothing; a
//! batch published but not marked is published again, and JetStream drops the copies by
//! `Nats-Msg-Id` (the event id) within its duplicate window. Consumers deduplicate on the event
//! id too, for anything older.

use std::time::Duration;

use async_nats::{HeaderMap, jetstream};
use shopkit::db::Database;

use crate::store::outbox;

pub use shopwire::events::{STREAM, SUBJECT_PREFIX};

/// Events per transaction.
const BATCH: i64 = 100;

/// Connects to `url` (with the login it carries, if any) and makes sure the stream exists.
pub async fn connect(url: &str) -> anyhow::Result<jetstream::Context> {
    let client = shopkit::nats::connect(url).await?;
    let context = jetstream::new(client);
    let config = jetstream::stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![format!("{SUBJECT_PREFIX}>")],
        duplicate_window: Duration::from_secs(shopwire::events::DUPLICATE_WINDOW_SECS),
        ..Default::default()
    };
    if let Err(err) = context.get_or_create_stream(config).await {
        // notifications (or another replica) may have created it between the look-up and the
        // creation: the server then refuses ours ("subjects overlap"), and theirs is the one.
        context.get_stream(STREAM).await.map_err(|_| err)?;
    }
    Ok(context)
}

/// Publishes one batch; returns how many events went out.
pub async fn publish_batch(database: &Database, context: &jetstream::Context) -> anyhow::Result<usize> {
    let mut tx = database.pool().begin().await?;
    let events = outbox::lock_unpublished(&mut tx, BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut acks = Vec::with_capacity(events.len());
    for event in &events {
        let mut headers = HeaderMap::new();
        // JetStream drops a republished copy by this id; consumers read the event id from
        // `Event-Id` (and deduplicate on it too).
        headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
        headers.insert("Event-Id", event.id.to_string().as_str());
        headers.insert("Order-Id", event.order_id.to_string().as_str());
        let occurred_at = event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        headers.insert(shopwire::events::OCCURRED_AT, occurred_at.as_str());
        if let Some(traceparent) = &event.traceparent {
            headers.insert("traceparent", traceparent.as_str());
        }
        let subject = format!("{SUBJECT_PREFIX}{}", event.kind);
        acks.push(context.publish_with_headers(subject, headers, event.payload.clone().into()).await?);
    }
    for ack in acks {
        ack.await?;
    }
    let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
    outbox::mark_published(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(ids.len())
}

/// Publishes forever: a batch, then (when the outbox was empty) a short pause. A failure (NATS
/// or the database unreachable) is logged and retried after a pause; `stop` ends the loop
/// between batches.
pub async fn relay_forever(database: Database, url: String, mut stop: tokio::sync::watch::Receiver<bool>) {
    database.wait_until_migrated().await;
    let mut context = None;
    loop {
        let pause = match &context {
            None => match connect(&url).await {
                Ok(connected) => {
                    tracing::info!(url = shopkit::nats::redacted(&url), "outbox relay connected to NATS");
                    context = Some(connected);
                    Duration::ZERO
                }
                Err(err) => {
                    tracing::warn!(error = %err, url = shopkit::nats::redacted(&url), "outbox relay cannot reach NATS");
                    Duration::from_secs(2)
                }
            },
            Some(connected) => match publish_batch(&database, connected).await {
                Ok(0) => Duration::from_millis(200),
                Ok(sent) => {
                    tracing::debug!(sent, "order events published");
                    Duration::ZERO
                }
                Err(err) => {
                    tracing::warn!(error = %err, "publishing order events failed; retrying");
                    Duration::from_secs(1)
                }
            },
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}
