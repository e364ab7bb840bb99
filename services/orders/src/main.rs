//! `orders`: serve the API, or `orders openapi` to print the OpenAPI spec.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", shopkit::server::spec_json(&orders::openapi(), &orders::api::schema_rules()));
        return Ok(());
    }
    orders::serve_from_env().await
}
