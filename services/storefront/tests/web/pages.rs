//! Pages and forms over HTTP against the real services.

use serde_json::json;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Browser, DECLINED_CARD, GOOD_CARD, PASSWORD, spawn_shop, spawn_shop_with,
    spawn_shop_with_mail,
};

#[tokio::test]
async fn the_catalogue_searches_filters_and_shows_prices_stock_and_images() {
    let shop = spawn_shop().await;
    shop.product(json!({"sku": "LAMP-1", "name": "Desk lamp", "price": 4999, "stock": 2, "category": "lighting"}))
        .await;
    shop.product(json!({"sku": "MUG-1", "name": "Enamel mug", "price": 1500, "currency": "JPY", "stock": 0,
        "category": "kitchen", "image_url": "/images/catalogue/enamel-mug.svg"}))
        .await;
    shop.product(
        json!({"sku": "PAN-1", "name": "Cast iron skillet", "price": 123456, "stock": 40, "category": "kitchen"}),
    )
    .await;
    let browser = Browser::new(&shop);

    let home = browser.page("/").await;
    for expected in ["Desk lamp", "€49.99", "Only 2 left", "¥1,500", "Out of stock", "€1,234.56", "In stock"] {
        assert!(home.contains(expected), "home shows {expected}");
    }
    assert!(home.contains("src=\"/images/catalogue/enamel-mug.svg\""), "the product's own image");
    assert!(home.contains("src=\"/images/catalogue/lighting.svg\""), "the category drawing when it has none");

    let cases = [
        ("/?q=lamb", vec!["Desk lamp"], vec!["Enamel mug"], "typo-tolerant search"),
        ("/?category=kitchen", vec!["Enamel mug", "Cast iron skillet"], vec!["Desk lamp"], "category filter"),
        ("/?category=kitchen&in_stock=true", vec!["Cast iron skillet"], vec!["Enamel mug"], "in stock only"),
        ("/?category=Not%20A%20Slug", vec!["No products match"], vec!["Desk lamp"], "a bad filter finds nothing"),
    ];
    for (path, present, absent, why) in cases {
        let html = browser.page(path).await;
        for name in present {
            assert!(html.contains(name), "{why}: {name} in {path}");
        }
        for name in absent {
            assert!(!html.contains(name), "{why}: {name} not in {path}");
        }
    }
    // One search box per page, in the header, keeping the query; the filters keep it too.
    let searched = browser.page("/?q=lamb&category=lighting").await;
    assert_eq!(searched.matches("type=\"search\"").count(), 1, "one search box");
    assert!(searched.contains("name=\"q\" value=\"lamb\" placeholder=\"Search products\""), "the box keeps the query");
    assert!(searched.contains("<input type=\"hidden\" name=\"q\" value=\"lamb\">"), "filtering keeps the query");
    assert_eq!(browser.page("/").await.matches("type=\"search\"").count(), 1, "one search box on the home page");
    let sorted = browser.page("/?sort=price_desc").await;
    let position = |name: &str| sorted.find(name).unwrap_or_else(|| panic!("{name} listed"));
    assert!(position("Cast iron skillet") < position("Desk lamp"), "price high to low");

    let image = browser.get("/images/catalogue/enamel-mug.svg").await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
    assert!(image.text().await.expect("svg").starts_with("<svg"), "a drawing");
}

#[tokio::test]
async fn the_catalogue_pages_with_a_cursor() {
    let shop = spawn_shop().await;
    for i in 0..14 {
        shop.product(json!({"sku": format!("P-{i:02}"), "name": format!("Poster {i:02}"), "category": "home"})).await;
    }
    let browser = Browser::new(&shop);
    let first = browser.page("/?sort=name").await;
    assert!(first.contains("Poster 00") && first.contains("Poster 11") && !first.contains("Poster 12"));
    let marker = "href=\"";
    let next = first.find("id=\"next-page\"").map(|end| {
        let start = first[..end].rfind(marker).expect("href") + marker.len();
        first[start..].split('"').next().expect("link").replace("&#38;", "&").replace("&amp;", "&")
    });
    let second = browser.page(&next.expect("a next page link")).await;
    assert!(second.contains("Poster 12") && second.contains("Poster 13") && !second.contains("Poster 00"));
    assert!(second.contains("First page"));
}

