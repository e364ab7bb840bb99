//! `products`: serve the API, or `products openapi` to print the OpenAPI spec.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", shopkit::server::spec_json(&products::openapi(), &products::api::schema_rules()));
        return Ok(());
    }
    products::serve_from_env().await
}
