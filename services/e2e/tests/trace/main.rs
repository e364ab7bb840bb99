//! Tracing, end to end: the services run as separate processes exporting OTLP to an
//! in-process receiver; a real purchase must come out as one coherent trace.

mod events;
mod receiver;
mod shop;
mod storefront;

use std::collections::BTreeSet;

use receiver::{Protocol, Receiver, Span};
use serde_json::{Value, json};
use shop::{ADMIN_EMAIL, ADMIN_PASSWORD, Export, Shop};

const CARD: &str = "4242424242424242";
const CVC: &str = "987";
const PASSWORD: &str = "customer passphrase e2e";
const EMAIL: &str = "trace.customer@example.com";

/// What a purchase left behind, for the assertions.
struct Purchase {
    trace_id: String,
    order: Value,
    secrets: Vec<String>,
}

/// Register, log in, order, pay; every step of the purchase carries the same `traceparent`,
/// as a browser instrumented with OpenTelemetry would send.
async fn purchase(shop: &Shop) -> Purchase {
    let http = reqwest::Client::new();
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let traceparent = format!("00-{trace_id}-{}-01", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let post = |url: String, body: Value| http.post(url).header("traceparent", &traceparent).json(&body);

    let login = |email: &'static str, password: &'static str| {
        post(format!("{}/auth/login", shop.url("users")), json!({"email": email, "password": password}))
    };
    let admin: Value = login(ADMIN_EMAIL, ADMIN_PASSWORD).send().await.expect("login").json().await.expect("json");
    let admin = admin["access_token"].as_str().expect("admin token").to_owned();
    let product: Value = post(
        format!("{}/products", shop.url("products")),
        json!({"sku": "TRACE-1", "name": "Traced lamp", "price": 2500, "currency": "EUR", "stock": 5, "category": "lighting"}),
    )
    .bearer_auth(&admin)
    .send()
    .await
    .expect("product")
    .json()
    .await
    .expect("json");
    let registered =
        post(format!("{}/users", shop.url("users")), json!({"email": EMAIL, "password": PASSWORD, "name": "Trace"}))
            .send()
            .await
            .expect("register");
    assert_eq!(registered.status(), 201);
    let token: Value = login(EMAIL, PASSWORD).send().await.expect("login").json().await.expect("json");
    let token = token["access_token"].as_str().expect("token").to_owned();

    let placed = post(
        format!("{}/orders", shop.url("orders")),
        json!({"items": [{"product_id": product["id"], "quantity": 2}]}),
    )
    .bearer_auth(&token)
    .send()
    .await
    .expect("order");
    assert_eq!(placed.status(), 201);
    assert_eq!(placed.headers()["x-trace-id"].to_str().expect("header"), trace_id, "the response names its trace");
    let order: Value = placed.json().await.expect("json");
    let paid = post(
        format!("{}/orders/{}/pay", shop.url("orders"), order["id"].as_str().expect("id")),
        json!({"card": {"number": CARD, "exp_month": 12, "exp_year": 2030, "cvc": CVC}}),
    )
    .bearer_auth(&token)
    .header("Idempotency-Key", "pay-trace-1")
    .send()
    .await
    .expect("pay");
    assert_eq!(paid.status(), 200);
    // Paying twice is refused (409): the failed saga step must show as an error in the trace.
    let again = post(
        format!("{}/orders/{}/pay", shop.url("orders"), order["id"].as_str().expect("id")),
        json!({"card": {"number": CARD, "exp_month": 12, "exp_year": 2030, "cvc": CVC}}),
    )
    .bearer_auth(&token)
    .header("Idempotency-Key", "pay-trace-2")
    .send()
    .await
    .expect("pay again");
    assert_eq!(again.status(), 409);
    Purchase {
        trace_id,
        order,
        secrets: vec![CARD.into(), PASSWORD.into(), ADMIN_PASSWORD.into(), token, admin, EMAIL.into()],
    }
}

fn find<'a>(spans: &'a [Span], service: &str, name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.service == service && s.name == name)
        .unwrap_or_else(|| panic!("no span `{name}` from {service}; got {:#?}", names(spans)))
}

fn names(spans: &[Span]) -> BTreeSet<String> {
    spans.iter().map(|s| format!("{}: {} ({})", s.service, s.name, s.kind)).collect()
}

