//! `servicehost <products|users|orders|payments|notifications|storefront>`: runs one service exactly as its own binary
//! does (config from the environment, telemetry, graceful shutdown). The end-to-end tests
//! start each service as a separate process through it, because OpenTelemetry's tracer
//! provider is per process: four services in one process would share one `service.name`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("products") => products::serve_from_env().await,
        Some("users") => users::serve_from_env().await,
        Some("orders") => orders::serve_from_env().await,
        Some("payments") => payments::serve_from_env().await,
        Some("storefront") => storefront::serve_from_env().await,
        Some("notifications") => notifications::serve_from_env().await,
        _ => {
            eprintln!("usage: servicehost <products|users|orders|payments|notifications|storefront>");
            std::process::exit(2);
        }
    }
}
