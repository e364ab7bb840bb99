//! A purchase in the storefront (cart -> checkout -> pay, a declined card first) is one trace
//! through the storefront, orders, products, users and payments.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{
    receiver::{Protocol, Receiver, Span},
    shop::{ADMIN_EMAIL, ADMIN_PASSWORD, Export, Shop},
};

/// A browser-like client of the storefront: cookies kept, redirects not followed.
struct Shopper {
    http: reqwest::Client,
    base: String,
}

impl Shopper {
    async fn csrf(&self) -> String {
        let html = self.http.get(format!("{}/login", self.base)).send().await.expect("get").text().await.expect("html");
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("csrf field") + marker.len();
        html[start..start + 43].to_owned()
    }

    /// Posts a form; returns the status and the `Location` (if a redirect).
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let csrf = self.csrf().await;
        let mut form = fields.to_vec();
        form.push(("csrf", &csrf));
        let resp = self.http.post(format!("{}{path}", self.base)).form(&form).send().await.expect("post");
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (resp.status().as_u16(), location)
    }

    async fn get(&self, path: &str) -> u16 {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("get").status().as_u16()
    }
}

fn server_spans(spans: &[Span], trace_id: &str) -> BTreeSet<(String, String)> {
    spans
        .iter()
        .filter(|s| s.trace_id == trace_id && s.kind == "SPAN_KIND_SERVER")
        .map(|s| (s.service.clone(), s.name.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_purchase_is_one_trace() {
    let receiver = Receiver::start(Protocol::Grpc).await;
    let shop = Shop::start_with_storefront(Some(Export { endpoint: &receiver.endpoint, protocol: "grpc" })).await;
    let http = reqwest::Client::new();
    let admin: Value = http
        .post(format!("{}/auth/login", shop.url("users")))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let product: Value = http
        .post(format!("{}/products", shop.url("products")))
        .bearer_auth(admin["access_token"].as_str().expect("token"))
        .json(&json!({"sku": "TRACE-SF", "name": "Traced mug", "price": 1250, "currency": "EUR", "stock": 5, "category": "kitchen"}))
        .send()
        .await
        .expect("product")
        .json()
        .await
        .expect("json");
    let product_id = product["id"].as_str().expect("id");

    let shopper = Shopper {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        base: shop.url("storefront").to_owned(),
    };
    assert_eq!(shopper.post("/cart/items", &[("product_id", product_id), ("quantity", "2")]).await.0, 303);
    let registered = shopper
        .post(
            "/register",
            &[
                ("name", "Trace"),
                ("email", "trace.sf@example.com"),
                ("password", "trace passphrase 1"),
                ("next", "/cart"),
            ],
        )
        .await;
    assert_eq!(registered, (303, "/cart".to_owned()));
    assert_eq!(shopper.get("/cart").await, 200);
    let delivery = [
        ("recipient", "Trace"),
        ("line1", "1 rue de la Paix"),
        ("postal_code", "75002"),
        ("city", "Paris"),
        ("country", "FR"),
        ("method", "standard"),
    ];
    assert_eq!(shopper.post("/checkout/delivery", &delivery).await, (303, "/checkout/review".to_owned()));
    assert_eq!(shopper.get("/checkout/review").await, 200);
    let (status, pay) = shopper.post("/checkout", &[]).await;
    assert_eq!(status, 303);
    assert_eq!(shopper.get(&pay).await, 200);
    let declined = shopper
        .post(&pay, &[("number", "4000000000000002"), ("expiry", "12/30"), ("cvc", "123"), ("attempt", "")])
        .await;
    // Refused: back to the pay page with the reason (post/redirect/get), which the trace keeps.
    assert_eq!(declined, (303, format!("{pay}?problem=declined")));
    assert_eq!(shopper.get(&declined.1).await, 200);
    let paid = shopper
        .post(&pay, &[("number", "4242424242424242"), ("expiry", "12/30"), ("cvc", "123"), ("attempt", "")])
        .await;
    assert_eq!(paid, (303, pay.trim_end_matches("/pay").to_owned()));
    shop.stop().await;

    let spans = receiver.spans();
    let checkout = spans
        .iter()
        .find(|s| s.service == "storefront" && s.name == "POST /checkout")
        .unwrap_or_else(|| panic!("no checkout span"));
    let trace = server_spans(&spans, &checkout.trace_id);
    let services: BTreeSet<&str> = trace.iter().map(|(service, _)| service.as_str()).collect();
    assert_eq!(
        services,
        BTreeSet::from(["orders", "payments", "products", "storefront", "users"]),
        "one trace from the storefront through every service: {trace:#?}"
    );
    for page in ["GET /orders/:id/pay", "POST /orders/:id/pay"] {
        assert!(trace.contains(&("storefront".to_owned(), page.to_owned())), "{page} joins the purchase: {trace:#?}");
    }
    let pays = spans
        .iter()
        .filter(|s| s.trace_id == checkout.trace_id && s.service == "storefront" && s.name == "POST /orders/:id/pay")
        .count();
    assert_eq!(pays, 2, "the declined and the good payment are in the trace");
    let pay_pages = spans
        .iter()
        .filter(|s| s.trace_id == checkout.trace_id && s.service == "storefront" && s.name == "GET /orders/:id/pay")
        .count();
    assert_eq!(pay_pages, 2, "the pay page, and the pay page again after the decline, are in the trace");
    let cart_view = spans.iter().find(|s| s.service == "storefront" && s.name == "GET /cart").expect("cart span");
    assert_ne!(cart_view.trace_id, checkout.trace_id, "browsing before checkout is its own trace");
}
