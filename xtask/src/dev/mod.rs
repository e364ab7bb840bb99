//! `cargo xtask dev`.

pub(crate) mod database;
mod seed;
pub(crate) mod services;

use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;

/// The services, their ports, and the order they start in (users first: the others need its
/// key; orders after the services it calls; the storefront last: its pages call the others).
pub const SERVICES: [(&str, u16); 5] =
    [("users", 8082), ("products", 8081), ("payments", 8084), ("orders", 8083), ("storefront", 8080)];

/// Printed once everything is up; scripts wait for this line.
pub const READY_LINE: &str = "microshop is ready";

/// The bootstrap admin of `cargo xtask dev` (also what `cargo xtask load` restocks as).
pub fn admin_credentials() -> (String, String) {
    let email = std::env::var("BOOTSTRAP_ADMIN_EMAIL").unwrap_or_else(|_| "admin@microshop.local".into());
    let password = std::env::var("BOOTSTRAP_ADMIN_PASSWORD").unwrap_or_else(|_| "microshop-dev-admin".into());
    (email, password)
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

pub(crate) fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("system random generator failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Runs the shop until SIGINT or SIGTERM.
pub async fn run() -> anyhow::Result<()> {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    services::build(&root).context("building the services")?;

    let database = database::DevDatabase::start(&target.join("xtask-dev")).await.context("starting PostgreSQL")?;
    let result = run_with_database(&target, &database).await;
    database.stop();
    result
}

async fn run_with_database(target: &std::path::Path, database: &database::DevDatabase) -> anyhow::Result<()> {
    let keys = shopkit::auth::generate_key_pair().map_err(|e| anyhow::anyhow!("key generation: {e}"))?;
    let (admin_email, admin_password) = admin_credentials();
    let faults_file = fresh_fault_flags(target)?;
    let settings = services::Settings {
        keys,
        admin_email: admin_email.clone(),
        admin_password: admin_password.clone(),
        service_secret: random_secret()?,
        faults_file: faults_file.clone(),
    };
    let mut running = services::Running::default();
    let outcome = async {
        for (name, port) in SERVICES {
            let url = database.url_for(name);
            running.spawn(&target.join("debug").join(name), name, port, &url, &settings)?;
        }
        running.wait_until_ready().await?;
        let seeded = seed::seed_catalogue(&admin_email, &admin_password).await.context("seeding the demo catalogue")?;
        print_banner(seeded, &admin_email, &admin_password, &faults_file);
        running.wait_for_shutdown().await
    }
    .await;
    running.stop_all().await;
    outcome
}

/// Copies the fault-flag template (every flag disabled) to `target/xtask-dev/faults.json`, so
/// each run starts healthy and the developer flips flags by editing that file.
fn fresh_fault_flags(target: &std::path::Path) -> anyhow::Result<PathBuf> {
    let template = workspace_root().join("deploy/faults/flags.json");
    let file = target.join("xtask-dev").join("faults.json");
    std::fs::create_dir_all(target.join("xtask-dev"))?;
    std::fs::copy(&template, &file).with_context(|| format!("copying {}", template.display()))?;
    Ok(file)
}

fn print_banner(seeded: usize, email: &str, password: &str, faults_file: &std::path::Path) {
    println!();
    println!("  shop      http://127.0.0.1:8080");
    println!("  products  http://127.0.0.1:8081/docs");
    println!("  users     http://127.0.0.1:8082/docs");
    println!("  orders    http://127.0.0.1:8083/docs");
    println!("  payments  http://127.0.0.1:8084/docs");
    println!("  admin     {email} / {password}");
    println!("  catalogue {seeded} new demo products (already present ones are kept)");
    println!("  faults    {} (set a flag's state to ENABLED; applies within a second)", faults_file.display());
    println!("  traffic   cargo xtask load --users-per-sec 2 --duration 60");
    println!();
    println!("{READY_LINE}; press Ctrl-C to stop everything");
}
