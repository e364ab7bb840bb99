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
