//! Building, starting, watching and stopping the four service processes.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use shopkit::auth::KeyPairPem;
use tokio::process::{Child, Command};

/// What the services share for one run.
pub struct Settings {
    /// The token key pair (fresh each run).
    pub keys: KeyPairPem,
    /// Bootstrap admin.
    pub admin_email: String,
    /// Bootstrap admin password.
    pub admin_password: String,
    /// The orders service's client secret.
    pub service_secret: String,
    /// The fault-flag file products, users and payments follow (`FAULTS_FILE`).
    pub faults_file: std::path::PathBuf,
}

/// Builds the service binaries (debug profile).
pub fn build(root: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("xtask: building products, users, orders, payments, storefront");
    let status = std::process::Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "-p",
            "products",
            "-p",
            "users",
            "-p",
            "orders",
            "-p",
            "payments",
            "-p",
            "storefront",
        ])
        .status()?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(())
}

/// The running service processes.
#[derive(Default)]
pub struct Running {
    children: Vec<(&'static str, u16, Child)>,
}

impl Running {
    /// Starts one service.
    pub fn spawn(
        &mut self,
        binary: &Path,
        name: &'static str,
        ports: &super::ports::Ports,
        database_url: &str,
        s: &Settings,
    ) -> anyhow::Result<()> {
        let port = ports.of(name);
        let mut cmd = Command::new(binary);
        // The environment is inherited, so OTEL_*, RUST_LOG and LOG_FORMAT pass through.
        cmd.env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("JWT_PUBLIC_KEY", &s.keys.public_pem)
            .env("OTEL_SERVICE_NAME", std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| name.to_owned()))
            .env("FAULTS_FILE", &s.faults_file)
            .stdin(Stdio::null());
        if std::env::var_os("LOG_FORMAT").is_none() {
            cmd.env("LOG_FORMAT", "pretty");
        }
        match name {
            "users" => {
                cmd.env("JWT_PRIVATE_KEY", &s.keys.private_pem)
                    .env("SERVICE_CLIENTS", format!("orders={}", s.service_secret))
                    .env("BOOTSTRAP_ADMIN_EMAIL", &s.admin_email)
                    .env("BOOTSTRAP_ADMIN_PASSWORD", &s.admin_password);
            }
            "orders" => {
                cmd.env("USERS_URL", ports.url("users"))
                    .env("PRODUCTS_URL", ports.url("products"))
                    .env("PAYMENTS_URL", ports.url("payments"))
                    .env("SERVICE_CLIENT_ID", "orders")
                    .env("SERVICE_CLIENT_SECRET", &s.service_secret);
            }
            "storefront" => {
                cmd.env("USERS_URL", ports.url("users"))
                    .env("PRODUCTS_URL", ports.url("products"))
                    .env("ORDERS_URL", ports.url("orders"));
            }
            _ => {}
        }
        let child = cmd.spawn().with_context(|| format!("starting {}", binary.display()))?;
        println!("xtask: started {name} on 127.0.0.1:{port}");
        self.children.push((name, port, child));
        Ok(())
    }

    /// Polls every `/health/ready` until all answer 200 (60 s at most).
    pub async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for (name, port, child) in &mut self.children {
            loop {
                if let Some(status) = child.try_wait()? {
                    bail!("{name} exited during start-up ({status}); see its log above");
                }
                let ready = client
                    .get(format!("http://127.0.0.1:{port}/health/ready"))
                    .timeout(Duration::from_secs(1))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("{name} did not become ready within 60 s");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// Waits for Ctrl-C, SIGTERM, or a service exiting on its own (an error).
    pub async fn wait_for_shutdown(&mut self) -> anyhow::Result<()> {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let exited = async {
            loop {
                for (name, _, child) in &mut self.children {
                    if let Ok(Some(status)) = child.try_wait() {
                        return (*name, status);
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => { println!("\nxtask: Ctrl-C, stopping"); Ok(()) }
            _ = terminate.recv() => { println!("xtask: SIGTERM, stopping"); Ok(()) }
            (name, status) = exited => bail!("{name} exited unexpectedly ({status})"),
        }
    }

    /// Sends SIGTERM to every service (they drain and exit), waits up to 15 s, then kills
    /// whatever is left.
    pub async fn stop_all(&mut self) {
        for (_, _, child) in &self.children {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            }
        }
        for (name, _, child) in &mut self.children {
            match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
                Ok(_) => println!("xtask: {name} stopped"),
                Err(_) => {
                    let _ = child.kill().await;
                    println!("xtask: {name} killed after 15 s");
                }
            }
        }
    }
}
