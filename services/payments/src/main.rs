//! `payments`: serve the API, or `payments openapi` to print the OpenAPI spec.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", shopkit::server::spec_json(&payments::openapi(), &payments::api::schema_rules()));
        return Ok(());
    }
    payments::serve_from_env().await
}
