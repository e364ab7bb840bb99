//! Stock reservations: all or nothing, idempotent, releasable, race-free.

use serde_json::{Value, json};
use shopkit::auth::Role;
use uuid::Uuid;

use crate::helpers::{TestApp, error_fields, problem, product_body, spawn_app, token, with};

async fn product_with_stock(app: &TestApp, sku: &str, stock: i64) -> String {
    let product = app.seed(with(product_body(sku), "stock", json!(stock))).await;
    product["id"].as_str().expect("id").to_owned()
}

fn line(product: &str, quantity: i64) -> Value {
    json!({"product_id": product, "quantity": quantity})
}

#[tokio::test]
async fn reserving_takes_units_and_returns_a_price_snapshot() {
    let app = spawn_app().await;
    let lamp = product_with_stock(&app, "R-LAMP", 10).await;
    let order = Uuid::new_v4();
    let resp = app.reserve(&token(Role::Service), order, json!([line(&lamp, 3)])).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "active");
    assert_eq!(
        body["lines"],
        json!([{"product_id": lamp, "quantity": 3, "name": "Desk lamp", "unit_price": 4999, "currency": "EUR"}])
    );
    assert_eq!(app.stock_of(&lamp).await, 7);
    let product: Value = app.get_product(&lamp).await.json().await.expect("json");
    assert_eq!(product["stock"], 7, "stock shown is what is left for sale");
}

#[tokio::test]
async fn a_shortage_on_one_line_reserves_nothing() {
    let app = spawn_app().await;
    let lamp = product_with_stock(&app, "R-LAMP", 10).await;
    let mug = product_with_stock(&app, "R-MUG", 2).await;
    let resp = app.reserve(&token(Role::Service), Uuid::new_v4(), json!([line(&lamp, 4), line(&mug, 3)])).await;
    let body = problem(resp, 409).await;
    assert_eq!(error_fields(&body), ["lines[1].quantity"], "the short line is named");
    assert!(body["detail"].as_str().expect("detail").contains(&mug), "{body}");
    assert_eq!((app.stock_of(&lamp).await, app.stock_of(&mug).await), (10, 2), "no unit moved");
}

#[tokio::test]
async fn unknown_or_deleted_products_and_bad_lines_are_422() {
    let app = spawn_app().await;
    let service = token(Role::Service);
    let lamp = product_with_stock(&app, "R-LAMP", 10).await;
    let gone = product_with_stock(&app, "R-GONE", 10).await;
    assert_eq!(app.delete_product(&token(Role::Admin), &gone).await.status(), 204);
    let cases = [
        (json!([line(&lamp, 1), line(&Uuid::new_v4().to_string(), 1)]), vec!["lines[1].product_id"], "unknown product"),
        (json!([line(&gone, 1)]), vec!["lines[0].product_id"], "deleted product"),
        (json!([line(&lamp, 0)]), vec!["lines[0].quantity"], "zero quantity"),
        (json!([line(&lamp, -2)]), vec!["lines[0].quantity"], "negative quantity"),
        (json!([line(&lamp, 1), line(&lamp, 2)]), vec!["lines[1].product_id"], "duplicate product"),
        (json!([]), vec!["lines"], "no lines"),
    ];
    for (lines, fields, message) in cases {
        let body = problem(app.reserve(&service, Uuid::new_v4(), lines).await, 422).await;
        assert_eq!(error_fields(&body), fields, "{message}");
    }
    assert_eq!(app.stock_of(&lamp).await, 10, "no unit moved");
}

#[tokio::test]
async fn reserving_again_is_idempotent_and_adjusts_to_new_lines() {
    let app = spawn_app().await;
    let service = token(Role::Service);
    let lamp = product_with_stock(&app, "R-LAMP", 10).await;
    let mug = product_with_stock(&app, "R-MUG", 5).await;
    let order = Uuid::new_v4();
    for _ in 0..3 {
        assert_eq!(app.reserve(&service, order, json!([line(&lamp, 2)])).await.status(), 200);
    }
    assert_eq!(app.stock_of(&lamp).await, 8, "three identical calls hold 2 units once");

    // Change the order: fewer lamps, add mugs.
    assert_eq!(app.reserve(&service, order, json!([line(&lamp, 1), line(&mug, 4)])).await.status(), 200);
    assert_eq!((app.stock_of(&lamp).await, app.stock_of(&mug).await), (9, 1));

    // An adjustment that cannot be met leaves the previous reservation intact.
    problem(app.reserve(&service, order, json!([line(&lamp, 1), line(&mug, 6)])).await, 409).await;
    assert_eq!((app.stock_of(&lamp).await, app.stock_of(&mug).await), (9, 1));
    let held: Value = app.get_reservation(&service, order).await.json().await.expect("json");
    assert_eq!(held["lines"].as_array().expect("lines").len(), 2);

    // Drop the lamps: their units come back, and the answer and the stored lines agree.
    let resp = app.reserve(&service, order, json!([line(&mug, 3)])).await;
    assert_eq!(resp.status(), 200);
    let answered: Value = resp.json().await.expect("json");
    assert_eq!((app.stock_of(&lamp).await, app.stock_of(&mug).await), (10, 2));
    let held: Value = app.get_reservation(&service, order).await.json().await.expect("json");
    assert_eq!(answered["lines"], held["lines"], "{answered}");
    let lines = held["lines"].as_array().expect("lines");
    assert_eq!(
        (lines.len(), lines[0]["product_id"].as_str(), lines[0]["quantity"].as_i64()),
        (1, Some(mug.as_str()), Some(3))
    );
}

