//! One purchase in a real browser against an already running shop (`cargo xtask dev` with
//! Jaeger), then Jaeger's query API must hold that purchase as ONE trace with server spans of
//! all five services, and the consumer span of notifications e-mailing its confirmation (the
//! order event carried the trace through NATS). Ignored by default: it needs chromium, chromedriver and the running shop
//! (`STOREFRONT_URL`, `JAEGER_URL`); `.ci/checks/jaeger.sh` starts both and runs it.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    driver::Driver,
    helpers::{GOOD_CARD, PASSWORD},
};

/// The `service.name` of each service under `cargo xtask dev` (its `OTEL_SERVICE_NAME`).
const SERVICES: [&str; 5] = ["storefront", "orders", "products", "users", "payments"];
/// Spans leave each service in batches (every 5 s by default): a generous bound on a busy machine.
const TRACE_DEADLINE: Duration = Duration::from_secs(90);

fn url_from_env(name: &str) -> String {
    let url = std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: this test shops in a running `cargo xtask dev` with Jaeger"));
    url.trim_end_matches('/').to_owned()
}

/// Buys one in-stock product as a new customer and returns the trace id the order page shows.
async fn buy_something(driver: &Driver, shop: &str) -> String {
    let email = format!("traced-{}@example.com", uuid::Uuid::new_v4().simple());
    driver.goto(&format!("{shop}/register")).await;
    driver.fill("input[name=name]", "Trace Shopper").await;
    driver.fill("input[name=email]", &email).await;
    driver.fill("input[name=password]", PASSWORD).await;
    driver.click("#register").await;
    driver.wait_for_path("/").await;

    driver.goto(&format!("{shop}/?in_stock=true")).await;
    driver.click(".product-link").await;
    driver.fill("input[name=quantity]", "1").await;
    driver.click("#add-to-cart").await;
    assert!(driver.text("#notice").await.starts_with("Added"), "notice after adding");
    driver.goto(&format!("{shop}/cart")).await;
    driver.check_out_to_paris("purchase").await;
    driver.fill("#card-number", GOOD_CARD).await;
    driver.fill("#card-expiry", "12/30").await;
    driver.fill("#card-cvc", "123").await;
    driver.shot("pay").await;
    driver.click("#pay").await;
    assert_eq!(driver.text("#order-status").await, "Paid");
    driver.shot("paid").await;
    driver.text("#trace-id").await
}

/// What Jaeger holds of one trace.
#[derive(Debug, Default)]
struct Trace {
    /// The names of each service's server spans.
    server_spans: BTreeMap<String, BTreeSet<String>>,
    /// The names of each service's consumer spans (work done for a message).
    consumer_spans: BTreeMap<String, BTreeSet<String>>,
    /// Every span, of any kind.
    spans: usize,
}

