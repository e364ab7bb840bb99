//! Expiry of unpaid orders and recovery of sagas interrupted by a crash.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shopkit::{auth::Role, testing::TestKeys};
use uuid::Uuid;

use crate::helpers::{ShopOptions, id_of, item, new_key, spawn_shop, spawn_shop_with};

#[tokio::test]
async fn unpaid_orders_expire_and_release_their_stock() {
    let shop = spawn_shop_with(ShopOptions {
        order_ttl: Duration::from_secs(1),
        sweep_interval: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let id = id_of(&shop.place_ok(&token, json!([item(&lamp, 4)])).await);
    assert_eq!(shop.stock(&lamp).await, 6);
    let deadline = Instant::now() + Duration::from_secs(10);
    let order = loop {
        let order: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
        if order["status"] == "cancelled" || Instant::now() > deadline {
            break order;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((order["status"].clone(), order["cancel_reason"].clone()), (json!("cancelled"), json!("expired")));
    // The stock goes back just after the cancellation commits, so it may lag the status.
    let stock = loop {
        let stock = shop.stock(&lamp).await;
        if stock == 10 || Instant::now() > deadline {
            break stock;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(stock, 10);
    assert_eq!(shop.held().await, 0);
}

#[tokio::test]
async fn expiry_run_by_two_replicas_at_once_releases_each_order_once() {
    let shop = spawn_shop_with(ShopOptions { order_ttl: Duration::ZERO, ..Default::default() }).await;
    let lamp = shop.product("LAMP", 1000, 30).await;
    let (_, token) = shop.customer("ada@example.com").await;
    for _ in 0..5 {
        shop.place_ok(&token, json!([item(&lamp, 2)])).await;
    }
    let (a, b) = tokio::join!(shop.flows.expire_due(), shop.flows.expire_due());
    assert_eq!(a.expect("replica a") + b.expect("replica b"), 5, "each order expired by exactly one replica");
    assert_eq!(shop.stock(&lamp).await, 30);
}

#[tokio::test]
async fn a_crash_during_creation_is_undone_on_recovery() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    // The state a crash after reserving and before storing the order leaves: an order row in
    // stage `reserving` and stock held by products.
    let order_id = Uuid::now_v7();
    sqlx::query("INSERT INTO orders (id, user_id, status, request_hash) VALUES ($1, $2, 'reserving', 'x')")
        .bind(order_id)
        .bind(Uuid::new_v4())
        .execute(&shop.orders_db.pool)
        .await
        .expect("insert");
    let service = TestKeys::get().token("orders", Role::Service);
    let resp = shop
        .client
        .put(format!("{}/reservations/{order_id}", shop.products_url))
        .bearer_auth(&service)
        .json(&json!({"lines": [item(&lamp, 3)]}))
        .send()
        .await
        .expect("reserve");
    assert_eq!(resp.status(), 200);
    assert_eq!(shop.stock(&lamp).await, 7);

    assert_eq!(shop.flows.recover(Duration::ZERO).await.expect("recover"), 1);
    assert_eq!(shop.stock(&lamp).await, 10, "stock back");
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&shop.orders_db.pool).await.expect("count");
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn a_crash_after_charging_is_completed_on_recovery() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let order = shop.place_ok(&token, json!([item(&lamp, 1)])).await;
    let id = id_of(&order);
    // The state a crash between the charge and recording it leaves: the attempt is recorded
    // on the order, and payments has a succeeded charge.
    let key = new_key();
    sqlx::query("UPDATE orders SET payment_key = $2, payment_started_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .bind(&key)
        .execute(&shop.orders_db.pool)
        .await
        .expect("attempt");
    let card =
        shopwire::CardBody { number: "4242424242424242".into(), exp_month: 12, exp_year: 2030, cvc: "123".into() };
    let payment = shop
        .flows
        .deps
        .charge(Uuid::parse_str(&id).expect("uuid"), 1000, "EUR", &card, &format!("{id}:{key}"))
        .await
        .expect("charge");
    assert_eq!(payment.status, "succeeded");

    assert_eq!(shop.flows.recover(Duration::ZERO).await.expect("recover"), 1);
    let order: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    assert_eq!(order["status"], "paid");
    assert_eq!(order["payment_id"], payment.id.to_string().as_str());
}
