//! `storefront`: serves the web shop (configuration from the environment).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    storefront::serve_from_env().await
}