/// The server span's parent is a client span of orders in the same trace.
fn assert_child_of_orders_client(spans: &[Span], server: &Span) {
    let parent = spans
        .iter()
        .find(|s| s.span_id == server.parent_span_id)
        .unwrap_or_else(|| panic!("parent of {} {} not exported", server.service, server.name));
    assert_eq!(
        (parent.service.as_str(), parent.kind.as_str()),
        ("orders", "SPAN_KIND_CLIENT"),
        "parent of {}",
        server.name
    );
}

async fn purchase_is_one_trace(protocol: Protocol) {
    let receiver = Receiver::start(protocol).await;
    let shop = Shop::start(Some(Export { endpoint: &receiver.endpoint, protocol: protocol.env_value() })).await;
    let purchase = purchase(&shop).await;
    shop.stop().await;

    let all = receiver.spans();
    let spans: Vec<Span> = all.iter().filter(|s| s.trace_id == purchase.trace_id).cloned().collect();
    assert_eq!(purchase.order["trace_id"], purchase.trace_id.as_str(), "the order stores the trace that placed it");

    // One trace: every service's server spans are in it.
    let services: BTreeSet<&str> =
        spans.iter().filter(|s| s.kind == "SPAN_KIND_SERVER").map(|s| s.service.as_str()).collect();
    assert_eq!(services, BTreeSet::from(["orders", "payments", "products", "users"]), "{:#?}", names(&spans));

    // Server spans are named by route template and carry the status code.
    let place = find(&spans, "orders", "POST /orders");
    assert_eq!(place.kind, "SPAN_KIND_SERVER");
    assert_eq!(place.attributes.get("http.route").map(String::as_str), Some("/orders"));
    assert_eq!(place.attributes.get("http.response.status_code").map(String::as_str), Some("201"));
    assert_eq!(place.attributes.get("http.request.method").map(String::as_str), Some("POST"));

    // Products, users and payments answer calls made by orders: their server spans are
    // children of orders' client spans.
    for (service, name) in
        [("products", "PUT /reservations/{order_id}"), ("users", "GET /users/{id}"), ("payments", "POST /payments")]
    {
        assert_child_of_orders_client(&spans, find(&spans, service, name));
    }

    // Saga steps with the order id; database spans under the service that owns the database.
    let order_id = purchase.order["id"].as_str().expect("id");
    for step in ["saga.place_order", "saga.check_user", "saga.reserve_stock", "saga.pay_order", "saga.charge"] {
        assert_eq!(
            find(&spans, "orders", step).attributes.get("order_id").map(String::as_str),
            Some(order_id),
            "{step}"
        );
    }
    // Database spans follow the stable conventions: named by query summary, the SQL verb as
    // the operation, the database and where it runs.
    for (service, name) in [
        ("orders", "INSERT orders"),
        ("products", "UPDATE products INSERT reservations"),
        ("payments", "INSERT payments"),
        ("users", "SELECT users"),
    ] {
        let span = find(&spans, service, name);
        assert_eq!(span.kind, "SPAN_KIND_CLIENT", "{name}");
        let attribute = |key: &str| span.attributes.get(key).map(String::as_str);
        assert_eq!(attribute("db.system.name"), Some("postgresql"), "{name}");
        assert_eq!(attribute("db.operation.name"), name.split(' ').next(), "{name}");
        assert_eq!(attribute("db.query.summary"), Some(name), "{name}");
        assert!(attribute("db.namespace").is_some_and(|n| !n.is_empty()), "{name}: {span:?}");
        assert_eq!(attribute("server.address"), Some("127.0.0.1"), "{name}");
        assert!(attribute("server.port").is_some(), "{name}");
        assert_eq!(attribute("db.system"), None, "the retired attribute is gone: {name}");
    }
    // Client spans name the host called; the logical service is `peer.service`.
    let charge = spans
        .iter()
        .find(|s| {
            s.kind == "SPAN_KIND_CLIENT" && s.attributes.get("peer.service").map(String::as_str) == Some("payments")
        })
        .expect("a client span to payments");
    assert_eq!(charge.name, "POST");
    assert_eq!(charge.attributes.get("server.address").map(String::as_str), Some("127.0.0.1"));
    assert!(charge.attributes.get("server.port").is_some_and(|p| p.parse::<u16>().is_ok()));

    // Database spans name the statement, never its parameter values.
    for span in spans.iter().filter(|s| s.attributes.contains_key("db.system.name")) {
        for key in span.attributes.keys() {
            assert!(
                !["id", "order_id", "user_id", "product_id", "email", "key", "lines", "changes"]
                    .contains(&key.as_str()),
                "{} records parameter `{key}`",
                span.name
            );
        }
    }

    // Metrics and logs went over OTLP too: every service sent the request-duration histogram,
    // the services with a database the operation-duration one, orders and payments their
    // business counters; log records carry the trace they were written in.
    let metrics = receiver.metrics();
    for service in ["orders", "payments", "products", "users"] {
        for metric in ["http.server.request.duration", "db.client.operation.duration"] {
            assert!(metrics.contains(&(service.to_owned(), metric.to_owned())), "{service} {metric}: {metrics:?}");
        }
    }
    assert!(metrics.contains(&("orders".to_owned(), "http.client.request.duration".to_owned())), "{metrics:?}");
    assert!(metrics.contains(&("orders".to_owned(), "microshop.orders.placed".to_owned())), "{metrics:?}");
    assert!(metrics.contains(&("orders".to_owned(), "microshop.orders.paid".to_owned())), "{metrics:?}");
    let logs = receiver.logs();
    let charged = logs
        .iter()
        .find(|l| l.service == "payments" && l.body == "charge processed")
        .unwrap_or_else(|| panic!("no `charge processed` log record from payments: {logs:#?}"));
    assert_eq!(charged.trace_id, purchase.trace_id, "the log record is correlated with its trace");

    // A failed step is recorded with an error status; the successful one is not.
    let pays: Vec<&Span> = spans.iter().filter(|s| s.name == "saga.pay_order").collect();
    let statuses: BTreeSet<&str> = pays.iter().map(|s| s.status.as_str()).collect();
    assert!(statuses.contains("STATUS_CODE_ERROR") && pays.len() == 2, "pay spans: {pays:#?}");

    // No secret or personal data in any attribute of any span.
    for span in &all {
        for (key, value) in &span.attributes {
            for secret in &purchase.secrets {
                assert!(
                    !value.contains(secret.as_str()),
                    "{} {} attribute {key} leaks a secret",
                    span.service,
                    span.name
                );
            }
            assert!(value != CVC && !key.contains("cvc") && !key.contains("password"), "{} {key}={value}", span.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_is_one_trace_over_grpc() {
    purchase_is_one_trace(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_is_one_trace_over_http_protobuf() {
    purchase_is_one_trace(Protocol::HttpProtobuf).await;
}

/// Client errors (4xx) are the caller's problem: the server span records the status code but
/// not an error status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_leave_the_server_span_status_unset() {
    let receiver = Receiver::start(Protocol::Grpc).await;
    let shop = Shop::start(Some(Export { endpoint: &receiver.endpoint, protocol: "grpc" })).await;
    let resp = reqwest::get(format!("{}/products/{}", shop.url("products"), uuid::Uuid::new_v4())).await.expect("get");
    assert_eq!(resp.status(), 404);
    shop.stop().await;
    let spans = receiver.spans();
    let get = find(&spans, "products", "GET /products/{id}");
    assert_eq!(get.attributes.get("http.response.status_code").map(String::as_str), Some("404"));
    assert_eq!(get.status, "STATUS_CODE_UNSET");
}

/// With no OTLP endpoint, services run and answer normally, and still give trace ids. A
/// client error is logged at `info` (a fast success only at `debug`), with its trace id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_services_run_normally() {
    let shop = Shop::start(None).await;
    let resp = reqwest::get(format!("{}/products?limit=1", shop.url("products"))).await.expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-trace-id"].to_str().expect("header").len(), 32);
    let missing = format!("{}/products/{}", shop.url("products"), uuid::Uuid::new_v4());
    let resp = reqwest::get(missing).await.expect("get");
    assert_eq!(resp.status(), 404);
    let trace_id = resp.headers()["x-trace-id"].to_str().expect("header").to_owned();
    assert_eq!(trace_id.len(), 32);
    let outputs = shop.stop().await;
    let products_log = &outputs.iter().find(|(name, _)| *name == "products").expect("products").1;
    assert!(
        !products_log.lines().any(|l| l.contains("\"http.route\":\"/products\"")),
        "a fast success is not logged at info:\n{products_log}"
    );
    let request_line = products_log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "request" && l["http.route"] == "/products/{id}")
        .unwrap_or_else(|| panic!("no request log line:\n{products_log}"));
    assert_eq!(request_line["trace_id"], trace_id.as_str(), "the log line leads to the trace");
    assert_eq!(request_line["span_id"].as_str().map(str::len), Some(16));
}
