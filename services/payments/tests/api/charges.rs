//! Charges, declines, idempotency, refunds, simulation, and what is stored.

use std::time::{Duration, Instant};

use payments::config::Simulation;
use serde_json::{Value, json};
use shopkit::{auth::Role, testing::TestKeys};
use uuid::Uuid;

use crate::helpers::{charge, error_fields, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn documented_test_cards_give_their_outcomes() {
    let app = spawn_app().await;
    let cases = [
        ("4242424242424242", "succeeded", None),
        ("4000000000000002", "declined", Some("card_declined")),
        ("4000000000009995", "declined", Some("insufficient_funds")),
        ("4000000000000069", "declined", Some("expired_card")),
        ("5555 5555 5555 4444", "succeeded", None),
    ];
    for (card, status, code) in cases {
        let resp = app.pay(Some(&Uuid::new_v4().to_string()), &charge(Uuid::new_v4(), 2599, card)).await;
        assert_eq!(resp.status(), 201, "{card}");
        let payment: Value = resp.json().await.expect("json");
        assert_eq!(payment["status"], status, "{card}");
        assert_eq!(payment["decline_code"].as_str(), code, "{card}");
        assert_eq!(payment["card_last4"], &card.replace(' ', "")[card.replace(' ', "").len() - 4..], "{card}");
    }
}

fn with_currency(mut body: Value, currency: &str) -> Value {
    body["currency"] = json!(currency);
    body
}

#[tokio::test]
async fn invalid_cards_and_requests_are_422() {
    let app = spawn_app().await;
    let order = Uuid::new_v4();
    let mut expired = charge(order, 100, "4242424242424242");
    expired["card"]["exp_year"] = json!(2020);
    let mut bad_cvc = charge(order, 100, "4242424242424242");
    bad_cvc["card"]["cvc"] = json!("1");
    let cases = [
        (charge(order, 100, "4242424242424241"), vec!["card.number"], "Luhn"),
        (expired, vec!["card.exp_year"], "expired"),
        (bad_cvc, vec!["card.cvc"], "cvc"),
        (charge(order, 0, "4242424242424242"), vec!["amount"], "zero amount"),
    ];
    for (body, fields, message) in cases {
        let body = problem(app.pay(Some("k"), &body).await, 422).await;
        assert_eq!(error_fields(&body), fields, "{message}");
    }
    // The header is required (the spec says so): without it the request is malformed.
    let body = problem(app.pay(None, &charge(order, 100, "4242424242424242")).await, 400).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("Idempotency-Key")), "{body}");
    let too_long = "k".repeat(256);
    problem(app.pay(Some(&too_long), &charge(order, 100, "4242424242424242")).await, 400).await;
    let body =
        problem(app.pay(Some("k"), &with_currency(charge(order, 100, "4242424242424242"), "EURO")).await, 422).await;
    assert_eq!(error_fields(&body), ["currency"]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM payments").fetch_one(&app.db.pool).await.expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_replay_returns_the_first_result_and_charges_once() {
    let app = spawn_app().await;
    let body = charge(Uuid::new_v4(), 4999, "4242424242424242");
    let first = app.pay(Some("key-1"), &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let replays = futures::future::join_all((0..5).map(|_| app.pay(Some("key-1"), &body))).await;
    for resp in replays {
        assert_eq!(resp.status(), 200, "replay");
        let again: Value = resp.json().await.expect("json");
        assert_eq!(again["id"], first["id"]);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM payments").fetch_one(&app.db.pool).await.expect("count");
    assert_eq!(count, 1, "charged once");

    let other = charge(Uuid::new_v4(), 4999, "4242424242424242");
    let body = problem(app.pay(Some("key-1"), &other).await, 422).await;
    assert_eq!(error_fields(&body), ["Idempotency-Key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_with_one_key_charge_once() {
    let app = spawn_app().await;
    let body = charge(Uuid::new_v4(), 1000, "4242424242424242");
    let responses = futures::future::join_all((0..10).map(|_| app.pay(Some("race"), &body))).await;
    let mut ids = Vec::new();
    for resp in responses {
        assert!(resp.status() == 200 || resp.status() == 201, "{}", resp.status());
        let payment: Value = resp.json().await.expect("json");
        ids.push(payment["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every caller sees the same payment");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM payments").fetch_one(&app.db.pool).await.expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn refund_once_and_not_for_declined_payments() {
    let app = spawn_app().await;
    let order = Uuid::new_v4();
    let paid: Value = app.pay(Some("a"), &charge(order, 1500, "4242424242424242")).await.json().await.expect("json");
    let id = paid["id"].as_str().expect("id");
    let refunded: Value = app.refund(id).await.json().await.expect("json");
    assert_eq!(refunded["status"], "refunded");
    assert!(refunded["refunded_at"].is_string());
    let again: Value = app.refund(id).await.json().await.expect("json");
    assert_eq!(again["refunded_at"], refunded["refunded_at"], "refunding again changes nothing");

    let declined: Value =
        app.pay(Some("b"), &charge(order, 1500, "4000000000000002")).await.json().await.expect("json");
    problem(app.refund(declined["id"].as_str().expect("id")).await, 409).await;
    problem(app.refund(&Uuid::new_v4().to_string()).await, 404).await;

    let listed: Value = app.get(&format!("/payments?order_id={order}")).await.json().await.expect("json");
    let statuses: Vec<_> = listed.as_array().expect("list").iter().map(|p| p["status"].clone()).collect();
    assert_eq!(statuses, [json!("refunded"), json!("declined")]);
    let fetched: Value = app.get(&format!("/payments/{id}")).await.json().await.expect("json");
    assert_eq!(fetched["status"], "refunded");
}

#[tokio::test]
async fn only_services_and_admins_may_charge_or_read() {
    let app = spawn_app().await;
    let customer = TestKeys::get().token(&Uuid::new_v4().to_string(), Role::Customer);
    let body = charge(Uuid::new_v4(), 100, "4242424242424242");
    problem(app.pay_as(&customer, Some("c"), &body).await, 403).await;
    problem(app.pay_as("not-a-token", Some("c"), &body).await, 401).await;
    let admin = TestKeys::get().token(&Uuid::new_v4().to_string(), Role::Admin);
    assert_eq!(app.pay_as(&admin, Some("c"), &body).await.status(), 201);
}

#[tokio::test]
async fn no_card_number_or_cvc_is_stored() {
    let app = spawn_app().await;
    let mut body = charge(Uuid::new_v4(), 100, "4242424242424242");
    body["card"]["cvc"] = json!("987");
    let resp: Value = app.pay(Some("d"), &body).await.json().await.expect("json");
    let rows: Vec<Value> =
        sqlx::query_scalar("SELECT row_to_json(p) FROM payments p").fetch_all(&app.db.pool).await.expect("rows");
    assert_eq!(rows.len(), 1);
    // Compare whole values, not substrings: a CVC's digits can occur inside a uuid or a hash.
    for (what, object) in [("response", &resp), ("database row", &rows[0])] {
        for (key, value) in object.as_object().expect("object") {
            let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
            assert!(!key.contains("cvc") && !key.contains("number"), "{what} has a `{key}` field");
            assert!(text != "987" && !text.contains("424242424242"), "{what} field `{key}` holds card data: {text}");
        }
    }
    assert_eq!((rows[0]["card_last4"].as_str(), rows[0]["card_brand"].as_str()), (Some("4242"), Some("visa")));
}

#[tokio::test]
async fn simulated_latency_and_failures() {
    let slow = spawn_app_with(Simulation { latency: Duration::from_millis(300), failure_rate: 0.0 }).await;
    let started = Instant::now();
    assert_eq!(slow.pay(Some("e"), &charge(Uuid::new_v4(), 100, "4242424242424242")).await.status(), 201);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());

    let failing = spawn_app_with(Simulation { latency: Duration::ZERO, failure_rate: 1.0 }).await;
    let body = charge(Uuid::new_v4(), 100, "4242424242424242");
    problem(failing.pay(Some("f"), &body).await, 503).await;
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments").fetch_one(&failing.db.pool).await.expect("count");
    assert_eq!(count, 0, "a processor failure records nothing, so a retry with the same key can charge");
}

#[test]
fn committed_openapi_spec_matches_the_code() {
    let unmatched = shopkit::server::unmatched_schema_rules(&payments::openapi(), &payments::api::schema_rules());
    assert!(unmatched.is_empty(), "schema rules naming nothing in the spec: {unmatched:?}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/payments.json");
    shopkit::testing::assert_spec_fresh(
        &shopkit::server::spec_json(&payments::openapi(), &payments::api::schema_rules()),
        path,
        "payments",
    );
}
