//! The outbox: every change of an order's life writes its event in the same statement, one
//! event per change, none for a placement that failed.

use serde_json::{Value, json};

use crate::helpers::{GOOD_CARD, Shop, id_of, item, new_key, problem, spawn_shop};

/// `(kind, payload)` of the order's events, oldest first.
async fn events(shop: &Shop, order: &str) -> Vec<(String, Value)> {
    let rows: Vec<(String, String, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT kind, payload, published_at FROM outbox WHERE order_id = $1::uuid ORDER BY created_at, id",
    )
    .bind(order)
    .fetch_all(&shop.orders_db.pool)
    .await
    .expect("outbox");
    rows.into_iter()
        .map(|(kind, payload, published)| {
            assert!(published.is_none(), "nothing publishes them yet");
            (kind, serde_json::from_str(&payload).expect("a JSON object"))
        })
        .collect()
}

#[tokio::test]
async fn each_change_of_an_order_writes_one_event() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let (user_id, token) = shop.customer("ada@example.com").await;
    let admin = shop.admin().await;

    let sold = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
    assert_eq!(shop.pay(&token, &sold, GOOD_CARD, &new_key()).await.status(), 200);
    for status in ["shipped", "delivered"] {
        assert_eq!(shop.patch(&admin, &sold, json!({"status": status})).await.status(), 200);
    }
    let kinds: Vec<String> = events(&shop, &sold).await.into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered"]);
    let (_, paid) = &events(&shop, &sold).await[1];
    assert_eq!(paid["user_id"], user_id.as_str());
    assert_eq!(
        (paid["status"].as_str(), paid["total"].as_i64(), paid["currency"].as_str()),
        (Some("paid"), Some(4999), Some("EUR"))
    );

    let dropped = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
    assert_eq!(shop.cancel(&token, &dropped).await.status(), 200);
    let dropped_events = events(&shop, &dropped).await;
    assert_eq!(dropped_events.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["OrderPlaced", "OrderCancelled"]);
    assert_eq!(dropped_events[1].1["cancel_reason"], "cancelled_by_customer");

    // A placement refused for stock changes nothing and says nothing.
    problem(shop.place(&token, None, json!([item(&lamp, 100)])).await, 409).await;
    let all: i64 = sqlx::query_scalar("SELECT count(DISTINCT id) FROM outbox")
        .fetch_one(&shop.orders_db.pool)
        .await
        .expect("count");
    assert_eq!(all, 6, "one event per change, each its own id");
}

/// Every message of the ORDERS stream: `(Event-Id, subject)`; each says when its change happened.
async fn stream_messages(url: &str) -> Vec<(String, String)> {
    use futures::StreamExt as _;
    let context = async_nats::jetstream::new(shopkit::nats::connect(url).await.expect("connect"));
    let stream = context.get_stream(orders::relay::STREAM).await.expect("stream");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut out = Vec::new();
    let mut batch =
        consumer.fetch().max_messages(1000).expires(std::time::Duration::from_secs(1)).messages().await.expect("fetch");
    while let Some(Ok(message)) = batch.next().await {
        let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.to_string());
        // When the change happened, as the outbox row says: consumers judge an event's age by it.
        let occurred = header(shopwire::events::OCCURRED_AT).expect("Occurred-At on every event");
        let occurred = chrono::DateTime::parse_from_rfc3339(&occurred).expect("RFC 3339");
        let age = chrono::Utc::now() - occurred.with_timezone(&chrono::Utc);
        assert!(age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::minutes(5), "{occurred}");
        out.push((header("Event-Id").unwrap_or_default(), message.subject.to_string()));
    }
    out
}

#[tokio::test]
async fn the_relay_publishes_every_event_once_though_it_is_killed_again_and_again() {
    let shop = spawn_shop().await;
    let nats = shopkit::nats_server::NatsServer::start().await;
    let lamp = shop.product("LAMP", 1000, 100).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let database = shopkit::db::Database::from_pool(shop.orders_db.pool.clone());
    // Already migrated: this marks the handle so the relay's wait for migrations returns.
    database.migrate(&orders::MIGRATOR).await.expect("migrations");
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let start_relay = || tokio::spawn(orders::relay::relay_forever(database.clone(), nats.url.clone(), stop.clone()));
    let mut relay = start_relay();
    // Orders keep coming while the relay is killed at arbitrary points and started again.
    for round in 0..12u64 {
        let order = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
        assert_eq!(shop.pay(&token, &order, GOOD_CARD, &new_key()).await.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(15 * (round % 4))).await;
        relay.abort();
        let _ = relay.await;
        relay = start_relay();
    }
    let unpublished = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&shop.orders_db.pool)
            .await
            .expect("count")
    };
    for _ in 0..100 {
        if unpublished().await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(unpublished().await, 0, "the relay caught up");
    relay.abort();

    let outbox: Vec<(uuid::Uuid, String)> = sqlx::query_as("SELECT id, kind FROM outbox ORDER BY created_at, id")
        .fetch_all(&shop.orders_db.pool)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 24, "12 placed, 12 paid");
    let published = stream_messages(&nats.url).await;
    let expected: Vec<(String, String)> =
        outbox.iter().map(|(id, kind)| (id.to_string(), format!("orders.{kind}"))).collect();
    assert_eq!(published, expected, "each event once, in the outbox's order");
}

#[tokio::test]
async fn the_relay_logs_in_with_the_login_its_url_carries() {
    let shop = spawn_shop().await;
    let nats = shopkit::nats_server::NatsServer::start_with_login("orders", "p@ss:word").await;
    // The password's `@` and `:` are percent-encoded in the URL, as URLs want them.
    let url = format!("nats://orders:p%40ss%3Aword@127.0.0.1:{}", nats.port);
    let anonymous = shopkit::nats::connect(&format!("nats://127.0.0.1:{}", nats.port)).await;
    assert!(anonymous.is_err(), "the server wants a login");
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let order = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
    let database = shopkit::db::Database::from_pool(shop.orders_db.pool.clone());
    database.migrate(&orders::MIGRATOR).await.expect("migrations");
    let context = orders::relay::connect(&url).await.expect("logged in");
    assert_eq!(orders::relay::publish_batch(&database, &context).await.expect("published"), 1);
    let published = stream_messages(&url).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].1, "orders.OrderPlaced", "order {order}");
}
