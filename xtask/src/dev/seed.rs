//! The demo catalogue (`deploy/seed/products.json`, shared with docker compose), added
//! through the real API as the bootstrap admin. Products whose SKU exists are skipped, so
//! running it again changes nothing.

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Seeds and returns how many products were new.
pub async fn seed_catalogue(
    ports: &super::ports::Ports,
    admin_email: &str,
    admin_password: &str,
) -> anyhow::Result<usize> {
    let path = super::workspace_root().join("deploy/seed/products.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let products: Vec<Value> = serde_json::from_str(&text).context("parsing the catalogue")?;
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/auth/login", ports.url("users")))
        .json(&json!({"email": admin_email, "password": admin_password}))
        .send()
        .await?;
    if !login.status().is_success() {
        bail!(
            "admin login failed ({}): is BOOTSTRAP_ADMIN_PASSWORD the one this database was first seeded with?",
            login.status()
        );
    }
    let token = login.json::<Value>().await?["access_token"].as_str().unwrap_or_default().to_owned();
    let mut created = 0;
    for product in products {
        let resp = client
            .post(format!("{}/products", ports.url("products")))
            .bearer_auth(&token)
            .json(&product)
            .send()
            .await?;
        match resp.status().as_u16() {
            201 => created += 1,
            409 => {}
            status => bail!("adding {} failed ({status}): {}", product["sku"], resp.text().await.unwrap_or_default()),
        }
    }
    Ok(created)
}