#[tokio::test]
async fn a_guest_cart_is_merged_into_the_account_cart_at_log_in() {
    let shop = spawn_shop().await;
    let lamp = shop.product(json!({"sku": "LAMP-1", "name": "Desk lamp", "price": 4999})).await;
    let mug = shop.product(json!({"sku": "MUG-1", "name": "Enamel mug", "price": 1250})).await;
    let (lamp, mug) = (lamp["id"].as_str().expect("id"), mug["id"].as_str().expect("id"));
    shop.customer("ada@example.com").await;

    // Earlier visit, logged in: one mug left in the account's cart.
    let earlier = Browser::new(&shop);
    earlier.submit("/login", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", "/")]).await;
    earlier.submit("/cart/items", &[("product_id", mug), ("quantity", "1")]).await;
    earlier.submit("/logout", &[]).await;

    // Today, as a guest: two lamps and two mugs, then log in.
    let browser = Browser::new(&shop);
    let (_, page) = browser.submit("/cart/items", &[("product_id", lamp), ("quantity", "2")]).await;
    assert!(page.contains("Added 2 × Desk lamp to your cart."), "notice after adding");
    browser.submit("/cart/items", &[("product_id", mug), ("quantity", "2")]).await;
    let before = browser.get("/cart").await;
    let cookie_before = browser.http.get(browser.base.clone()).build().map(|_| ()).ok();
    assert!(cookie_before.is_some());
    assert!(before.text().await.expect("html").contains("€124.98"), "2 × 49.99 + 2 × 12.50");

    let (status, cart) =
        browser.submit("/login", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", "/cart")]).await;
    assert_eq!(status, 200);
    assert!(cart.contains("Desk lamp") && cart.contains("Enamel mug"), "both products are still there");
    assert!(cart.contains("value=\"3\""), "the mugs add up: 1 from before + 2 as a guest");
    assert!(cart.contains("€137.48"), "2 × 49.99 + 3 × 12.50");
    let guest_carts: i64 = sqlx::query_scalar("SELECT count(*) FROM carts WHERE session_id IS NOT NULL")
        .fetch_one(&shop.storefront_db.pool)
        .await
        .expect("count");
    assert_eq!(guest_carts, 0, "the guest cart was merged, not copied");

    // Quantity changes and removal.
    let (_, cart) = browser.submit(&format!("/cart/items/{mug}"), &[("quantity", "1")]).await;
    assert!(cart.contains("€112.48"), "2 × 49.99 + 1 × 12.50");
    let (_, cart) = browser.submit(&format!("/cart/items/{mug}"), &[("quantity", "100")]).await;
    assert!(cart.contains("between 1 and 99") && cart.contains("€112.48"), "an out-of-range quantity is refused");
    let (_, cart) = browser.submit(&format!("/cart/items/{lamp}/remove"), &[]).await;
    assert!(!cart.contains("Desk lamp") && cart.contains("€12.50"));
    assert!(!cart.contains("checkout-blocked") && !cart.contains(" disabled"), "one currency, in stock: checkout on");

    // Two currencies: a total for each, and the checkout button says why it is off.
    let tea =
        shop.product(json!({"sku": "TEA-1", "name": "Matcha", "price": 1800, "currency": "JPY", "stock": 9})).await;
    let tea = tea["id"].as_str().expect("id");
    browser.submit("/cart/items", &[("product_id", tea), ("quantity", "1")]).await;
    let cart = browser.page("/cart").await;
    assert!(cart.contains("Total in EUR") && cart.contains("Total in JPY") && cart.contains("¥1,800"), "{cart}");
    assert!(cart.contains("id=\"checkout\" disabled aria-describedby=\"checkout-blocked\""), "{cart}");
    assert!(cart.contains("Your cart holds prices in EUR and JPY. An order is paid in one currency"), "{cart}");
    let (_, cart) = browser.submit(&format!("/cart/items/{tea}/remove"), &[]).await;
    assert!(!cart.contains("checkout-blocked"), "one currency again: checkout on");
}

#[tokio::test]
async fn checkout_needs_an_account_and_a_declined_card_leaves_the_order_payable() {
    let shop = spawn_shop().await;
    let lamp = shop.product(json!({"sku": "LAMP-1", "name": "Desk lamp", "price": 4999, "stock": 5})).await;
    let lamp_id = lamp["id"].as_str().expect("id");
    let browser = Browser::new(&shop);
    browser.submit("/cart/items", &[("product_id", lamp_id), ("quantity", "2")]).await;

    let guest_checkout = browser.post("/checkout", &[]).await;
    assert_eq!(guest_checkout.status(), 303);
    assert_eq!(guest_checkout.headers()["location"], "/login?next=%2Fcart");

    browser.register("grace@example.com").await;
    // Checkout asks where to deliver first, then shows the review.
    let asked = browser.post("/checkout", &[]).await;
    assert_eq!(asked.headers()["location"], "/checkout/delivery", "no delivery yet");
    let form = browser.page("/checkout/delivery").await;
    assert!(form.contains("value=\"Ada\"") && form.contains("<option value=\"FR\" selected>France</option>"), "{form}");
    browser.deliver_to_paris().await;
    let review = browser.page("/checkout/review").await;
    assert!(review.contains("id=\"review-shipping\">Free<") && review.contains("€99.98"), "free from €50: {review}");
    assert!(review.contains("€16.66 (20% France VAT)") && review.contains("75011 Paris"), "{review}");
    let placed = browser.post("/checkout", &[]).await;
    assert_eq!(placed.status(), 303);
    let pay_path = placed.headers()["location"].to_str().expect("location").to_owned();
    assert!(pay_path.starts_with("/orders/") && pay_path.ends_with("/pay"), "{pay_path}");
    assert_eq!(shop.product_now(lamp_id).await["stock"], 3, "the order holds two units");
    let cart = browser.page("/cart").await;
    assert!(cart.contains("Desk lamp") && cart.contains("value=\"2\""), "the cart keeps its lines until paid");
    assert!(cart.contains("is waiting for payment") && cart.contains(&format!("href=\"{pay_path}\"")), "{cart}");
    assert!(!cart.contains("Out of stock") && !cart.contains(" disabled"), "the held units count as the shopper's");

    let pay_page = browser.page(&pay_path).await;
    assert!(pay_page.contains("€99.98") && pay_page.contains("4242 4242 4242 4242"), "total and test cards");
    assert!(pay_page.contains("Your items are reserved for 1"), "the hold's deadline is stated: {pay_page}");
    assert!(pay_page.contains("An order not paid by then is cancelled"), "and what happens after it");
    let attempt = |html: &str| {
        let marker = "name=\"attempt\" value=\"";
        let start = html.find(marker).expect("attempt field") + marker.len();
        html[start..start + 36].to_owned()
    };
    let declined = browser
        .post(
            &pay_path,
            &[("number", DECLINED_CARD), ("expiry", "12/30"), ("cvc", "123"), ("attempt", &attempt(&pay_page))],
        )
        .await;
    // Post/redirect/get: the refusal is a redirect to the pay page, which says why in a
    // shopper's words; reloading it (or coming Back to it) sends nothing again.
    assert_eq!(declined.status(), 303);
    let again = declined.headers()["location"].to_str().expect("location").to_owned();
    assert_eq!(again, format!("{pay_path}?problem=declined"));
    let declined = browser.page(&again).await;
    assert!(declined.contains("Your bank declined this card. Nothing was charged: try another card."), "{declined}");
    assert!(!declined.contains("card_declined") && !declined.contains("card.exp"), "no developer words");
    assert_eq!(browser.page(&again).await.matches("id=\"pay-error\"").count(), 1, "a reload shows the same page");
    assert_eq!(shop.product_now(lamp_id).await["stock"], 3, "and changes nothing");
    let forged = browser.page(&format!("{pay_path}?problem=%3Cscript%3E")).await;
    assert!(!forged.contains("pay-error") && !forged.contains("<script>"), "only known reasons are shown");

    let bad_expiry =
        browser.post(&pay_path, &[("number", GOOD_CARD), ("expiry", "2030"), ("cvc", "123"), ("attempt", "x")]).await;
    assert_eq!(bad_expiry.status(), 303);
    assert_eq!(bad_expiry.headers()["location"], format!("{pay_path}?problem=expiry-format").as_str());
    assert!(browser.page(&format!("{pay_path}?problem=expiry-format")).await.contains("MM/YY, for example"));
    let expired =
        browser.post(&pay_path, &[("number", GOOD_CARD), ("expiry", "01/20"), ("cvc", "123"), ("attempt", "y")]).await;
    assert_eq!(expired.headers()["location"], format!("{pay_path}?problem=expired").as_str(), "a past date");

    let (status, order) = browser
        .submit(
            &pay_path,
            &[("number", GOOD_CARD), ("expiry", "12/30"), ("cvc", "123"), ("attempt", &attempt(&declined))],
        )
        .await;
    assert_eq!(status, 200);
    assert!(order.contains("Thank you! Your payment was received.") && order.contains(">Paid<"), "{order}");
    assert!(browser.page("/cart").await.contains("Your cart is empty"), "paid: the lines left the cart");
    let orders = browser.page("/orders").await;
    assert!(orders.contains("Paid") && orders.contains("€99.98"));

    // Cancelling a paid order refunds it.
    let order_path = pay_path.trim_end_matches("/pay").to_owned();
    let (_, cancelled) = browser.submit(&format!("{order_path}/cancel"), &[]).await;
    assert!(cancelled.contains("Your payment has been refunded"), "{cancelled}");
    assert!(cancelled.contains(">Cancelled<"));
    assert_eq!(shop.product_now(lamp_id).await["stock"], 5, "the stock went back");
}

#[tokio::test]
async fn an_admin_edits_the_catalogue_and_ships_orders_and_customers_may_not() {
    let shop = spawn_shop().await;
    let lamp = shop.product(json!({"sku": "LAMP-1", "name": "Desk lamp", "price": 4999, "stock": 5})).await;
    let lamp_id = lamp["id"].as_str().expect("id");

    let customer = Browser::new(&shop);
    customer.register("eve@example.com").await;
    assert_eq!(customer.get("/admin/products").await.status(), 403);
    let forged = customer
        .post(
            &format!("/admin/products/{lamp_id}"),
            &[
                ("sku", "LAMP-1"),
                ("name", "Hacked"),
                ("price", "0.01"),
                ("currency", "EUR"),
                ("stock", "1"),
                ("category", "x"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(shop.product_now(lamp_id).await["name"], "Desk lamp");

    customer.submit("/cart/items", &[("product_id", lamp_id), ("quantity", "1")]).await;
    customer.deliver_to_paris().await;
    let pay_path = customer.post("/checkout", &[]).await.headers()["location"].to_str().expect("loc").to_owned();
    customer
        .submit(&pay_path, &[("number", "4242424242424242"), ("expiry", "01/31"), ("cvc", "999"), ("attempt", "")])
        .await;

    let admin = Browser::new(&shop);
    admin.submit("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/admin/products")]).await;
    let list = admin.page("/admin/products").await;
    assert!(list.contains("Desk lamp") && list.contains("LAMP-1"));
    let found = admin.page("/admin/products?q=lamp").await;
    assert_eq!(found.matches("type=\"search\"").count(), 1, "one search box on the admin list: {found}");
    assert!(found.contains("action=\"/admin/products\""), "the header box searches the admin list there");
    assert!(found.contains("name=\"q\" value=\"lamp\""), "and keeps its query");
    let form = admin.page(&format!("/admin/products/{lamp_id}")).await;
    assert!(form.contains("value=\"49.99\""), "price shown in major units");

    // The edit form as the admin fills it, with a picture address.
    let brass = |image_url: &'static str| {
        [
            ("sku", "LAMP-1"),
            ("name", "Brass desk lamp"),
            ("description", "Now in brass"),
            ("price", "59.50"),
            ("currency", "EUR"),
            ("stock", "12"),
            ("category", "lighting"),
            ("image_url", image_url),
        ]
    };
    let (status, page) = admin.submit(&format!("/admin/products/{lamp_id}"), &brass("")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Saved Brass desk lamp."));
    let now = shop.product_now(lamp_id).await;
    assert_eq!(
        (now["name"].as_str(), now["price"].as_i64(), now["stock"].as_i64()),
        (Some("Brass desk lamp"), Some(5950), Some(12))
    );

    // A picture over plain http:// would be blocked by the pages' own policy: refused, saying so.
    let http_picture = admin.post(&format!("/admin/products/{lamp_id}"), &brass("http://cdn.example/lamp.png")).await;
    assert_eq!(http_picture.status(), 422);
    let page = http_picture.text().await.expect("html");
    assert!(page.contains("use https://cdn.example/lamp.png"), "{page}");
    assert_eq!(shop.product_now(lamp_id).await["image_url"], serde_json::Value::Null, "nothing was saved");

    let refused = admin
        .post(
            &format!("/admin/products/{lamp_id}"),
            &[
                ("sku", "LAMP-1"),
                ("name", "Lamp"),
                ("price", "1.234"),
                ("currency", "EUR"),
                ("stock", "1"),
                ("category", "lighting"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.expect("html").contains("at most 2 decimals"));
    let refused = admin
        .post(
            "/admin/products/new",
            &[
                ("sku", "x"),
                ("name", "New"),
                ("price", "1"),
                ("currency", "EUR"),
                ("stock", "1"),
                ("category", "Bad Slug"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.expect("html");
    assert!(
        refused.contains("sku:") && refused.contains("category:"),
        "the products service's field errors: {refused}"
    );

    let (_, list) = admin
        .submit(
            "/admin/products/new",
            &[
                ("sku", "tent-2"),
                ("name", "Two-person tent"),
                ("description", "Light"),
                ("price", "249"),
                ("currency", "eur"),
                ("stock", "4"),
                ("category", "outdoor"),
                ("image_url", ""),
            ],
        )
        .await;
    assert!(list.contains("Saved Two-person tent.") && list.contains("TENT-2"), "created: {list}");
    let link = "href=\"/products/";
    let at = list.find(">Two-person tent<").expect("listed");
    let start = list[..at].rfind(link).expect("link") + link.len();
    let tent_id = list[start..start + 36].to_owned();
    assert_eq!(shop.product_now(&tent_id).await["price"], 24900, "249 EUR in cents");
    assert!(admin.page("/").await.contains("Two-person tent"), "in the catalogue");
    let (_, list) = admin.submit(&format!("/admin/products/{tent_id}/delete"), &[]).await;
    assert!(list.contains("Product deleted.") && !list.contains("TENT-2"));
    assert_eq!(admin.get(&format!("/products/{tent_id}")).await.status(), 404);

    let orders = admin.page("/admin/orders?status=paid").await;
    let order_id = pay_path.trim_start_matches("/orders/").trim_end_matches("/pay");
    assert!(orders.contains(&format!("order-{order_id}")), "the paid order is listed");
    let (_, shipped) = admin.submit(&format!("/admin/orders/{order_id}/status"), &[("status", "shipped")]).await;
    assert!(shipped.contains("marked shipped"), "{shipped}");
    let customer_view = customer.page(&format!("/orders/{order_id}")).await;
    assert!(customer_view.contains(">Shipped<"));
}

#[tokio::test]
async fn profile_changes_and_account_deletion() {
    let shop = spawn_shop().await;
    let browser = Browser::new(&shop);
    browser.register("lin@example.com").await;
    let (_, page) = browser.submit("/account", &[("name", "Lin Ma"), ("email", "lin@example.com")]).await;
    assert!(page.contains("Your account was updated.") && page.contains("Lin Ma"), "{page}");
    let refused = browser.post("/account", &[("email", "lin.ma@example.com")]).await;
    assert_eq!(refused.status(), 422, "changing the e-mail needs the current password");
    let (_, page) = browser
        .submit(
            "/account",
            &[
                ("email", "lin.ma@example.com"),
                ("password", "an even better passphrase"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert!(page.contains("lin.ma@example.com"), "{page}");
    assert!(page.contains("Your password was changed; any other device is logged out."), "{page}");
    assert!(page.contains("Log out"), "this browser stays logged in with the new password");

    let (status, page) = browser.submit("/account/delete", &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Your account was deleted"));
    assert_eq!(browser.get("/account").await.status(), 303, "logged out");
    let again = Browser::new(&shop);
    let (status, _) = again
        .submit("/login", &[("email", "lin.ma@example.com"), ("password", "an even better passphrase"), ("next", "/")])
        .await;
    assert_eq!(status, 401, "the account is gone");
}

#[tokio::test]
async fn health_metrics_and_unknown_pages() {
    let shop = spawn_shop().await;
    let browser = Browser::new(&shop);
    assert_eq!(browser.get("/health/live").await.status(), 200);
    assert_eq!(browser.get("/health/ready").await.status(), 200);
    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers()["content-type"].to_str().expect("ct").starts_with("text/html"));
    assert_eq!(browser.get(&format!("/products/{}", uuid::Uuid::new_v4())).await.status(), 404);
    assert_eq!(browser.get("/products/not-a-uuid").await.status(), 404);
    let malformed = browser.post("/cart/items", &[("product_id", "x")]).await;
    assert_eq!(malformed.status(), 400, "a form without its fields");
    let body = malformed.text().await.expect("html");
    assert!(body.contains("could not be read"), "{body}");
    let wrong_method = browser.get("/checkout").await;
    assert_eq!(wrong_method.status(), 404);
    assert!(wrong_method.headers()["content-type"].to_str().expect("ct").starts_with("text/html"));
    let metrics = browser.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains(r#"http_route="/products/:id""#), "{metrics}");
}

#[tokio::test]
async fn a_shopper_stays_logged_in_past_the_access_token_and_hears_when_the_log_in_ends() {
    // Access tokens of 2 s: every page renews them (due within a minute), and a pause longer
    // than their life must not log anyone out.
    let shop = spawn_shop_with(std::time::Duration::from_secs(2)).await;
    let browser = Browser::new(&shop);
    browser.register("ada@example.com").await;
    let issued = |pool: &sqlx::PgPool| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM refresh_tokens").fetch_one(&pool).await.expect("count")
        }
    };
    let at_log_in = issued(&shop.users_db.pool).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let account = browser.page("/account").await;
    assert!(account.contains("ada@example.com") && account.contains("Log out"), "still logged in: {account}");
    assert!(issued(&shop.users_db.pool).await > at_log_in, "the refresh token was rotated");
    // The storefront keeps the refresh token sealed: the row holds no token users issued.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT refresh_sealed FROM sessions WHERE user_id IS NOT NULL")
        .fetch_one(&shop.storefront_db.pool)
        .await
        .expect("sealed");
    assert!(sealed.len() > 43 && !sealed.iter().all(u8::is_ascii_alphanumeric), "stored sealed, not as issued");
    // A form posted after another pause works too (its CSRF token and session carry over).
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, page) = browser.submit("/account", &[("name", "Ada L."), ("email", "ada@example.com")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Your account was updated.") && page.contains("Ada L."), "{page}");

    // The log-in ends at users (revoked elsewhere): the next page says so and is a guest's.
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now()").execute(&shop.users_db.pool).await.expect("revoke");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let home = browser.page("/").await;
    assert!(home.contains("Your session has ended, so you are no longer logged in"), "{home}");
    assert!(home.contains("Log in") && !home.contains("Log out"), "a guest now");
    assert_eq!(browser.get("/account").await.status(), 303, "the account page asks to log in");
    let notice_again = browser.page("/").await;
    assert!(!notice_again.contains("Your session has ended"), "said once");
}

#[tokio::test]
async fn log_out_revokes_the_refresh_token_at_users() {
    let shop = spawn_shop().await;
    let browser = Browser::new(&shop);
    browser.register("ada@example.com").await;
    let live = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    assert_eq!(live(shop.users_db.pool.clone()).await, 1);
    browser.submit("/logout", &[]).await;
    assert_eq!(live(shop.users_db.pool.clone()).await, 0, "revoked with the session");
}

#[tokio::test]
async fn guesses_at_a_shoppers_password_pause_the_guesser_not_the_shopper() {
    let shop = spawn_shop().await;
    shop.customer("ada@example.com").await;
    let login = |password: &'static str| [("email", "ada@example.com"), ("password", password), ("next", "/")];
    let guesser = Browser::at_address(&shop, "203.0.113.7");
    for _ in 0..3 {
        let (status, page) = guesser.submit("/login", &login("not the password")).await;
        assert_eq!(status, 401);
        assert!(page.contains("Wrong e-mail or password."), "{page}");
    }
    // The guesser is paused, even with the right password, and told until when.
    let (status, page) = guesser.submit("/login", &login(PASSWORD)).await;
    assert_eq!(status, 401);
    assert!(page.contains("Too many failed log-ins for this account from here"), "{page}");
    assert!(page.contains("Try again in 15 minutes"), "users' Retry-After, in minutes: {page}");

    // The shopper, from their own address behind the same storefront, logs in.
    let owner = Browser::at_address(&shop, "198.51.100.2");
    let (status, page) = owner.submit("/login", &login(PASSWORD)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Welcome, Ada!"), "{page}");
}

#[tokio::test]
async fn checking_out_again_replaces_the_waiting_order_and_paying_takes_only_its_lines() {
    let shop = spawn_shop().await;
    let lamp = shop.product(json!({"sku": "LAMP-1", "name": "Desk lamp", "price": 4999, "stock": 3})).await;
    let mug = shop.product(json!({"sku": "MUG-1", "name": "Enamel mug", "price": 1250, "stock": 10})).await;
    let (lamp, mug) = (lamp["id"].as_str().expect("id"), mug["id"].as_str().expect("id"));
    let browser = Browser::new(&shop);
    browser.register("ada@example.com").await;
    browser.submit("/cart/items", &[("product_id", lamp), ("quantity", "3")]).await;
    browser.deliver_to_paris().await;
    let first = browser.post("/checkout", &[]).await.headers()["location"].to_str().expect("location").to_owned();
    assert_eq!(shop.product_now(lamp).await["stock"], 0, "the first order holds every lamp");

    // The shopper goes back, changes the cart (all lamps are theirs to change) and checks out again.
    let cart = browser.page("/cart").await;
    assert!(!cart.contains("Out of stock"), "the waiting order's lamps are not counted as gone: {cart}");
    browser.submit(&format!("/cart/items/{lamp}"), &[("quantity", "2")]).await;
    let second = browser.post("/checkout", &[]).await.headers()["location"].to_str().expect("location").to_owned();
    assert_ne!(first, second);
    assert_eq!(shop.product_now(lamp).await["stock"], 1, "the first order was cancelled, the second holds two");
    let first_order = browser.page(first.trim_end_matches("/pay")).await;
    assert!(first_order.contains(">Cancelled<"), "{first_order}");

    // A mug added while the second order waits stays in the cart when that order is paid.
    browser.submit("/cart/items", &[("product_id", mug), ("quantity", "1")]).await;
    let pay_page = browser.page(&second).await;
    assert!(pay_page.contains("Your cart keeps these items until you pay"), "{pay_page}");
    let (status, paid) = browser
        .submit(&second, &[("number", GOOD_CARD), ("expiry", "12/30"), ("cvc", "123"), ("attempt", "one")])
        .await;
    assert_eq!(status, 200);
    assert!(paid.contains(">Paid<"), "{paid}");
    let cart = browser.page("/cart").await;
    assert!(!cart.contains("Desk lamp") && cart.contains("Enamel mug"), "only the order's lines left: {cart}");
    assert!(!cart.contains("waiting for payment"), "{cart}");
    let checkout_order: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT checkout_order FROM carts").fetch_one(&shop.storefront_db.pool).await.expect("cart");
    assert_eq!(checkout_order, None, "the cart forgot the paid order");
}

#[tokio::test]
async fn staff_find_orders_see_the_customer_and_refund_after_confirming() {
    let shop = spawn_shop().await;
    let lamp = shop.product(json!({"sku": "LAMP-1", "name": "Desk lamp", "price": 4999, "stock": 5})).await;
    let lamp = lamp["id"].as_str().expect("id");
    let customer = Browser::new(&shop);
    customer.register("ada@example.com").await;
    customer.submit("/cart/items", &[("product_id", lamp), ("quantity", "1")]).await;
    customer.deliver_to_paris().await;
    let pay = customer.post("/checkout", &[]).await.headers()["location"].to_str().expect("location").to_owned();
    customer.submit(&pay, &[("number", GOOD_CARD), ("expiry", "12/30"), ("cvc", "123"), ("attempt", "a")]).await;
    let order_id = pay.trim_start_matches("/orders/").trim_end_matches("/pay").to_owned();
    let number = order_id.replace('-', "")[24..].to_uppercase();
    assert_eq!(shop.product_now(lamp).await["stock"], 4);

    let admin = Browser::new(&shop);
    admin.submit("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/admin/orders")]).await;
    let list = admin.page("/admin/orders").await;
    assert!(list.contains(&format!("#{number}")) && list.contains("ada@example.com"), "customer column: {list}");
    assert!(list.contains("Paid: to ship") && !list.contains(">paid<"), "statuses in words");
    assert!(list.contains("to 12 rue des Lilas, 75011 Paris, FR"), "the address column: {list}");
    // Search: by number (with or without #), by e-mail, or a whole id straight to the order.
    for q in [number.clone(), format!("%23{}", number.to_lowercase()), "ada%40example.com".to_owned()] {
        let found = admin.page(&format!("/admin/orders?q={q}")).await;
        assert!(found.contains(&format!("#{number}")) && found.contains("1 order<"), "{q}: {found}");
    }
    let nobody = admin.page("/admin/orders?q=nobody%40example.com").await;
    assert!(nobody.contains("No account has the e-mail nobody@example.com") && nobody.contains("0 orders"));
    assert!(admin.page("/admin/orders?q=lamp").await.contains("Search by order number"));
    assert_eq!(
        admin.get(&format!("/admin/orders?q={order_id}")).await.headers()["location"],
        format!("/admin/orders/{order_id}").as_str()
    );

    let detail = admin.page(&format!("/admin/orders/{order_id}")).await;
    assert!(
        detail.contains("Ada") && detail.contains("ada@example.com") && detail.contains("Cancel and refund…"),
        "{detail}"
    );
    // Cancelling asks first: the question page changes nothing.
    let question = admin.page(&format!("/admin/orders/{order_id}/cancel")).await;
    assert!(question.contains("Cancel and refund €54.89") && question.contains("cannot be undone"), "{question}");
    assert_eq!(shop.product_now(lamp).await["stock"], 4, "asking changed nothing");
    let (status, done) = admin.submit(&format!("/admin/orders/{order_id}/cancel"), &[]).await;
    assert_eq!(status, 200);
    assert!(done.contains(&format!("Order #{number} cancelled and €54.89 refunded to the customer.")), "{done}");
    assert!(
        done.contains("12 rue des Lilas") && done.contains("75011 Paris") && done.contains("€4.90"),
        "the address: {done}"
    );
    assert!(done.contains("(refunded)") && done.contains("Cancelled by the shop"), "{done}");
    assert_eq!(shop.product_now(lamp).await["stock"], 5, "the stock went back");
    let theirs = customer.page(&format!("/orders/{order_id}")).await;
    assert!(theirs.contains("Cancelled by the shop") && theirs.contains("Your payment has been refunded"), "{theirs}");

    // Deleting a product asks first too.
    let question = admin.page(&format!("/admin/products/{lamp}/delete")).await;
    assert!(question.contains("Delete Desk lamp?") && question.contains("cannot be undone"), "{question}");
    assert_eq!(shop.product_now(lamp).await["name"], "Desk lamp", "asking deleted nothing");
}

#[tokio::test]
async fn the_staff_order_list_has_numbered_pages() {
    let shop = spawn_shop().await;
    let mug = shop.product(json!({"sku": "MUG-1", "name": "Enamel mug", "price": 1250, "stock": 50})).await;
    let customer = Browser::new(&shop);
    customer.register("ada@example.com").await;
    customer.submit("/cart/items", &[("product_id", mug["id"].as_str().expect("id")), ("quantity", "1")]).await;
    customer.deliver_to_paris().await;
    // Each checkout replaces the waiting order: 21 orders, 20 of them cancelled.
    for _ in 0..21 {
        assert_eq!(customer.post("/checkout", &[]).await.status(), 303);
    }
    let admin = Browser::new(&shop);
    admin.submit("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/")]).await;
    let first = admin.page("/admin/orders").await;
    assert!(first.contains("21 orders") && first.contains("<span aria-current=\"page\">1</span>"), "{first}");
    assert_eq!(first.matches("<tr id=\"order-").count(), 20);
    assert!(first.contains("page=2\">2</a>"), "a link to page 2: {first}");
    let second = admin.page("/admin/orders?page=2").await;
    assert_eq!(second.matches("<tr id=\"order-").count(), 1);
    assert!(first.contains("<span class=\"status pending\">"), "the newest order, still waiting, is on page 1");
    assert!(!second.contains("<span class=\"status pending\">"), "page 2 holds the oldest, cancelled: {second}");
    assert!(second.contains("<span class=\"status cancelled\">Cancelled</span>"), "{second}");
    let cancelled = admin.page("/admin/orders?status=cancelled").await;
    assert!(cancelled.contains("20 orders") && !cancelled.contains("aria-label=\"Pages\""), "one page: no pager");
}

#[tokio::test]
async fn the_delivery_step_remembers_the_shoppers_addresses() {
    let shop = spawn_shop().await;
    let mug = shop.product(json!({"sku": "MUG-1", "name": "Enamel mug", "price": 1250, "stock": 50})).await;
    let browser = Browser::new(&shop);
    browser.register("ada@example.com").await;
    browser.submit("/cart/items", &[("product_id", mug["id"].as_str().expect("id")), ("quantity", "1")]).await;
    let first = browser.page("/checkout/delivery").await;
    assert!(!first.contains("Your addresses"), "none saved yet");
    browser.deliver_to_paris().await;
    let review = browser.page("/checkout/review").await;
    assert!(review.contains("id=\"review-shipping\">€4.90<") && review.contains("€17.40"), "under €50: {review}");

    // An address users refuses is said on the form, not when the order is placed.
    let long = "7".repeat(21);
    let fields = [
        ("recipient", "Ada"),
        ("line1", "1 rue X"),
        ("postal_code", long.as_str()),
        ("city", "Paris"),
        ("country", "FR"),
    ];
    let refused = browser.post("/checkout/delivery", &fields).await;
    assert_eq!(refused.headers()["location"], "/checkout/delivery");
    let form = browser.page("/checkout/delivery").await;
    assert!(form.contains("Please check the address: postal code: must be 1 to 20 characters"), "{form}");

    // Next visit (a new session): the saved address is offered and fills the form.
    browser.submit("/logout", &[]).await;
    browser.submit("/login", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", "/")]).await;
    let form = browser.page("/checkout/delivery").await;
    assert!(form.contains("Your addresses") && form.contains("Deliver here"), "{form}");
    assert!(form.contains("value=\"12 rue des Lilas\""), "the form starts from the last address: {form}");
}

/// A paid order's confirmation reaches the customer through the event bus (orders' outbox ->
/// NATS -> notifications -> SMTP); staff see it on their e-mail page, customers may not.
#[tokio::test]
async fn the_confirmation_e_mail_arrives_and_staff_see_it() {
    let shop = spawn_shop_with_mail().await;
    let lamp = shop.product(json!({"sku": "MAIL-1", "name": "Mailed lamp", "price": 2500})).await;
    let lamp = lamp["id"].as_str().expect("id");
    let customer = Browser::new(&shop);
    customer.register("mailed@example.com").await;
    customer.submit("/cart/items", &[("product_id", lamp), ("quantity", "1")]).await;
    customer.deliver_to_paris().await;
    let pay = customer.post("/checkout", &[]).await.headers()["location"].to_str().expect("location").to_owned();
    customer.submit(&pay, &[("number", GOOD_CARD), ("expiry", "12/30"), ("cvc", "123"), ("attempt", "")]).await;
    let order_id = pay.trim_start_matches("/orders/").trim_end_matches("/pay").to_owned();
    let number = order_id.replace('-', "")[24..].to_uppercase();

    let mail = shop.mail.as_ref().expect("mail").wait_for(&format!("Order #{number} confirmed")).await;
    assert_eq!(mail.header("to"), Some("mailed@example.com"));
    assert!(mail.body.contains(&format!("http://shop.test/orders/{order_id}")), "{}", mail.body);

    assert_eq!(customer.get("/admin/emails").await.status(), 403, "customers do not read others' e-mail");
    let admin = Browser::new(&shop);
    admin.submit("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/admin/emails")]).await;
    let page = admin.page("/admin/emails").await;
    assert!(page.contains(&format!("Order #{number} confirmed")) && page.contains("mailed@example.com"), "{page}");
    assert!(page.contains(&format!("href=\"/admin/orders/{order_id}\"")), "links to the order: {page}");
}

/// Without a notifications service the staff e-mail page says so instead of failing.
#[tokio::test]
async fn the_e_mail_page_says_when_e_mails_are_not_set_up() {
    let shop = spawn_shop().await;
    let admin = Browser::new(&shop);
    admin.submit("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/admin/emails")]).await;
    let page = admin.page("/admin/emails").await;
    assert!(page.contains("id=\"emails-off\""), "{page}");
}
