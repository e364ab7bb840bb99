//! `notifications`: consume order events and send e-mails, or `notifications openapi` to print
//! the OpenAPI spec.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", shopkit::server::spec_json(&notifications::openapi(), &[]));
        return Ok(());
    }
    notifications::serve_from_env().await
}
