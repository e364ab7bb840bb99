//! `orders`: serve the API, or `orders openapi` to print the OpenAPI spec.

use orders::{SERVICE_NAME, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", orders::openapi().spec());
        return Ok(());
    }
    let config = Config::from_env()?;
    let _telemetry = shopkit::telemetry::init(SERVICE_NAME, config.common.log_format);
    let listener = tokio::net::TcpListener::bind(config.common.listen_addr).await?;
    tracing::info!(addr = %config.common.listen_addr, "orders listening");
    orders::run(config, listener, shopkit::server::shutdown_signal()).await
}
