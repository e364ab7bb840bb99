//! Escaping, CSRF, cookies, session fixation, open redirects, and the token staying server-side.

use serde_json::json;

use crate::helpers::{Browser, PASSWORD, spawn_shop};

const SCRIPT: &str = "<script>alert(1)</script>";

#[tokio::test]
async fn markup_in_product_data_and_queries_renders_as_text() {
    let shop = spawn_shop().await;
    let product = shop
        .product(
            json!({"sku": "XSS-1", "name": SCRIPT, "description": "<img src=x onerror=alert(2)>", "category": "test"}),
        )
        .await;
    let id = product["id"].as_str().expect("id");
    let browser = Browser::new(&shop);
    browser.submit("/cart/items", &[("product_id", id), ("quantity", "1")]).await;
    let pages = [
        "/".to_owned(),
        format!("/products/{id}"),
        "/cart".to_owned(),
        format!("/?q={}", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        "/login?next=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
    ];
    for path in pages {
        let html = browser.page(&path).await;
        assert!(!html.contains(SCRIPT) && !html.contains("<img src=x"), "{path} contains raw markup");
    }
    let html = browser.page(&format!("/products/{id}")).await;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || html.contains("&lt;script&gt;"),
        "escaped: {html}"
    );
}

#[tokio::test]
async fn every_form_needs_the_session_csrf_token() {
    let shop = spawn_shop().await;
    let product = shop.product(json!({"sku": "CSRF-1", "name": "Lamp"})).await;
    let id = product["id"].as_str().expect("id");
    let victim = Browser::new(&shop);
    victim.page("/").await;
    let attacker = Browser::new(&shop);
    let attacker_token = attacker.csrf().await;

    let cases = [
        ("no token", vec![("product_id", id), ("quantity", "1")]),
        ("another session's token", vec![("product_id", id), ("quantity", "1"), ("csrf", attacker_token.as_str())]),
        ("empty token", vec![("product_id", id), ("quantity", "1"), ("csrf", "")]),
    ];
    for (why, form) in cases {
        let resp = victim.http.post(format!("{}/cart/items", shop.storefront)).form(&form).send().await.expect("post");
        assert_eq!(resp.status(), 403, "{why}");
        assert!(resp.text().await.expect("html").contains("This form has expired"), "{why}");
    }
    assert!(victim.page("/cart").await.contains("Your cart is empty"), "nothing was added");
    for path in ["/logout", "/checkout", "/register", "/login", "/account/delete", "/admin/orders/x/status"] {
        let resp =
            victim.http.post(format!("{}{path}", shop.storefront)).form(&[("a", "b")]).send().await.expect("post");
        assert_eq!(resp.status(), 403, "{path} without a token");
    }
    let with_token = victim.post("/cart/items", &[("product_id", id), ("quantity", "1")]).await;
    assert_eq!(with_token.status(), 303, "the same form with the token works");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_rotated_at_log_in_and_the_token_stays_server_side() {
    let shop = spawn_shop().await;
    shop.customer("sam@example.com").await;
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let first = plain.get(shop.url("/")).send().await.expect("get");
    let cookie = first.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} has {attribute}");
    }
    assert!(!cookie.contains("Secure"), "not Secure unless STOREFRONT_SECURE_COOKIES=true");
    assert!(first.headers()["content-security-policy"].to_str().expect("csp").contains("script-src 'self'"));
    assert!(storefront::web::session::cookie("v", true).to_string().contains("Secure"), "Secure when configured");

    let guest_value = cookie.split(';').next().expect("pair").to_owned();
    let csrf_page = plain.get(shop.url("/login")).header("cookie", &guest_value).send().await.expect("get");
    let html = csrf_page.text().await.expect("html");
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("csrf") + marker.len();
    let csrf = &html[start..start + 43];
    let login = plain
        .post(shop.url("/login"))
        .header("cookie", &guest_value)
        .form(&[("email", "sam@example.com"), ("password", PASSWORD), ("next", "//evil.example/x"), ("csrf", csrf)])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303);
    assert_eq!(login.headers()["location"], "/", "an off-site `next` is not followed");
    assert_eq!(login.headers().get_all("set-cookie").iter().count(), 1, "one cookie, the new session's");
    let new_value = login.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    assert_ne!(new_value, guest_value, "log-in issues a new session id");
    let old = plain.get(shop.url("/account")).header("cookie", &guest_value).send().await.expect("get");
    assert_eq!(old.status(), 303, "the pre-login session id is dead");

    let token: String = sqlx::query_scalar("SELECT access_token FROM sessions WHERE access_token IS NOT NULL")
        .fetch_one(&shop.storefront_db.pool)
        .await
        .expect("token");
    for path in ["/", "/account", "/cart", "/orders"] {
        let resp = plain.get(shop.url(path)).header("cookie", &new_value).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        let headers = format!("{:?}", resp.headers());
        let body = resp.text().await.expect("html");
        assert!(!body.contains(&token) && !headers.contains(&token), "{path} leaks the access token");
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))")
            .bind(new_value.trim_start_matches("sf_session="))
            .fetch_one(&shop.storefront_db.pool)
            .await
            .expect("count");
    assert_eq!(stored, 1, "sessions are stored by the hash of the cookie value");

    let account = plain.get(shop.url("/account")).header("cookie", &new_value).send().await.expect("account");
    let html = account.text().await.expect("html");
    let start = html.find(marker).expect("csrf") + marker.len();
    let logout = plain
        .post(shop.url("/logout"))
        .header("cookie", &new_value)
        .form(&[("csrf", &html[start..start + 43])])
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 303);
    let gone = logout.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    for part in ["sf_session=;", "Max-Age=0", "Path=/", "HttpOnly"] {
        assert!(gone.contains(part), "log-out expires the cookie site-wide: {gone} lacks {part}");
    }
}
