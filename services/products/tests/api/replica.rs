//! `DATABASE_READ_HOST`: catalogue reads (get, search) go to the replica's host, writes and
//! reservations to the primary. A read host that does not resolve shows where each goes.

use serde_json::json;
use shopkit::auth::Role;

use crate::helpers::{problem, product_body, spawn_app_with_read_host, token};

#[tokio::test]
async fn catalogue_reads_go_to_the_read_host_and_everything_else_to_the_primary() {
    let app = spawn_app_with_read_host("replica.invalid").await;
    let created = app.create_product(Some(&token(Role::Admin)), &product_body("RO-1")).await;
    assert_eq!(created.status(), 201, "writes use the primary");
    let id = created.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_string();

    problem(app.get_product(&id).await, 503).await;
    problem(app.search(&[("q", "lamp")]).await, 503).await;

    let order = uuid::Uuid::new_v4();
    let reserved = app.reserve(&token(Role::Service), order, json!([{"product_id": id, "quantity": 2}])).await;
    assert_eq!(reserved.status(), 200, "reservations never read from a replica");
    assert_eq!(app.stock_of(&id).await, 8);
}

#[tokio::test]
async fn a_reachable_read_host_serves_the_catalogue() {
    // `localhost` reaches the same server as the primary's 127.0.0.1: a replica with no lag.
    let app = spawn_app_with_read_host("localhost").await;
    let created = app.seed(product_body("RO-2")).await;
    let id = created["id"].as_str().expect("id");
    assert_eq!(app.get_product(id).await.status(), 200);
    let page = app.search_ok(&[("q", "lamp")]).await;
    assert_eq!(page["items"][0]["id"], created["id"]);
}
