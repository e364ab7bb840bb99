//! Building, starting, watching and stopping the service processes.

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
    /// The storefront's client secret (it logs shoppers in with the shopper's address).
    pub storefront_secret: String,
    /// The notifications service's client secret (it reads customers' e-mail addresses).
    pub notifications_secret: String,
    /// The event bus and the SMTP server, when this run has them: orders publishes its events
    /// to `nats_url` only then, and notifications runs only then.
    pub events: Option<EventSettings>,
    /// The fault-flag file products, users and payments follow (`FAULTS_FILE`).
    pub faults_file: std::path::PathBuf,
}

/// Where order events and e-mails go.
pub struct EventSettings {
    pub nats_url: String,
    pub smtp_port: u16,
}

/// Builds the service binaries (debug profile).
pub fn build(root: &Path) -> anyhow::Result<()> {
    build_profile(root, false, &super::SERVICES)
}

/// Builds the binaries of `packages`, optimised when `release`.
pub fn build_profile(root: &Path, release: bool, packages: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("xtask: building {}{}", packages.join(", "), if release { " (release)" } else { "" });
    let mut args = vec!["build", "--quiet"];
    for package in packages {
        args.extend(["-p", package]);
    }
    if release {
        args.push("--release");
    }
    let status = std::process::Command::new(cargo).current_dir(root).args(args).status()?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(())
}

/// The command line of one service: its port, database, the shared token keys, and for
/// users and orders their extra settings; `peer_port` says where the other services listen.
/// The environment is inherited, so OTEL_*, RUST_LOG and LOG_FORMAT pass through.
pub fn service_command(
    binary: &Path,
    name: &str,
    port: u16,
    database_url: &str,
    s: &Settings,
    peer_port: &dyn Fn(&str) -> u16,
) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .env("JWT_PUBLIC_KEY", &s.keys.public_pem)
        .env("OTEL_SERVICE_NAME", std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| name.to_owned()))
        .stdin(Stdio::null());
    match name {
        "users" => {
            cmd.env("JWT_PRIVATE_KEY", &s.keys.private_pem)
                .env(
                    "SERVICE_CLIENTS",
                    format!(
                        "orders={},storefront={},notifications={}",
                        s.service_secret, s.storefront_secret, s.notifications_secret
                    ),
                )
                .env("BOOTSTRAP_ADMIN_EMAIL", &s.admin_email)
                .env("BOOTSTRAP_ADMIN_PASSWORD", &s.admin_password);
        }
        "orders" => {
            let url = |peer: &str| format!("http://127.0.0.1:{}", peer_port(peer));
            cmd.env("USERS_URL", url("users"))
                .env("PRODUCTS_URL", url("products"))
                .env("PAYMENTS_URL", url("payments"))
                .env("SERVICE_CLIENT_ID", "orders")
                .env("SERVICE_CLIENT_SECRET", &s.service_secret);
            if let Some(events) = &s.events {
                cmd.env("NATS_URL", &events.nats_url);
            }
        }
        "notifications" => {
            cmd.env("USERS_URL", format!("http://127.0.0.1:{}", peer_port("users")))
                .env("SERVICE_CLIENT_SECRET", &s.notifications_secret)
                .env("SHOP_URL", format!("http://127.0.0.1:{}", peer_port("storefront")));
            if let Some(events) = &s.events {
                cmd.env("NATS_URL", &events.nats_url)
                    .env("SMTP_HOST", "127.0.0.1")
                    .env("SMTP_PORT", events.smtp_port.to_string());
            }
        }
        "storefront" => {
            let url = |peer: &str| format!("http://127.0.0.1:{}", peer_port(peer));
            cmd.env("USERS_URL", url("users"))
                .env("PRODUCTS_URL", url("products"))
                .env("ORDERS_URL", url("orders"))
                .env("SERVICE_CLIENT_SECRET", &s.storefront_secret);
            if s.events.is_some() {
                cmd.env("NOTIFICATIONS_URL", format!("http://127.0.0.1:{}", peer_port("notifications")));
            }
        }
        _ => {}
    }
    cmd
}

/// The running service processes.
#[derive(Default)]
pub struct Running {
    children: Vec<(&'static str, u16, Child)>,
}

impl Running {
    /// Starts one service of `cargo xtask dev` (peers on the dev ports, readable logs). With
    /// `otlp_grpc` (the Jaeger xtask runs) its spans go there over gRPC, whatever protocol the
    /// environment names; without, the inherited `OTEL_*` variables decide.
    pub fn spawn(
        &mut self,
        binary: &Path,
        name: &'static str,
        ports: &super::ports::Ports,
        database_url: &str,
        s: &Settings,
        otlp_grpc: Option<&str>,
    ) -> anyhow::Result<()> {
        let port = ports.of(name);
        let peer_port = |peer: &str| ports.of(peer);
        let mut cmd = service_command(binary, name, port, database_url, s, &peer_port);
        cmd.env("FAULTS_FILE", &s.faults_file);
        if let Some(endpoint) = otlp_grpc {
            // Jaeger keeps traces only: metrics stay on /metrics (Prometheus scrapes them),
            // logs on the terminal.
            cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
                .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
                .env_remove("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                .env("OTEL_METRICS_EXPORTER", "none")
                .env("OTEL_LOGS_EXPORTER", "none");
        }
        // The dev run is an environment of its own on every signal (an inherited value wins).
        if std::env::var_os("OTEL_RESOURCE_ATTRIBUTES").is_none() {
            cmd.env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=development");
        }
        if std::env::var_os("LOG_FORMAT").is_none() {
            cmd.env("LOG_FORMAT", "pretty");
        }
        self.start(name, port, cmd)
    }

    /// Starts a prepared service command and keeps it for [`Running::stop_all`].
    pub fn start(&mut self, name: &'static str, port: u16, mut cmd: Command) -> anyhow::Result<()> {
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        println!("xtask: started {name} on 127.0.0.1:{port}");
        self.children.push((name, port, child));
        Ok(())
    }

    /// The process id of each running service (for memory readings from `/proc`).
    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        self.children.iter().filter_map(|(name, _, child)| child.id().map(|pid| (*name, pid))).collect()
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
