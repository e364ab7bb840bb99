//! The purchase flow and the order lifecycle.

use serde_json::{Value, json};

use crate::helpers::{GOOD_CARD, error_fields, id_of, item, new_key, problem, spawn_shop};

#[tokio::test]
async fn register_login_order_pay_ship_deliver() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let mug = shop.product("MUG", 1299, 5).await;
    let (user_id, token) = shop.customer("ada@example.com").await;

    let order = shop.place_ok(&token, json!([item(&lamp, 2), item(&mug, 1)])).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["user_id"], user_id.as_str());
    assert_eq!(order["total"], 2 * 4999 + 1299);
    assert_eq!(order["currency"], "EUR");
    assert_eq!(
        order["items"][0],
        json!({"product_id": lamp, "name": "Product LAMP", "unit_price": 4999, "quantity": 2, "line_total": 9998})
    );
    assert!(order["expires_at"].is_string());
    assert_eq!((shop.stock(&lamp).await, shop.stock(&mug).await), (8, 4), "stock reserved");
    let id = id_of(&order);

    let resp = shop.pay(&token, &id, GOOD_CARD, &new_key()).await;
    assert_eq!(resp.status(), 200);
    let paid: Value = resp.json().await.expect("json");
    assert_eq!(paid["status"], "paid");
    assert!(paid["payment_id"].is_string());
    assert_eq!(shop.payment_statuses(&id).await, ["succeeded"]);

    let admin = shop.admin().await;
    problem(shop.patch(&token, &id, json!({"status": "shipped"})).await, 403).await;
    problem(shop.patch(&admin, &id, json!({"status": "delivered"})).await, 409).await;
    let shipped: Value = shop.patch(&admin, &id, json!({"status": "shipped"})).await.json().await.expect("json");
    assert_eq!(shipped["status"], "shipped");
    let delivered: Value = shop.patch(&admin, &id, json!({"status": "delivered"})).await.json().await.expect("json");
    assert_eq!(delivered["status"], "delivered");
    problem(shop.cancel(&token, &id).await, 409).await;
    problem(shop.delete(&token, &id).await, 409).await;
    assert_eq!((shop.stock(&lamp).await, shop.stock(&mug).await), (8, 4), "sold units stay sold");

    // A later price change does not alter the order's snapshot.
    let resp = shop
        .client
        .patch(format!("{}/products/{lamp}", shop.products_url))
        .bearer_auth(&admin)
        .json(&json!({"price": 1}))
        .send()
        .await
        .expect("patch product");
    assert_eq!(resp.status(), 200);
    let fetched: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    assert_eq!(fetched["items"][0]["unit_price"], 4999);
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_pending_and_payable() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let id = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
    for (card, code) in [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
    ] {
        let body = problem(shop.pay(&token, &id, card, &new_key()).await, 402).await;
        assert!(body["detail"].as_str().expect("detail").contains(code), "{body}");
    }
    let order: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    assert_eq!(order["status"], "pending");
    let body = problem(shop.pay(&token, &id, "4242424242424241", &new_key()).await, 422).await;
    assert_eq!(error_fields(&body), ["card.number"]);
    assert_eq!(shop.pay(&token, &id, GOOD_CARD, &new_key()).await.status(), 200);
    assert_eq!(shop.payment_statuses(&id).await, ["declined", "declined", "declined", "succeeded"]);
    problem(shop.pay(&token, &id, GOOD_CARD, &new_key()).await, 409).await;
}

#[tokio::test]
async fn cancelling_releases_stock_and_refunds_paid_orders() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;

    let pending = id_of(&shop.place_ok(&token, json!([item(&lamp, 3)])).await);
    assert_eq!(shop.stock(&lamp).await, 7);
    let cancelled: Value = shop.cancel(&token, &pending).await.json().await.expect("json");
    assert_eq!(
        (cancelled["status"].clone(), cancelled["cancel_reason"].clone()),
        (json!("cancelled"), json!("cancelled_by_customer"))
    );
    assert_eq!(shop.stock(&lamp).await, 10);

    let paid = id_of(&shop.place_ok(&token, json!([item(&lamp, 4)])).await);
    assert_eq!(shop.pay(&token, &paid, GOOD_CARD, &new_key()).await.status(), 200);
    assert_eq!(shop.stock(&lamp).await, 6);
    let cancelled: Value = shop.cancel(&token, &paid).await.json().await.expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(shop.payment_statuses(&paid).await, ["refunded"]);
    assert_eq!(shop.stock(&lamp).await, 10);
    assert_eq!(shop.held().await, 0);
    problem(shop.cancel(&token, &paid).await, 409).await;
}