/// Reads Jaeger's answer (OTLP JSON), after checking that every span in it belongs to `trace_id`.
fn summarise(answer: &Value, trace_id: &str) -> Trace {
    let mut trace = Trace::default();
    for resource_spans in answer["result"]["resourceSpans"].as_array().into_iter().flatten() {
        let service = resource_spans["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .and_then(|a| a["value"]["stringValue"].as_str())
            .unwrap_or("<no service.name>")
            .to_owned();
        let spans = resource_spans["scopeSpans"].as_array().into_iter().flatten();
        for span in spans.flat_map(|s| s["spans"].as_array().into_iter().flatten()) {
            let span_trace = span["traceId"].as_str().unwrap_or_default();
            assert!(span_trace.eq_ignore_ascii_case(trace_id), "Jaeger returned a span of trace {span_trace}");
            trace.spans += 1;
            // OTLP JSON writes the kind as a number; SPAN_KIND_SERVER is 2.
            let name = span["name"].as_str().unwrap_or_default().to_owned();
            if span["kind"] == 2 {
                trace.server_spans.entry(service.clone()).or_default().insert(name);
            } else if span["kind"] == 5 {
                // SPAN_KIND_CONSUMER.
                trace.consumer_spans.entry(service.clone()).or_default().insert(name);
            }
        }
    }
    trace
}

/// The consumer span of notifications handling the paid order's event.
const CONFIRMATION: &str = "process orders.OrderPaid";

/// Polls `GET /api/v3/traces/{id}` until every service has a server span in the trace and
/// notifications its [`CONFIRMATION`] span, or fails at [`TRACE_DEADLINE`] naming what is missing.
async fn wait_for_all_services(jaeger: &str, trace_id: &str) -> Trace {
    let http = reqwest::Client::new();
    let url = format!("{jaeger}/api/v3/traces/{trace_id}");
    let deadline = Instant::now() + TRACE_DEADLINE;
    loop {
        let answer = match http.get(&url).timeout(Duration::from_secs(5)).send().await {
            // 404 until the first span has arrived.
            Ok(response) if response.status().is_success() => response.json::<Value>().await.ok(),
            _ => None,
        };
        let trace = answer.map(|a| summarise(&a, trace_id)).unwrap_or_default();
        let missing: Vec<&str> = SERVICES.iter().copied().filter(|s| !trace.server_spans.contains_key(*s)).collect();
        let e_mailed = trace.consumer_spans.get("notifications").is_some_and(|names| names.contains(CONFIRMATION));
        if missing.is_empty() && e_mailed {
            return trace;
        }
        assert!(
            Instant::now() < deadline,
            "after {TRACE_DEADLINE:?}, trace {trace_id} in Jaeger has no server span of {missing:?} \
             (and the notifications span `{CONFIRMATION}`: {e_mailed}); spans it has, by service: {:?} {:?}",
            trace.server_spans,
            trace.consumer_spans
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether Jaeger serves the real UI: a binary built without jaeger-ui's assets serves a
/// placeholder page instead, which has no `jaeger-ui-root` to draw into.
async fn serves_the_ui(jaeger: &str) -> bool {
    let page = reqwest::get(format!("{jaeger}/")).await.expect("Jaeger answers on its UI port");
    page.text().await.unwrap_or_default().contains("id=\"jaeger-ui-root\"")
}

/// Opens the trace in Jaeger's UI and saves a screenshot once it has drawn a span of each
/// service (the UI is a script: the page is empty until it has fetched and laid out the trace).
/// The window grows to hold every span row (about 28 px each), so the payment at the end of
/// the purchase is in the picture too.
async fn show_in_the_ui(driver: &Driver, jaeger: &str, trace_id: &str, spans: usize) {
    let height = u32::try_from(450 + 28 * spans).unwrap_or(u32::MAX).clamp(1000, 4000);
    driver.client.set_window_size(1600, height).await.expect("window size");
    driver.goto(&format!("{jaeger}/trace/{trace_id}")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = driver.text("body").await;
        if SERVICES.iter().all(|s| shown.contains(s)) && shown.contains("POST /checkout") {
            break;
        }
        assert!(Instant::now() < deadline, "Jaeger's UI did not draw the trace's five services within 30 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    driver.shot("jaeger-trace").await;
}

#[tokio::test]
#[ignore = "needs a running `cargo xtask dev` with Jaeger; .ci/checks/jaeger.sh runs it"]
async fn a_purchase_in_chromium_is_one_trace_across_six_services_in_jaeger() {
    let shop = url_from_env("STOREFRONT_URL");
    let jaeger = url_from_env("JAEGER_URL");
    let driver = Driver::start("jaeger-trace", 1600, 1000).await;

    let trace_id = buy_something(&driver, &shop).await;
    assert_eq!(trace_id.len(), 32, "the order page shows a W3C trace id, not {trace_id:?}");
    println!("purchase trace: {trace_id}");

    let trace = wait_for_all_services(&jaeger, &trace_id).await;
    println!(
        "{} spans; server spans by service: {:?}; consumer spans: {:?}",
        trace.spans, trace.server_spans, trace.consumer_spans
    );
    assert!(trace.server_spans["storefront"].contains("POST /checkout"), "the trace starts at the checkout");
    assert!(trace.server_spans["payments"].contains("POST /payments"), "and holds the charge");

    if serves_the_ui(&jaeger).await {
        show_in_the_ui(&driver, &jaeger, &trace_id, trace.spans).await;
    } else {
        println!(
            "Jaeger serves no UI (a build without jaeger-ui's assets; JAEGER_UI_ASSETS adds them): \
             the trace was checked through the API only, no screenshot of it"
        );
    }
    driver.close().await;
}
