//! Dependencies that are down or slow, and concurrency.

use std::time::{Duration, Instant};

use payments::config::Simulation;
use serde_json::{Value, json};

use crate::helpers::{GOOD_CARD, ShopOptions, id_of, item, new_key, problem, spawn_shop, spawn_shop_with};

#[tokio::test]
async fn products_down_means_503_quickly_and_nothing_reserved() {
    let mut shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    shop.products.take().expect("products server").stop().await;

    let started = Instant::now();
    let body = problem(shop.place(&token, None, json!([item(&lamp, 1)])).await, 503).await;
    assert!(started.elapsed() < Duration::from_secs(2), "answered in {:?}", started.elapsed());
    assert!(body["detail"].as_str().expect("detail").contains("products"), "{body}");
    assert_eq!(shop.stock(&lamp).await, 10);
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status NOT IN ('reserving', 'failed')")
        .fetch_one(&shop.orders_db.pool)
        .await
        .expect("count");
    assert_eq!(visible, 0, "no order was placed");
}

#[tokio::test]
async fn slow_payments_mean_503_within_two_seconds_and_a_consistent_outcome() {
    let shop = spawn_shop_with(ShopOptions {
        simulation: Simulation { latency: Duration::from_secs(3), failure_rate: 0.0 },
        ..Default::default()
    })
    .await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let id = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);

    let started = Instant::now();
    problem(shop.pay(&token, &id, GOOD_CARD, &new_key()).await, 503).await;
    assert!(started.elapsed() < Duration::from_secs(2), "answered in {:?}", started.elapsed());
    let order: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    assert_eq!(order["status"], "pending", "not marked paid without a confirmed charge");
    problem(shop.cancel(&token, &id).await, 409).await;

    // Once the processor has settled, the sweeper reconciles the order with payments.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    shop.flows.recover(Duration::ZERO).await.expect("recover");
    let order: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    let charged = shop.payment_statuses(&id).await.contains(&"succeeded".to_owned());
    assert_eq!(order["status"], if charged { "paid" } else { "pending" }, "order agrees with payments");
}

#[tokio::test]
async fn processor_failures_are_503_and_a_retry_with_the_same_key_succeeds() {
    let shop = spawn_shop_with(ShopOptions {
        simulation: Simulation { latency: Duration::ZERO, failure_rate: 1.0 },
        ..Default::default()
    })
    .await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let id = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
    problem(shop.pay(&token, &id, GOOD_CARD, &new_key()).await, 503).await;
    assert!(shop.payment_statuses(&id).await.is_empty(), "nothing charged");
    shop.flows.recover(Duration::ZERO).await.expect("recover");
    let order: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    assert_eq!(order["status"], "pending", "the failed attempt is cleared and the order can be paid again");
}

/// 40 customers race for 10 units: exactly 10 orders exist, stock ends at 0, and no
/// reservation is left behind by the 30 refused orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_orders_against_stock_ten() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let attempts = (0..40).map(|_| {
        let (shop, token, lamp) = (&shop, token.clone(), lamp.clone());
        async move { shop.place(&token, Some(&new_key()), json!([item(&lamp, 1)])).await.status().as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 30, "{statuses:?}");
    assert_eq!(shop.stock(&lamp).await, 0);
    let orders: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&shop.orders_db.pool).await.expect("count");
    assert_eq!(orders, 10);
    assert_eq!(shop.held().await, 10, "exactly the 10 orders hold stock");
}