#[tokio::test]
async fn release_gives_units_back_once_and_blocks_later_reservations() {
    let app = spawn_app().await;
    let service = token(Role::Service);
    let lamp = product_with_stock(&app, "R-LAMP", 10).await;
    let order = Uuid::new_v4();
    app.reserve(&service, order, json!([line(&lamp, 4)])).await;
    assert_eq!(app.stock_of(&lamp).await, 6);
    for _ in 0..2 {
        assert_eq!(app.release(&service, order).await.status(), 204);
    }
    assert_eq!(app.stock_of(&lamp).await, 10, "released once, despite two calls");
    let held: Value = app.get_reservation(&service, order).await.json().await.expect("json");
    assert_eq!((held["status"].clone(), held["lines"].clone()), (json!("released"), json!([])));
    problem(app.reserve(&service, order, json!([line(&lamp, 1)])).await, 409).await;

    // Releasing an order that never reserved makes its late reservation fail too.
    let never = Uuid::new_v4();
    assert_eq!(app.release(&service, never).await.status(), 204);
    problem(app.reserve(&service, never, json!([line(&lamp, 1)])).await, 409).await;
    assert_eq!(app.stock_of(&lamp).await, 10);
    problem(app.get_reservation(&service, Uuid::new_v4()).await, 404).await;
}

#[tokio::test]
async fn releasing_returns_units_to_a_product_deleted_meanwhile() {
    let app = spawn_app().await;
    let service = token(Role::Service);
    let lamp = product_with_stock(&app, "R-LAMP", 5).await;
    let order = Uuid::new_v4();
    app.reserve(&service, order, json!([line(&lamp, 5)])).await;
    app.delete_product(&token(Role::Admin), &lamp).await;
    assert_eq!(app.release(&service, order).await.status(), 204);
    assert_eq!(app.stock_of(&lamp).await, 5);
}

#[tokio::test]
async fn only_services_and_admins_may_reserve() {
    let app = spawn_app().await;
    let lamp = product_with_stock(&app, "R-LAMP", 5).await;
    let order = Uuid::new_v4();
    problem(app.reserve(&token(Role::Customer), order, json!([line(&lamp, 1)])).await, 403).await;
    problem(app.release(&token(Role::Customer), order).await, 403).await;
    problem(app.get_reservation(&token(Role::Customer), order).await, 403).await;
    let resp = app
        .client
        .put(app.url(&format!("/reservations/{order}")))
        .json(&json!({"lines": [line(&lamp, 1)]}))
        .send()
        .await
        .expect("send");
    problem(resp, 401).await;
    assert_eq!(app.reserve(&token(Role::Admin), order, json!([line(&lamp, 1)])).await.status(), 200);
    assert_eq!(app.stock_of(&lamp).await, 4);
}

/// 50 orders race for 10 units: exactly 10 win, stock ends at 0 and never goes negative.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_reservations_of_one_unit_against_stock_ten() {
    let app = spawn_app().await;
    let lamp = product_with_stock(&app, "R-LAMP", 10).await;
    let service = token(Role::Service);
    let attempts = (0..50).map(|_| {
        let (app, lamp, service) = (&app, lamp.clone(), service.clone());
        async move { app.reserve(&service, Uuid::new_v4(), json!([line(&lamp, 1)])).await.status().as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;
    let won = statuses.iter().filter(|s| **s == 200).count();
    let lost = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((won, lost), (10, 40), "statuses: {statuses:?}");
    assert_eq!(app.stock_of(&lamp).await, 0);
    let held: i64 = sqlx::query_scalar("SELECT coalesce(sum(quantity), 0) FROM reservation_lines")
        .fetch_one(&app.db.pool)
        .await
        .expect("sum");
    assert_eq!(held, 10, "every unit taken is held by exactly one reservation");
}
