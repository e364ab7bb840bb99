//! The services as separate `servicehost` processes on free ports, each with its own
//! database and its own OpenTelemetry exporter.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use shopkit::{
    localdb::free_port,
    testing::{TestKeys, fresh_database},
};
use tokio::process::{Child, Command};

pub use shopkit::testing::{ADMIN_EMAIL, ADMIN_PASSWORD};
const ORDERS_SECRET: &str = "orders-client-secret-for-e2e";
const STOREFRONT_SECRET: &str = "storefront-client-secret-for-e2e";
const NOTIFICATIONS_SECRET: &str = "notifications-client-secret-for-e2e";

/// A running service process.
pub struct Service {
    pub name: &'static str,
    pub url: String,
    child: Child,
}

/// The running shop.
pub struct Shop {
    pub services: Vec<Service>,
}

/// The event bus and the SMTP server of a shop that sends e-mails.
pub struct Events<'a> {
    pub nats_url: &'a str,
    pub smtp_port: u16,
}

/// Where spans go: `None` runs the services with no OTLP endpoint.
pub struct Export<'a> {
    pub endpoint: &'a str,
    pub protocol: &'a str,
}

impl Shop {
    /// The four API services.
    pub async fn start(export: Option<Export<'_>>) -> Shop {
        Self::start_services(export, false, None).await
    }

    /// The four API services and the storefront.
    pub async fn start_with_storefront(export: Option<Export<'_>>) -> Shop {
        Self::start_services(export, true, None).await
    }

    /// The four API services, orders publishing its events to `events`, and notifications
    /// e-mailing through it.
    pub async fn start_with_events(export: Option<Export<'_>>, events: Events<'_>) -> Shop {
        Self::start_services(export, false, Some(events)).await
    }

    async fn start_services(export: Option<Export<'_>>, with_storefront: bool, events: Option<Events<'_>>) -> Shop {
        // One shop starts at a time: a port `free_port` handed out is only claimed once the
        // service binds it, and two shops starting together could pick the same one (a test then
        // talks to the other test's services). Once a shop is ready its ports are bound.
        static STARTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _starting = STARTING.lock().await;
        let mut names = vec!["users", "products", "payments", "orders"];
        if with_storefront {
            names.push("storefront");
        }
        if events.is_some() {
            names.push("notifications");
        }
        let ports: Vec<u16> = names.iter().map(|_| free_port().expect("port")).collect();
        let url = |name: &str| {
            let i = names.iter().position(|n| *n == name).expect("known service");
            format!("http://127.0.0.1:{}", ports[i])
        };
        let keys = TestKeys::get();
        let mut services = Vec::new();
        for (name, port) in names.iter().zip(&ports) {
            let migrator = match *name {
                "users" => &users::MIGRATOR,
                "products" => &products::MIGRATOR,
                "payments" => &payments::MIGRATOR,
                "storefront" => &storefront::MIGRATOR,
                "notifications" => &notifications::MIGRATOR,
                _ => &orders::MIGRATOR,
            };
            let db = fresh_database(name, migrator).await;
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_servicehost"));
            cmd.arg(name)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", &db.url)
                .env("JWT_PUBLIC_KEY", &keys.public_pem)
                .env("LOG_FORMAT", "json")
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true);
            if let Some(export) = &export {
                cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", export.endpoint)
                    .env("OTEL_EXPORTER_OTLP_PROTOCOL", export.protocol)
                    .env("OTEL_BSP_SCHEDULE_DELAY", "200")
                    .env("OTEL_BLRP_SCHEDULE_DELAY", "200")
                    .env("OTEL_METRIC_EXPORT_INTERVAL", "500");
            }
            match *name {
                "users" => {
                    cmd.env("JWT_PRIVATE_KEY", &keys.private_pem)
                        .env("SERVICE_CLIENTS", format!(
                            "orders={ORDERS_SECRET},storefront={STOREFRONT_SECRET},notifications={NOTIFICATIONS_SECRET}"
                        ))
                        .env("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
                        .env("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
                }
                "orders" => {
                    cmd.env("USERS_URL", url("users"))
                        .env("PRODUCTS_URL", url("products"))
                        .env("PAYMENTS_URL", url("payments"))
                        .env("SERVICE_CLIENT_SECRET", ORDERS_SECRET);
                    if let Some(events) = &events {
                        cmd.env("NATS_URL", events.nats_url);
                    }
                }
                "notifications" => {
                    let events = events.as_ref().expect("notifications runs with events");
                    cmd.env("USERS_URL", url("users"))
                        .env("NATS_URL", events.nats_url)
                        .env("SMTP_HOST", "127.0.0.1")
                        .env("SMTP_PORT", events.smtp_port.to_string())
                        .env("SERVICE_CLIENT_SECRET", NOTIFICATIONS_SECRET);
                }
                "storefront" => {
                    cmd.env("USERS_URL", url("users"))
                        .env("PRODUCTS_URL", url("products"))
                        .env("ORDERS_URL", url("orders"))
                        .env("SERVICE_CLIENT_SECRET", STOREFRONT_SECRET);
                }
                _ => {}
            }
            let child = cmd.spawn().expect("spawn servicehost");
            services.push(Service { name, url: url(name), child });
        }
        let shop = Shop { services };
        shop.wait_ready().await;
        shop
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for service in &self.services {
            loop {
                let ready = client
                    .get(format!("{}/health/ready", service.url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                assert!(Instant::now() < deadline, "{} not ready within 60 s", service.name);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    pub fn url(&self, name: &str) -> &str {
        &self.services.iter().find(|s| s.name == name).expect("service").url
    }

    /// Stops every process with SIGTERM (they flush their spans) and returns their stdout.
    pub async fn stop(self) -> Vec<(&'static str, String)> {
        let mut outputs = Vec::new();
        for mut service in self.services {
            if let Some(pid) = service.child.id() {
                let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            }
            let mut stdout = String::new();
            if let Some(mut pipe) = service.child.stdout.take() {
                use tokio::io::AsyncReadExt;
                let _ = tokio::time::timeout(Duration::from_secs(20), pipe.read_to_string(&mut stdout)).await;
            }
            let status = tokio::time::timeout(Duration::from_secs(20), service.child.wait()).await;
            assert!(matches!(status, Ok(Ok(s)) if s.success()), "{} did not exit cleanly: {status:?}", service.name);
            outputs.push((service.name, stdout));
        }
        outputs
    }
}
