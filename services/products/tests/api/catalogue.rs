//! Adding, reading, updating and deleting products, and who may do it.

use serde_json::json;
use shopkit::auth::Role;

use crate::helpers::{error_fields, problem, product_body, spawn_app, token, with};

#[tokio::test]
async fn admin_adds_a_product_and_anyone_reads_it() {
    let app = spawn_app().await;
    let resp = app.create_product(Some(&token(Role::Admin)), &product_body("lamp-1")).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().expect("location").to_owned();
    let created: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(created["sku"], "LAMP-1", "sku is normalised to upper case");
    assert_eq!(created["price"], 4999);
    assert_eq!(location, format!("/products/{}", created["id"].as_str().expect("id")));

    let fetched: serde_json::Value =
        app.get_product(created["id"].as_str().expect("id")).await.json().await.expect("json");
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn only_admins_write_the_catalogue() {
    let app = spawn_app().await;
    let body = product_body("LAMP-2");
    problem(app.create_product(None, &body).await, 401).await;
    problem(app.create_product(Some(&token(Role::Customer)), &body).await, 403).await;
    problem(app.create_product(Some(&token(Role::Service)), &body).await, 403).await;
    let product = app.seed(body).await;
    let id = product["id"].as_str().expect("id");
    problem(app.patch_product(&token(Role::Customer), id, &json!({"price": 1})).await, 403).await;
    problem(app.delete_product(&token(Role::Customer), id).await, 403).await;
    assert_eq!(app.get_product(id).await.status(), 200, "the product is untouched");
}

#[tokio::test]
async fn invalid_products_are_rejected_with_every_bad_field() {
    let app = spawn_app().await;
    let admin = token(Role::Admin);
    let cases = [
        (with(product_body("A1"), "price", json!(-1)), vec!["price"], "negative price"),
        (with(product_body("A1"), "currency", json!("EURO")), vec!["currency"], "bad currency"),
        (
            with(with(product_body("A1"), "stock", json!(-3)), "name", json!(" ")),
            vec!["name", "stock"],
            "two bad fields",
        ),
        (with(product_body("a b"), "category", json!("Home Office")), vec!["sku", "category"], "bad sku and category"),
    ];
    for (body, fields, message) in cases {
        let body = problem(app.create_product(Some(&admin), &body).await, 422).await;
        assert_eq!(error_fields(&body), fields, "{message}");
    }
    let resp = app
        .client
        .post(app.url("/products"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    problem(resp, 400).await;
    let resp = app.create_product(Some(&admin), &json!({"sku": "X1"})).await;
    problem(resp, 400).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM products").fetch_one(&app.db.pool).await.expect("count");
    assert_eq!(count, 0, "nothing was written");
}

#[tokio::test]
async fn duplicate_sku_is_a_conflict() {
    let app = spawn_app().await;
    app.seed(product_body("DUP-1")).await;
    let body = problem(app.create_product(Some(&token(Role::Admin)), &product_body("dup-1")).await, 409).await;
    assert!(body["detail"].as_str().expect("detail").contains("DUP-1"), "{body}");
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let app = spawn_app().await;
    let product = app.seed(product_body("PATCH-1")).await;
    let id = product["id"].as_str().expect("id");
    let resp = app.patch_product(&token(Role::Admin), id, &json!({"price": 3999, "stock": 0})).await;
    assert_eq!(resp.status(), 200);
    let updated: serde_json::Value = resp.json().await.expect("json");
    assert_eq!((updated["price"].clone(), updated["stock"].clone()), (json!(3999), json!(0)));
    assert_eq!(updated["name"], product["name"], "untouched field kept");
    assert_eq!(updated["sku"], product["sku"]);

    let body =
        problem(app.patch_product(&token(Role::Admin), id, &json!({"price": -1, "currency": "x"})).await, 422).await;
    assert_eq!(error_fields(&body), ["price", "currency"]);
    problem(app.patch_product(&token(Role::Admin), &uuid::Uuid::new_v4().to_string(), &json!({"price": 1})).await, 404)
        .await;

    let other = app.seed(product_body("PATCH-2")).await;
    let resp =
        app.patch_product(&token(Role::Admin), other["id"].as_str().expect("id"), &json!({"sku": "patch-1"})).await;
    problem(resp, 409).await;
}

#[tokio::test]
async fn deleted_product_is_gone_from_reads_and_search_but_its_row_remains() {
    let app = spawn_app().await;
    let product = app.seed(product_body("DEL-1")).await;
    let id = product["id"].as_str().expect("id");
    assert_eq!(app.delete_product(&token(Role::Admin), id).await.status(), 204);
    problem(app.get_product(id).await, 404).await;
    problem(app.delete_product(&token(Role::Admin), id).await, 404).await;
    let page = app.search_ok(&[("q", "lamp")]).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 0);
    let name: String = sqlx::query_scalar("SELECT name FROM products WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .expect("row kept");
    assert_eq!(name, "Desk lamp", "snapshots elsewhere still refer to a real row");
    app.seed(product_body("DEL-1")).await;
}

#[tokio::test]
async fn malformed_ids_are_client_errors() {
    let app = spawn_app().await;
    problem(app.get_product("not-a-uuid").await, 400).await;
    problem(app.get_product(&uuid::Uuid::new_v4().to_string()).await, 404).await;
}

#[tokio::test]
async fn a_product_image_is_set_changed_removed_and_validated() {
    let app = spawn_app().await;
    let admin = token(Role::Admin);
    let product = app.seed(with(product_body("IMG-1"), "image_url", json!("/images/catalogue/lamp.svg"))).await;
    assert_eq!(product["image_url"], "/images/catalogue/lamp.svg");
    let id = product["id"].as_str().expect("id");

    let changed: serde_json::Value = app
        .patch_product(&admin, id, &json!({"image_url": "https://cdn.example.com/lamp.png"}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(changed["image_url"], "https://cdn.example.com/lamp.png");
    let untouched: serde_json::Value =
        app.patch_product(&admin, id, &json!({"price": 10})).await.json().await.expect("json");
    assert_eq!(untouched["image_url"], "https://cdn.example.com/lamp.png", "absent field keeps the image");
    let removed: serde_json::Value =
        app.patch_product(&admin, id, &json!({"image_url": ""})).await.json().await.expect("json");
    assert!(removed["image_url"].is_null(), "an empty string removes the image: {removed}");

    let no_host = ["http://[", "https://user@cdn.example.com/x.png", "https://:443/x.png", "HTTPS://cdn.example.com/x"];
    for bad in ["javascript:alert(1)", "//evil.example/x.png", "/a\" onerror=\"alert(1)"].into_iter().chain(no_host) {
        let body = problem(app.patch_product(&admin, id, &json!({"image_url": bad})).await, 422).await;
        assert_eq!(error_fields(&body), ["image_url"], "{bad}");
        let body =
            problem(app.create_product(Some(&admin), &with(product_body("IMG-2"), "image_url", json!(bad))).await, 422)
                .await;
        assert_eq!(error_fields(&body), ["image_url"], "{bad}");
    }

    // The database holds the same rule: a value that got past the code still cannot be stored.
    let stored = sqlx::query("UPDATE products SET image_url = 'http://[' WHERE id = $1")
        .bind(uuid::Uuid::parse_str(id).expect("uuid"))
        .execute(&app.db.pool)
        .await;
    assert!(stored.is_err_and(|e| e.to_string().contains("products_image_url_check")), "CHECK constraint");
}
