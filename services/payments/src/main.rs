//! `payments`: serve the API, or `payments openapi` to print the OpenAPI spec.

use payments::{SERVICE_NAME, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", payments::openapi().spec());
        return Ok(());
    }
    let config = Config::from_env()?;
    let _telemetry = shopkit::telemetry::init(SERVICE_NAME, config.common.log_format);
    let listener = tokio::net::TcpListener::bind(config.common.listen_addr).await?;
    tracing::info!(addr = %config.common.listen_addr, "payments listening");
    payments::run(config, listener, shopkit::server::shutdown_signal()).await
}
