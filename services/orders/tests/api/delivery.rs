//! Delivery: the options the checkout shows, shipping priced for the destination and added to
//! the total, the VAT the total holds, and refusals before or after the reservation.

use serde_json::{Value, json};

use crate::helpers::{GOOD_CARD, Shop, error_fields, id_of, item, new_key, problem, spawn_shop};

fn address(country: &str) -> Value {
    json!({"recipient": "Ada Lovelace", "line1": "12 rue des Lilas", "postal_code": "75011", "city": "Paris",
           "country": country})
}

async fn place_delivered(shop: &Shop, token: &str, items: Value, delivery: Value) -> reqwest::Response {
    shop.client
        .post(format!("{}/orders", shop.orders_url))
        .bearer_auth(token)
        .json(&json!({"items": items, "delivery": delivery}))
        .send()
        .await
        .expect("place")
}

#[tokio::test]
async fn the_options_list_countries_methods_prices_and_vat() {
    let shop = spawn_shop().await;
    let options: Value = shop
        .client
        .get(format!("{}/delivery/options?currency=EUR", shop.orders_url))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let countries = options["countries"].as_array().expect("countries");
    assert_eq!(countries.len(), 10);
    let france = countries.iter().find(|c| c["country"] == "FR").expect("France");
    assert_eq!((france["name"].as_str(), france["vat_rate_basis_points"].as_i64()), (Some("France"), Some(2000)));
    assert_eq!(
        france["methods"][0],
        json!({"method": "standard", "price": 490, "free_from": 5000, "days_min": 2, "days_max": 4})
    );
    assert_eq!(france["methods"][1]["method"], "express");
    let yen: Value = shop
        .client
        .get(format!("{}/delivery/options?currency=JPY", shop.orders_url))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(yen["countries"], json!([]), "no rates in yen");
    let bad = shop.client.get(format!("{}/delivery/options?currency=eur", shop.orders_url)).send().await.expect("get");
    assert_eq!(error_fields(&problem(bad, 422).await), ["currency"]);
}

#[tokio::test]
async fn shipping_is_priced_for_the_destination_and_charged_with_the_items() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;

    let resp = place_delivered(
        &shop,
        &token,
        json!([item(&lamp, 1)]),
        json!({"address": address("fr"), "method": "standard"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let order: Value = resp.json().await.expect("json");
    assert_eq!((order["subtotal"].as_i64(), order["total"].as_i64()), (Some(4999), Some(5489)), "4.90 shipping");
    let delivery = &order["delivery"];
    assert_eq!(delivery["address"]["country"], "FR", "stored in capitals");
    assert_eq!((delivery["shipping"].as_i64(), delivery["vat_rate_basis_points"].as_i64()), (Some(490), Some(2000)));
    assert_eq!(delivery["vat_included"], 915, "54.89 at 20 % holds 9.15");
    // The order as read back says the same, and the card is charged the total.
    let again: Value = shop.get(&token, &format!("/orders/{}", id_of(&order))).await.json().await.expect("json");
    assert_eq!(again["delivery"], order["delivery"]);
    assert_eq!(shop.pay(&token, &id_of(&order), GOOD_CARD, &new_key()).await.status(), 200);
    let charged: i64 = sqlx::query_scalar("SELECT amount_minor FROM payments WHERE order_id = $1::uuid")
        .bind(id_of(&order))
        .fetch_one(&shop.payments_db.pool)
        .await
        .expect("payment");
    assert_eq!(charged, 5489);

    // From 50.00 of items standard is free; express never is.
    let two = place_delivered(
        &shop,
        &token,
        json!([item(&lamp, 2)]),
        json!({"address": address("DE"), "method": "standard"}),
    )
    .await;
    let two: Value = two.json().await.expect("json");
    assert_eq!((two["delivery"]["shipping"].as_i64(), two["total"].as_i64()), (Some(0), Some(9998)));
    assert_eq!(two["delivery"]["vat_rate_basis_points"], 1900, "Germany's rate");
    let fast =
        place_delivered(&shop, &token, json!([item(&lamp, 2)]), json!({"address": address("DE"), "method": "express"}))
            .await;
    let fast: Value = fast.json().await.expect("json");
    assert_eq!(fast["total"], 9998 + 1290);
    // Without a delivery, an order has none (API clients that ship nothing).
    let bare = shop.place_ok(&token, json!([item(&lamp, 1)])).await;
    assert!(bare.get("delivery").is_none() && bare["total"] == bare["subtotal"], "{bare}");
}

#[tokio::test]
async fn an_address_the_shop_cannot_serve_is_refused_and_holds_nothing() {
    let shop = spawn_shop().await;
    let lamp = shop.product("LAMP", 4999, 10).await;
    let (_, token) = shop.customer("ada@example.com").await;
    // Malformed fields: refused before anything is reserved, each named.
    let blank = json!({"address": {"recipient": " ", "line1": "x", "postal_code": "1", "city": "", "country": "France"},
                       "method": "pigeon"});
    let body = problem(place_delivered(&shop, &token, json!([item(&lamp, 1)]), blank).await, 422).await;
    assert_eq!(
        error_fields(&body),
        ["delivery.address.recipient", "delivery.address.city", "delivery.address.country", "delivery.method"]
    );
    // A country the shop does not ship to: refused after the reservation, which is released.
    let far = json!({"address": address("US"), "method": "standard"});
    let body = problem(place_delivered(&shop, &token, json!([item(&lamp, 3)]), far).await, 422).await;
    assert_eq!(error_fields(&body), ["delivery.address.country"]);
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("does not deliver to US"), "{body}");
    for _ in 0..50 {
        if shop.stock(&lamp).await == 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(shop.stock(&lamp).await, 10, "the reservation was given back");
}
