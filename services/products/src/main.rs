//! `products`: serve the API, or `products openapi` to print the OpenAPI spec.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", products::openapi().spec());
        return Ok(());
    }
    products::serve_from_env().await
}