#[tokio::test]
async fn deleting_pending_and_cancelled_orders_but_never_paid_ones() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let pending = id_of(&shop.place_ok(&token, json!([item(&lamp, 2)])).await);
    assert_eq!(shop.delete(&token, &pending).await.status(), 204);
    assert_eq!(shop.stock(&lamp).await, 10, "a deleted pending order gives its stock back");
    problem(shop.get(&token, &format!("/orders/{pending}")).await, 404).await;

    let paid = id_of(&shop.place_ok(&token, json!([item(&lamp, 1)])).await);
    shop.pay(&token, &paid, GOOD_CARD, &new_key()).await;
    let body = problem(shop.delete(&token, &paid).await, 409).await;
    assert!(body["detail"].as_str().expect("detail").contains("cancel it first"), "{body}");
    shop.cancel(&token, &paid).await;
    assert_eq!(shop.delete(&token, &paid).await.status(), 204);
    problem(shop.get(&token, &format!("/orders/{paid}")).await, 404).await;
    assert_eq!(shop.stock(&lamp).await, 10);
}

#[tokio::test]
async fn editing_a_pending_order_adjusts_its_reservation_all_or_nothing() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let mug = shop.product("MUG", 500, 3).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let id = id_of(&shop.place_ok(&token, json!([item(&lamp, 2)])).await);

    let edited: Value =
        shop.patch(&token, &id, json!({"items": [item(&lamp, 1), item(&mug, 3)]})).await.json().await.expect("json");
    assert_eq!(edited["total"], 1000 + 3 * 500);
    assert_eq!((shop.stock(&lamp).await, shop.stock(&mug).await), (9, 0));

    let body = problem(shop.patch(&token, &id, json!({"items": [item(&lamp, 1), item(&mug, 4)]})).await, 409).await;
    assert_eq!(error_fields(&body), ["items[1].quantity"]);
    assert!(body["detail"].as_str().expect("detail").contains(&mug), "names the product: {body}");
    let unchanged: Value = shop.get(&token, &format!("/orders/{id}")).await.json().await.expect("json");
    assert_eq!(unchanged["total"], 2500);
    assert_eq!((shop.stock(&lamp).await, shop.stock(&mug).await), (9, 0));

    shop.pay(&token, &id, GOOD_CARD, &new_key()).await;
    problem(shop.patch(&token, &id, json!({"items": [item(&lamp, 1)]})).await, 409).await;
    problem(shop.patch(&token, &id, json!({})).await, 422).await;
}

#[tokio::test]
async fn customers_only_see_and_touch_their_own_orders() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (ada_id, ada) = shop.customer("ada@example.com").await;
    let (_, grace) = shop.customer("grace@example.com").await;
    let id = id_of(&shop.place_ok(&ada, json!([item(&lamp, 1)])).await);
    shop.place_ok(&grace, json!([item(&lamp, 1)])).await;

    problem(shop.get(&grace, &format!("/orders/{id}")).await, 404).await;
    problem(shop.pay(&grace, &id, GOOD_CARD, &new_key()).await, 404).await;
    problem(shop.cancel(&grace, &id).await, 404).await;
    problem(shop.delete(&grace, &id).await, 404).await;
    problem(shop.patch(&grace, &id, json!({"items": [item(&lamp, 5)]})).await, 404).await;
    let mine: Value = shop.get(&grace, "/orders").await.json().await.expect("json");
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    problem(shop.get(&grace, &format!("/orders?user_id={ada_id}")).await, 403).await;

    // Customers order for themselves; an admin may order for anyone and sees everything.
    // (Two units, so this order's lines differ from the others' in the list below.)
    let body = json!({"items": [item(&lamp, 2)], "user_id": ada_id});
    let resp = shop
        .client
        .post(format!("{}/orders", shop.orders_url))
        .bearer_auth(&grace)
        .json(&body)
        .send()
        .await
        .expect("send");
    problem(resp, 403).await;
    let admin = shop.admin().await;
    let resp = shop
        .client
        .post(format!("{}/orders", shop.orders_url))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);
    let all: Value = shop.get(&admin, "/orders").await.json().await.expect("json");
    assert_eq!(all["items"].as_array().expect("items").len(), 3);
    for listed in all["items"].as_array().expect("items") {
        // The page loads every order's lines at once: each must get its own, in order.
        let one: Value = shop
            .get(&admin, &format!("/orders/{}", listed["id"].as_str().expect("id")))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(listed["items"], one["items"], "lines of {}", listed["id"]);
        assert!(!one["items"].as_array().expect("lines").is_empty(), "every order has lines");
    }
    let adas: Value =
        shop.get(&admin, &format!("/orders?user_id={ada_id}&status=pending")).await.json().await.expect("json");
    assert_eq!(adas["items"].as_array().expect("items").len(), 2);
    let page: Value = shop.get(&admin, "/orders?limit=2").await.json().await.expect("json");
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let rest: Value = shop.get(&admin, &format!("/orders?limit=2&cursor={cursor}")).await.json().await.expect("json");
    assert_eq!(rest["items"].as_array().expect("items").len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert!(page.get("total").is_none(), "cursor pages do not count");
    assert_eq!(shop.get(&ada, &format!("/orders/{id}")).await.status(), 200);

    // Numbered pages for staff screens: a total, no cursor.
    let second: Value = shop.get(&admin, "/orders?limit=2&page=2").await.json().await.expect("json");
    assert_eq!((second["total"].as_i64(), second["items"].as_array().map(Vec::len)), (Some(3), Some(1)));
    assert!(second["next_cursor"].is_null());
    assert_eq!(second["items"][0]["id"], rest["items"][0]["id"], "page 2 is what the cursor gave");
    problem(shop.get(&admin, &format!("/orders?page=2&cursor={cursor}")).await, 422).await;
    // An order number (the id's last eight hex digits, any case) finds that order.
    let number = id.replace('-', "")[24..].to_uppercase();
    let found: Value = shop.get(&admin, &format!("/orders?number={number}&page=1")).await.json().await.expect("json");
    assert_eq!((found["total"].as_i64(), &found["items"][0]["id"]), (Some(1), &json!(id)));
    let none: Value = shop.get(&admin, "/orders?number=00000000").await.json().await.expect("json");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    let bad = problem(shop.get(&admin, "/orders?number=12345").await, 422).await;
    assert_eq!(error_fields(&bad), ["number"]);
    // A customer's number search stays within their own orders.
    let theirs: Value = shop.get(&ada, &format!("/orders?number={number}")).await.json().await.expect("json");
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(1), "ada's own order");
}

