//! Shopping in a real browser: headless Chromium against the storefront and the real services.
//! Ignored by default (they need chromium and chromedriver): `.ci/checks/storefront.sh` runs them.

use fantoccini::Locator;
use serde_json::json;

use crate::{
    driver::Driver,
    helpers::{
        ADMIN_EMAIL, ADMIN_PASSWORD, Browser, DECLINED_CARD, GOOD_CARD, Shop, spawn_shop, spawn_shop_with,
        spawn_shop_with_mail,
    },
};

async fn demo_products(shop: &Shop) -> (String, String) {
    let lamp = shop
        .product(json!({"sku": "LAMP-1", "name": "Desk lamp", "description": "A warm LED desk lamp with a brass arm.",
            "price": 4999, "stock": 3, "category": "lighting", "image_url": "/images/catalogue/desk-lamp.svg"}))
        .await;
    let mug = shop
        .product(json!({"sku": "MUG-1", "name": "Enamel camping mug", "description": "Light, tough, dishwasher safe.",
            "price": 1250, "stock": 40, "category": "kitchen", "image_url": "/images/catalogue/enamel-camping-mug.svg"}))
        .await;
    shop.product(
        json!({"sku": "KNF-1", "name": "Chef's knife 20 cm", "price": 8900, "stock": 0, "category": "kitchen"}),
    )
    .await;
    (lamp["id"].as_str().expect("id").to_owned(), mug["id"].as_str().expect("id").to_owned())
}

/// Every `<img>` on the page has loaded with a real size (no broken pictures).
async fn assert_images_load(driver: &Driver) {
    let broken = driver
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const images = Array.from(document.images);
             Promise.all(images.map(i => { i.loading = 'eager';
                 return i.complete ? null : new Promise(r => { i.onload = r; i.onerror = r; }); }))
               .then(() => done(images.filter(i => !(i.naturalWidth > 0)).map(i => i.src)));",
            vec![],
        )
        .await
        .expect("check images");
    assert_eq!(broken, json!([]), "broken images");
}

