//! `cargo xtask dev`.

pub(crate) mod database;
mod events;
mod jaeger;
pub mod ports;
mod seed;
pub(crate) mod services;

use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;

/// The services in the order they start (users first: the others need its key; orders after
/// the services it calls; notifications after orders, whose events it reads; the storefront
/// last: its pages call the others). Their ports come from [`ports::Ports`].
pub const SERVICES: [&str; 6] = ["users", "products", "payments", "orders", "notifications", "storefront"];

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
pub async fn run(ports: ports::Ports) -> anyhow::Result<()> {
    let tracing = jaeger::Tracing::from_env()?;
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    services::build(&root).context("building the services")?;

    let database = database::DevDatabase::start(&target.join("xtask-dev"), ports.of("postgres"))
        .await
        .context("starting PostgreSQL")?;
    let result = run_with_database(&target, &database, &ports, &tracing).await;
    database.stop();
    result
}

/// Starts Jaeger when there is one to run, then the services; stops Jaeger after them, so the
/// spans they flush on the way out still land.
async fn run_with_database(
    target: &std::path::Path,
    database: &database::DevDatabase,
    ports: &ports::Ports,
    tracing: &jaeger::Tracing,
) -> anyhow::Result<()> {
    let jaeger = match tracing {
        jaeger::Tracing::Jaeger(binary) => {
            let config = workspace_root().join("deploy/jaeger/config.yaml");
            let log = target.join("xtask-dev").join(format!("jaeger-{}.log", ports.of("jaeger")));
            Some(jaeger::Jaeger::start(binary, ports, &config, log).await.context("starting Jaeger")?)
        }
        _ => None,
    };
    let traces = match (&jaeger, tracing) {
        (Some(jaeger), _) => format!("Jaeger UI {} (its log: {})", jaeger.ui_url, jaeger.log.display()),
        (None, jaeger::Tracing::Own(endpoint)) => format!("sent to your collector at {endpoint}"),
        (None, jaeger::Tracing::Disabled) => "off (OTEL_SDK_DISABLED=true)".to_owned(),
        (None, _) => "not exported: no jaeger binary (build one with scripts/go-tools.sh jaeger, \
                      then JAEGER_BIN=<that dir>/jaeger cargo xtask dev)"
            .to_owned(),
    };
    let otlp = jaeger.as_ref().map(|j| j.otlp_endpoint.clone());
    let result = run_services(target, database, ports, otlp.as_deref(), &traces).await;
    if let Some(jaeger) = jaeger {
        jaeger.stop().await;
    }
    result
}

async fn run_services(
    target: &std::path::Path,
    database: &database::DevDatabase,
    ports: &ports::Ports,
    otlp_grpc: Option<&str>,
    traces: &str,
) -> anyhow::Result<()> {
    let keys = shopkit::auth::generate_key_pair().map_err(|e| anyhow::anyhow!("key generation: {e}"))?;
    let (admin_email, admin_password) = admin_credentials();
    let faults_file = fresh_fault_flags(target, ports)?;
    let (events, mail) = match events::missing() {
        None => {
            let events =
                events::Events::start(&target.join("xtask-dev"), ports).await.context("starting the event bus")?;
            let mail = format!("{}/new (one file per e-mail)", events.maildir.display());
            (Some(events), mail)
        }
        Some(what_to_install) => (None, what_to_install),
    };
    let settings = services::Settings {
        keys,
        admin_email: admin_email.clone(),
        admin_password: admin_password.clone(),
        service_secret: random_secret()?,
        storefront_secret: random_secret()?,
        notifications_secret: random_secret()?,
        events: events
            .as_ref()
            .map(|e| services::EventSettings { nats_url: e.nats_url.clone(), smtp_port: e.smtp_port }),
        faults_file: faults_file.clone(),
    };
    let mut running = services::Running::default();
    let outcome = async {
        for name in SERVICES {
            if name == "notifications" && settings.events.is_none() {
                continue;
            }
            let url = database.url_for(name);
            running.spawn(&target.join("debug").join(name), name, ports, &url, &settings, otlp_grpc)?;
        }
        running.wait_until_ready().await?;
        let seeded =
            seed::seed_catalogue(ports, &admin_email, &admin_password).await.context("seeding the demo catalogue")?;
        let banner = Banner {
            seeded,
            email: &admin_email,
            password: &admin_password,
            faults_file: &faults_file,
            traces,
            mail: &mail,
        };
        print_banner(ports, &banner, settings.events.is_some());
        running.wait_for_shutdown().await
    }
    .await;
    running.stop_all().await;
    if let Some(events) = events {
        events.stop().await;
    }
    outcome
}

/// Copies the fault-flag template (every flag disabled) to `target/xtask-dev/faults.json`, so
/// each run starts healthy and the developer flips flags by editing that file.
fn fresh_fault_flags(target: &std::path::Path, ports: &ports::Ports) -> anyhow::Result<PathBuf> {
    let template = workspace_root().join("deploy/faults/flags.json");
    // One file per run side by side, told apart by the PostgreSQL port like the data directory.
    let postgres = ports.of("postgres");
    let name = if postgres == ports::default_of("postgres") {
        "faults.json".to_owned()
    } else {
        format!("faults-{postgres}.json")
    };
    let file = target.join("xtask-dev").join(name);
    std::fs::create_dir_all(target.join("xtask-dev"))?;
    std::fs::copy(&template, &file).with_context(|| format!("copying {}", template.display()))?;
    Ok(file)
}

/// What the ready banner reports besides the ports.
struct Banner<'a> {
    seeded: usize,
    email: &'a str,
    password: &'a str,
    faults_file: &'a std::path::Path,
    traces: &'a str,
    mail: &'a str,
}

fn print_banner(ports: &ports::Ports, b: &Banner<'_>, notifications: bool) {
    println!();
    println!("  shop      {}", ports.url("storefront"));
    let apis: &[&str] = if notifications {
        &["products", "users", "orders", "payments", "notifications"]
    } else {
        &["products", "users", "orders", "payments"]
    };
    for name in apis {
        println!("  {name:<9} {}/docs", ports.url(name));
    }
    println!("  admin     {} / {}", b.email, b.password);
    println!("  catalogue {} new demo products (already present ones are kept)", b.seeded);
    println!("  faults    {} (set a flag's state to ENABLED; applies within a second)", b.faults_file.display());
    println!("  traffic   cargo xtask load --users-per-sec 2 --duration 60");
    println!("  traces    {}", b.traces);
    println!("  e-mails   {}", b.mail);
    println!();
    println!("{READY_LINE}; press Ctrl-C to stop everything");
}