#[tokio::test]
async fn idempotent_replays_place_and_charge_once() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let key = new_key();
    let first: Value = shop.place(&token, Some(&key), json!([item(&lamp, 2)])).await.json().await.expect("json");
    for _ in 0..3 {
        let resp = shop.place(&token, Some(&key), json!([item(&lamp, 2)])).await;
        assert_eq!(resp.status(), 201);
        let again: Value = resp.json().await.expect("json");
        assert_eq!(again["id"], first["id"]);
    }
    assert_eq!(shop.stock(&lamp).await, 8, "reserved once");
    let body = problem(shop.place(&token, Some(&key), json!([item(&lamp, 3)])).await, 422).await;
    assert_eq!(error_fields(&body), ["Idempotency-Key"]);

    let id = id_of(&first);
    let pay_key = new_key();
    let paid: Value = shop.pay(&token, &id, GOOD_CARD, &pay_key).await.json().await.expect("json");
    let replay: Value = shop.pay(&token, &id, GOOD_CARD, &pay_key).await.json().await.expect("json");
    assert_eq!(replay["payment_id"], paid["payment_id"]);
    assert_eq!(shop.payment_statuses(&id).await, ["succeeded"], "charged once");
}

#[tokio::test]
async fn stock_and_input_errors_name_the_item() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 1000, 2).await;
    let (_, token) = shop.customer("ada@example.com").await;
    let body = problem(shop.place(&token, None, json!([item(&lamp, 3)])).await, 409).await;
    assert!(body["detail"].as_str().expect("detail").contains(&lamp), "{body}");
    assert_eq!(error_fields(&body), ["items[0].quantity"]);
    let unknown = uuid::Uuid::new_v4().to_string();
    let body = problem(shop.place(&token, None, json!([item(&lamp, 1), item(&unknown, 1)])).await, 422).await;
    assert_eq!(error_fields(&body), ["items[1].product_id"]);
    let body = problem(shop.place(&token, None, json!([item(&lamp, 0)])).await, 422).await;
    assert_eq!(error_fields(&body), ["items[0].quantity"]);
    problem(shop.place(&token, None, json!([])).await, 422).await;
    assert_eq!(shop.stock(&lamp).await, 2);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&shop.orders_db.pool).await.expect("count");
    assert_eq!(rows, 0, "refused orders leave no row");
}

#[test]
fn committed_openapi_spec_matches_the_code() {
    let unmatched = shopkit::server::unmatched_schema_rules(&orders::openapi(), &orders::api::schema_rules());
    assert!(unmatched.is_empty(), "schema rules naming nothing in the spec: {unmatched:?}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/orders.json");
    shopkit::testing::assert_spec_fresh(
        &shopkit::server::spec_json(&orders::openapi(), &orders::api::schema_rules()),
        path,
        "orders",
    );
}