async fn add_to_cart(driver: &Driver, shop: &Shop, product: &str, quantity: &str, label: &str) {
    driver.goto(&shop.url(&format!("/products/{product}"))).await;
    assert_images_load(driver).await;
    driver.fill("input[name=quantity]", quantity).await;
    driver.click("#add-to-cart").await;
    driver.shot(label).await;
    assert!(driver.text("#notice").await.starts_with("Added"), "notice after adding");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/checks/storefront.sh runs it"]
async fn a_guest_fills_a_cart_registers_and_pays_after_a_declined_card() {
    let shop = spawn_shop_with_mail().await;
    let (lamp, mug) = demo_products(&shop).await;
    let driver = Driver::start("guest-purchase", 1280, 900).await;

    driver.goto(&shop.url("/")).await;
    assert_images_load(&driver).await;
    assert!(driver.text("#catalogue").await.contains("Out of stock"));
    driver.shot("catalogue").await;
    driver.fill("header .search input[name=q]", "lamb").await;
    driver.click("header .search button").await;
    driver.wait_for_url_containing("q=lamb").await;
    assert!(driver.text("#catalogue").await.contains("Desk lamp"), "typo-tolerant search");
    let kept = driver.find("header .search input[name=q]").await.prop("value").await.expect("value");
    assert_eq!(kept.as_deref(), Some("lamb"), "the one search box keeps the query");
    driver.shot("search").await;
    driver.click(".product-link").await;
    assert_eq!(driver.text("#availability").await, "Only 3 left");

    add_to_cart(&driver, &shop, &lamp, "1", "lamp-added").await;
    add_to_cart(&driver, &shop, &mug, "2", "mug-added").await;
    assert_eq!(driver.text("#cart-count").await, "3");

    driver.click("#cart-link").await;
    assert_eq!(driver.text("#cart-total").await, "€74.99");
    driver.shot("guest-cart").await;
    driver.click("#login-to-checkout").await;
    // The cart has a register link of its own: take the login page's, once it is there.
    driver.wait_for_path("/login").await;
    driver.click("main a[href^='/register']").await;
    driver.wait_for_path("/register").await;
    driver.fill("input[name=name]", "Ada Lovelace").await;
    driver.fill("input[name=email]", "ada.browser@example.com").await;
    driver.fill("input[name=password]", "correct horse battery").await;
    driver.shot("register").await;
    driver.click("#register").await;

    driver.wait_for_path("/cart").await;
    assert_eq!(driver.text("#cart-total").await, "€74.99", "the guest cart survived registering");
    driver.refresh_check().await;
    assert_eq!(driver.text("#cart-total").await, "€74.99", "and a reload");
    driver.shot("cart-after-register").await;

    driver.check_out_to_paris("checkout").await;
    assert!(driver.path().await.ends_with("/pay"));
    assert!(driver.text("#order-address").await.contains("75011 Paris"), "the pay page says where it goes");
    driver.shot("pay-page").await;
    driver.fill("#card-number", DECLINED_CARD).await;
    driver.fill("#card-expiry", "12/30").await;
    driver.fill("#card-cvc", "123").await;
    driver.click("#pay").await;
    let error = driver.text("#pay-error").await;
    assert!(error.contains("declined") && !error.contains("card_declined"), "{error}");
    driver.shot("declined").await;
    // The refusal was a redirect: a reload shows the same page, no "Confirm Form Resubmission".
    assert!(driver.path().await.ends_with("/pay"), "back on the pay page");
    driver.refresh_check().await;
    assert!(driver.text("#pay-error").await.contains("declined"), "the reason survives a reload");
    driver.shot("declined-reloaded").await;

    // Declined, the shopper looks at the cart: still full, with the order waiting and a way back.
    driver.click("#cart-kept a").await;
    driver.wait_for_path("/cart").await;
    assert!(driver.text("#waiting-order").await.contains("is waiting for payment"));
    assert_eq!(driver.text("#cart-total").await, "€74.99", "the cart kept its lines");
    driver.shot("cart-with-waiting-order").await;
    driver.click("#pay-waiting").await;
    driver.find("#card-number").await;

    driver.fill("#card-number", GOOD_CARD).await;
    driver.fill("#card-expiry", "12/30").await;
    driver.fill("#card-cvc", "123").await;
    driver.click("#pay").await;
    assert_eq!(driver.text("#order-status").await, "Paid");
    assert!(driver.text("#notice").await.contains("payment was received"));
    driver.shot("paid").await;
    // The confirmation e-mail arrives (read from the SMTP catcher), one for the order.
    let order_id = driver.path().await.trim_start_matches("/orders/").to_owned();
    let number = order_id.replace('-', "")[24..].to_uppercase();
    let mail = shop.mail.as_ref().expect("mail").wait_for(&format!("Order #{number} confirmed")).await;
    assert_eq!(mail.header("to"), Some("ada.browser@example.com"));
    assert!(mail.body.starts_with("Hello Ada Lovelace,") && mail.body.contains(&order_id), "{}", mail.body);
    driver.click("a[href='/orders']").await;
    assert!(driver.text("#orders").await.contains("Paid"));
    driver.shot("my-orders").await;
    assert_eq!(shop.product_now(&lamp).await["stock"], 2, "the lamp was sold");
    driver.goto(&shop.url("/cart")).await;
    assert!(driver.text("main").await.contains("Your cart is empty"), "paid: the cart emptied");

    // The same shop at phone width: no sideways scrolling.
    driver.client.set_window_size(390, 844).await.expect("phone size");
    for (path, label) in
        [("/", "phone-catalogue"), (&*format!("/products/{mug}"), "phone-product"), ("/orders", "phone-orders")]
    {
        driver.goto(&shop.url(path)).await;
        assert_eq!(driver.overflowing_elements().await, Vec::<String>::new(), "{path} fits a phone");
        driver.shot(label).await;
    }
    driver.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/checks/storefront.sh runs it"]
async fn an_admin_edits_a_product_ships_one_order_and_refunds_another() {
    let shop = spawn_shop_with_mail().await;
    let (lamp, mug) = demo_products(&shop).await;
    let customer = Browser::new(&shop);
    customer.register("buyer@example.com").await;
    let mut paid = Vec::new();
    for product in [&lamp, &mug] {
        customer.submit("/cart/items", &[("product_id", product), ("quantity", "1")]).await;
        customer.deliver_to_paris().await;
        let pay = customer.post("/checkout", &[]).await.headers()["location"].to_str().expect("location").to_owned();
        customer.submit(&pay, &[("number", GOOD_CARD), ("expiry", "12/30"), ("cvc", "123"), ("attempt", "")]).await;
        paid.push(pay.trim_end_matches("/pay").to_owned());
    }
    let mug_order = paid[1].clone();

    let driver = Driver::start("admin", 1280, 900).await;
    driver.goto(&shop.url("/login?next=/admin/products")).await;
    driver.fill("input[name=email]", ADMIN_EMAIL).await;
    driver.fill("input[name=password]", ADMIN_PASSWORD).await;
    driver.click("#login").await;
    driver.wait_for_path("/admin/products").await;
    driver.shot("admin-products").await;

    driver.goto(&shop.url(&format!("/admin/products/{lamp}"))).await;
    driver.fill("input[name=name]", "Brass desk lamp").await;
    driver.fill("input[name=price]", "59.90").await;
    driver.fill("input[name=stock]", "25").await;
    driver.shot("edit-product").await;
    driver.click("#save-product").await;
    assert_eq!(driver.text("#notice").await, "Saved Brass desk lamp.");
    driver.shot("product-saved").await;
    let now = shop.product_now(&lamp).await;
    assert_eq!((now["price"].as_i64(), now["stock"].as_i64()), (Some(5990), Some(25)));
    driver.goto(&shop.url(&format!("/products/{lamp}"))).await;
    assert_eq!(driver.text("#product-name").await, "Brass desk lamp");
    assert_eq!(driver.text(".price.big").await, "€59.90");

    driver.goto(&shop.url("/admin/orders?status=paid")).await;
    assert!(driver.text("#admin-orders").await.contains("buyer@example.com"), "the customer column");
    driver.shot("admin-orders").await;
    let lamp_row = format!("#order-{} button.ship", paid[0].trim_start_matches("/orders/"));
    driver.click(&lamp_row).await;
    assert!(driver.text("#notice").await.contains("marked shipped"));
    assert_eq!(driver.text("#order-status").await, "Shipped");
    driver.shot("order-shipped").await;
    assert!(customer.page(&paid[0]).await.contains(">Shipped<"), "the customer sees it shipped");

    // The customer asks for a refund of the mug: staff find the order by e-mail and refund it.
    driver.goto(&shop.url("/admin/orders")).await;
    driver.fill("header .search input[name=q]", "buyer@example.com").await;
    driver.click("header .search button").await;
    assert!(driver.text("#search-note").await.contains("Orders of buyer@example.com"));
    driver.shot("orders-by-e-mail").await;
    let mug_id = mug_order.trim_start_matches("/orders/");
    driver.click(&format!("#order-{mug_id} a")).await;
    assert!(driver.text("#order-customer").await.contains("buyer@example.com"));
    driver.shot("order-detail").await;
    driver.click("#cancel-order").await;
    assert!(driver.text("#confirm-cancel").await.contains("Cancel and refund €17.40"));
    driver.shot("confirm-refund").await;
    driver.click("#confirm-cancel").await;
    assert!(driver.text("#notice").await.contains("cancelled and €17.40 refunded to the customer"));
    assert_eq!(driver.text("#order-status").await, "Cancelled");
    driver.shot("order-refunded").await;

    // The customer was told of the shipment and of the refund; staff see both e-mails.
    let mail = shop.mail.as_ref().expect("mail");
    let refund = mail.wait_for("refunded").await;
    assert_eq!(refund.header("to"), Some("buyer@example.com"));
    assert!(refund.body.contains("payment of €17.40 refunded"), "{}", refund.body);
    mail.wait_for("is on its way").await;
    driver.click("a[href='/admin/emails']").await;
    driver.wait_for_path("/admin/emails").await;
    let emails = driver.text("#emails").await;
    assert!(emails.contains("refunded") && emails.contains("is on its way"), "{emails}");
    driver.shot("admin-emails").await;
    driver.close().await;
    assert!(customer.page(&mug_order).await.contains("Your payment has been refunded"), "the customer sees the refund");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/checks/storefront.sh runs it"]
async fn script_in_a_product_name_is_text_and_a_cross_site_form_is_refused() {
    let shop = spawn_shop().await;
    let product = shop.product(json!({"sku": "XSS-1", "name": "<script>alert(1)</script>", "category": "test"})).await;
    let id = product["id"].as_str().expect("id");
    let driver = Driver::start("xss-csrf", 1280, 900).await;

    driver.goto(&shop.url(&format!("/products/{id}"))).await;
    assert_eq!(driver.text("#product-name").await, "<script>alert(1)</script>", "shown as text");
    assert!(driver.client.get_alert_text().await.is_err(), "no script ran");
    driver.shot("xss-as-text").await;

    // Another site (another port) posts a form to the shop in the shopper's browser.
    let attacker = shopkit::testing::spawn_server(poem::Route::new().at(
        "/",
        poem::get(poem::endpoint::make_sync({
            let target = shop.url("/cart/items");
            let id = id.to_owned();
            move |_| {
                poem::web::Html(format!(
                    "<form id=f method=post action='{target}'><input name=product_id value='{id}'><input name=quantity value=5></form>\
                     <script>document.getElementById('f').submit()</script>"
                ))
            }
        })),
    ))
    .await;
    driver.goto(&attacker.base_url.replace("127.0.0.1", "localhost")).await;
    let heading = driver.client.wait().for_element(Locator::Css("#error-heading")).await.expect("error page");
    assert_eq!(heading.text().await.expect("text"), "This form has expired");
    driver.shot("csrf-refused").await;
    driver.goto(&shop.url("/cart")).await;
    assert!(driver.text("main").await.contains("Your cart is empty"), "the forged form added nothing");
    driver.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/checks/storefront.sh runs it"]
async fn a_shopper_manages_the_account_cancels_with_a_refund_and_leaves() {
    let shop = spawn_shop().await;
    let (lamp, mug) = demo_products(&shop).await;
    let driver = Driver::start("account", 390, 844).await;

    driver.goto(&shop.url("/register")).await;
    driver.fill("input[name=name]", "Grace").await;
    driver.fill("input[name=email]", "grace.browser@example.com").await;
    driver.fill("input[name=password]", "correct horse battery").await;
    driver.click("#register").await;
    // The next `goto` must not race the form's POST and its redirect: on a busy machine the
    // redirect to `/` landed after the product page had been asked for, and replaced it.
    driver.wait_for_path("/").await;
    assert_eq!(driver.text(".who").await, "Grace", "signed in after registering");
    add_to_cart(&driver, &shop, &lamp, "1", "phone-lamp-added").await;
    add_to_cart(&driver, &shop, &mug, "1", "phone-mug-added").await;
    driver.goto(&shop.url("/cart")).await;
    assert_eq!(driver.overflowing_elements().await, Vec::<String>::new(), "the cart fits a phone");
    driver.shot("phone-cart").await;

    driver.check_out_to_paris("phone").await;
    assert_eq!(driver.overflowing_elements().await, Vec::<String>::new(), "the pay page fits a phone");
    driver.fill("#card-number", GOOD_CARD).await;
    driver.fill("#card-expiry", "12/30").await;
    driver.fill("#card-cvc", "123").await;
    driver.shot("phone-pay").await;
    driver.click("#pay").await;
    assert_eq!(driver.text("#order-status").await, "Paid");
    driver.click("#cancel-order").await;
    assert_eq!(driver.text("#refunded").await, "Your payment has been refunded.");
    assert_eq!(driver.text("#order-status").await, "Cancelled");
    driver.shot("phone-cancelled-refunded").await;
    assert_eq!(shop.product_now(&lamp).await["stock"], 3, "the stock went back");

    driver.goto(&shop.url("/account")).await;
    driver.fill("input[name=name]", "Grace Hopper").await;
    driver.click("form.stack button").await;
    assert_eq!(driver.text("#notice").await, "Your account was updated.");
    assert_eq!(driver.text(".who").await, "Grace Hopper", "the header shows the new name");
    driver.shot("phone-account").await;
    driver.click("button.danger").await;
    driver.wait_for_path("/account/delete").await;
    assert_eq!(driver.text("main h1").await, "Your account was deleted");
    driver.shot("phone-deleted").await;
    driver.goto(&shop.url("/orders")).await;
    driver.wait_for_path("/login").await;
    driver.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/checks/storefront.sh runs it"]
async fn a_shopper_stays_logged_in_past_the_access_token_and_is_told_when_the_log_in_ends() {
    // Access tokens of 3 s stand for the real 15 minutes: the shopper waits longer than that
    // between pages and is still logged in, cart and all.
    let shop = spawn_shop_with(std::time::Duration::from_secs(3)).await;
    let (lamp, _) = demo_products(&shop).await;
    let driver = Driver::start("session", 1280, 900).await;
    driver.goto(&shop.url("/register")).await;
    driver.fill("input[name=name]", "Ada").await;
    driver.fill("input[name=email]", "ada.session@example.com").await;
    driver.fill("input[name=password]", "correct horse battery").await;
    driver.click("#register").await;
    driver.wait_for_path("/").await;
    add_to_cart(&driver, &shop, &lamp, "1", "session-added").await;
    for pause in 1..=2 {
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        driver.goto(&shop.url("/cart")).await;
        assert_eq!(driver.text(".who").await, "Ada", "still logged in after pause {pause}");
        assert!(driver.text("main").await.contains("Desk lamp"), "the account's cart is there");
    }
    driver.shot("session-still-logged-in").await;

    // The log-in is revoked at users (a log-out on another device): the next page says so.
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now()").execute(&shop.users_db.pool).await.expect("revoke");
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    driver.goto(&shop.url("/")).await;
    assert_eq!(
        driver.text("#notice").await,
        "Your session has ended, so you are no longer logged in. Please log in again."
    );
    driver.find("a[href='/login']").await;
    driver.shot("session-ended-notice").await;
    driver.close().await;
}
