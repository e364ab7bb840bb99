//! Attacks from issue 10 on orders: a reused payment key with another card, the token of a
//! deleted account, control characters in card fields, an out-of-stock refusal.

use serde_json::json;

use crate::helpers::{error_fields, id_of, item, new_key, spawn_shop};

#[tokio::test]
async fn a_paying_key_reused_with_another_card_is_422_and_charges_nothing() {
    let shop = spawn_shop().await;
    let (_, token) = shop.customer("reuse@example.com").await;
    let product = shop.product("REUSE-1", 1500, 5).await;
    let order = id_of(&shop.place_ok(&token, json!([item(&product, 1)])).await);
    let key = new_key();
    assert_eq!(shop.pay(&token, &order, "4242424242424242", &key).await.status(), 200);
    assert_eq!(shop.pay(&token, &order, "4242424242424242", &key).await.status(), 200, "same card: a replay");
    let refused = shopkit::testing::assert_problem(shop.pay(&token, &order, "5555555555554444", &key).await, 422).await;
    assert_eq!(error_fields(&refused), ["Idempotency-Key"], "{refused}");
    assert_eq!(shop.payment_statuses(&order).await, ["succeeded"], "charged once");
}

#[tokio::test]
async fn the_token_of_a_deleted_account_cannot_order() {
    let shop = spawn_shop().await;
    let (_, token) = shop.customer("gone@example.com").await;
    let product = shop.product("GONE-1", 1500, 5).await;
    let deleted = shop
        .client
        .delete(format!("{}/users/me", shop.users_url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete account");
    assert_eq!(deleted.status(), 204);
    let body = shopkit::testing::assert_problem(shop.place(&token, None, json!([item(&product, 1)])).await, 401).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("no longer exists")), "{body}");
    assert_eq!(shop.stock(&product).await, 5, "nothing reserved");
}

#[tokio::test]
async fn control_characters_in_card_fields_are_422() {
    let shop = spawn_shop().await;
    let (_, token) = shop.customer("nul@example.com").await;
    let product = shop.product("NUL-1", 1500, 5).await;
    let order = id_of(&shop.place_ok(&token, json!([item(&product, 1)])).await);
    let refused =
        shopkit::testing::assert_problem(shop.pay(&token, &order, "4242\u{0}424242424242", &new_key()).await, 422)
            .await;
    assert_eq!(error_fields(&refused), ["card.number"]);
    let resp = shop
        .client
        .post(format!("{}/orders/{order}/pay", shop.orders_url))
        .bearer_auth(&token)
        .json(&json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}))
        .send()
        .await
        .expect("pay");
    let body = shopkit::testing::assert_problem(resp, 400).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("Idempotency-Key")), "the key is required: {body}");
    let resp = shop
        .client
        .post(format!("{}/orders", shop.orders_url))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("items")
        .send()
        .await
        .expect("place");
    shopkit::testing::assert_problem(resp, 415).await;
}

/// The spec says what the server does: the pay key is required, fields that can be null say so,
/// and each operation lists only the error statuses it can return.
#[test]
fn the_spec_matches_the_behaviour() {
    let spec: serde_json::Value =
        serde_json::from_str(&shopkit::server::spec_json(&orders::openapi(), &orders::api::schema_rules()))
            .expect("spec json");
    let pay = &spec["paths"]["/orders/{id}/pay"]["post"];
    let key = pay["parameters"].as_array().expect("parameters").iter().find(|p| p["name"] == "Idempotency-Key");
    assert_eq!(key.map(|k| k["required"].clone()), Some(json!(true)), "payOrder needs its key");
    for field in ["payment_id", "cancel_reason", "expires_at", "trace_id"] {
        assert_eq!(spec["components"]["schemas"]["Order"]["properties"][field]["nullable"], true, "{field}");
    }
    assert_eq!(spec["components"]["schemas"]["OrderPage"]["properties"]["next_cursor"]["nullable"], true);
    let statuses = |path: &str, method: &str| -> Vec<String> {
        spec["paths"][path][method]["responses"].as_object().expect("responses").keys().cloned().collect()
    };
    assert_eq!(statuses("/orders/{id}", "get"), ["200", "400", "401", "404", "500", "503"], "getOrder");
    let place = statuses("/orders", "post");
    assert!(place.contains(&"415".to_owned()) && !place.contains(&"402".to_owned()), "placeOrder: {place:?}");
    assert!(statuses("/orders/{id}/pay", "post").contains(&"402".to_owned()), "payOrder may be declined");
    assert_eq!(spec["components"]["schemas"]["ItemBody"]["properties"]["quantity"]["maximum"], 1000);
}

/// Every event the process logs, with its level and fields, for tests about log levels.
fn captured_events() -> &'static std::sync::Mutex<Vec<(tracing::Level, String)>> {
    static EVENTS: std::sync::OnceLock<std::sync::Mutex<Vec<(tracing::Level, String)>>> = std::sync::OnceLock::new();
    EVENTS.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt as _;
        struct Capture;
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
            fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
                struct Fields(String);
                impl tracing::field::Visit for Fields {
                    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                        self.0.push_str(&format!("{}={value:?} ", field.name()));
                    }
                }
                let mut fields = Fields(String::new());
                event.record(&mut fields);
                if let Ok(mut events) = captured_events().lock() {
                    events.push((*event.metadata().level(), fields.0));
                }
            }
        }
        // Only this test binary's first caller installs it; other tests never set one.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture));
        std::sync::Mutex::new(Vec::new())
    })
}

#[tokio::test]
async fn an_ordinary_out_of_stock_refusal_is_logged_at_info_not_error() {
    let events = captured_events();
    let shop = spawn_shop().await;
    let (_, token) = shop.customer("sold.out@example.com").await;
    let product = shop.product("SOLD-1", 1500, 1).await;
    shopkit::testing::assert_problem(shop.place(&token, None, json!([item(&product, 2)])).await, 409).await;
    let events = events.lock().expect("events").clone();
    let refusals: Vec<_> = events.iter().filter(|(_, fields)| fields.contains("stock reservation refused")).collect();
    assert!(!refusals.is_empty(), "the refusal is logged");
    assert!(
        refusals.iter().all(|(level, _)| *level > tracing::Level::ERROR && *level <= tracing::Level::INFO),
        "{refusals:?}"
    );
}
