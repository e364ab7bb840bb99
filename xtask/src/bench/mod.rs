//! `cargo xtask bench`: the services against what PostgreSQL alone does with the same SQL.
//!
//! Release builds of the four services run on a private PostgreSQL (the cluster module of
//! `cargo xtask dev`, here on its own ports so both can run at once). For each catalogue size
//! and scenario the bench sends one request to warm up, one with statement logging on to
//! capture its SQL ([`capture`]), then runs wrk against the service and pgbench with the
//! captured statements against the same server, one after the other ([`load`]). Both rates
//! come from the same minute on the same machine, so their ratio means something even on a
//! shared machine where absolute figures do not. The table goes to stdout and
//! `target/bench/report.md` ([`report`]).

mod capture;
mod load;
pub mod options;
mod report;
mod scenarios;

use std::{path::Path, process::Stdio, time::Duration};

use anyhow::{Context, bail};

use crate::dev::{database::DevDatabase, services};

/// The services the bench starts, in start order (users first: the others need its key; orders
/// after the services it calls). The storefront renders pages over these APIs and is not measured.
const MEASURED: [&str; 4] = ["users", "products", "payments", "orders"];

/// Runs the bench with the options after `bench`.
pub async fn run(options: options::Options) -> anyhow::Result<()> {
    let root = crate::dev::workspace_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    let wrk = load::ensure_wrk()?;
    let pgbench = load::find_pgbench()?;
    let bin_dir = match &options.bin_dir {
        Some(dir) => dir.clone(),
        None => {
            services::build_profile(&root, true, &MEASURED).context("building the services")?;
            target.join("release")
        }
    };
    let out = root.join("target").join("bench");
    let pg_dir = out.join("postgres");
    // A fresh cluster every run, so every run starts from the same catalogue.
    let _ = std::fs::remove_dir_all(&pg_dir);
    std::fs::create_dir_all(out.join("logs"))?;
    let database = DevDatabase::start_private(&pg_dir, options.pg_port).await.context("starting PostgreSQL")?;
    let tools = Tools { wrk, pgbench, out, bin_dir };
    let result = bench(&options, &tools, &database).await;
    database.stop();
    let report = result?;
    let path = tools.out.join("report.md");
    std::fs::write(&path, &report)?;
    println!("\n{report}\nxtask: written to {}", path.display());
    Ok(())
}

/// Where things are for one run.
struct Tools {
    wrk: std::path::PathBuf,
    pgbench: std::path::PathBuf,
    out: std::path::PathBuf,
    bin_dir: std::path::PathBuf,
}

async fn bench(options: &options::Options, tools: &Tools, database: &DevDatabase) -> anyhow::Result<String> {
    let keys = shopkit::auth::generate_key_pair().map_err(|e| anyhow::anyhow!("key generation: {e}"))?;
    let settings = services::Settings {
        keys,
        admin_email: "admin@bench.local".into(),
        admin_password: crate::dev::random_secret()?,
        service_secret: crate::dev::random_secret()?,
        storefront_secret: crate::dev::random_secret()?,
        notifications_secret: crate::dev::random_secret()?,
        // The bench measures the request path; order events stay in the outbox.
        events: None,
        // Not passed on: the bench measures the services without fault flags.
        faults_file: std::path::PathBuf::new(),
    };
    let mut running = services::Running::default();
    let outcome = async {
        for name in MEASURED {
            let port = options.port_of(name);
            let mut cmd = services::service_command(
                &tools.bin_dir.join(name),
                name,
                port,
                &database.url_for(name),
                &settings,
                &|peer| options.port_of(peer),
            );
            let log = std::fs::File::create(tools.out.join("logs").join(format!("{name}.log")))?;
            cmd.stdout(Stdio::from(log.try_clone()?)).stderr(Stdio::from(log));
            // Production defaults (JSON logs, RUST_LOG unset means info) unless the caller set them;
            // the sweeper stays out of the way of statement capture.
            if std::env::var_os("LOG_FORMAT").is_none() {
                cmd.env("LOG_FORMAT", "json");
            }
            cmd.env("ORDER_SWEEP_INTERVAL_SECS", "3600");
            // If the bench itself is interrupted, its services go with it.
            cmd.kill_on_drop(true);
            running.start(name, port, cmd)?;
        }
        running.wait_until_ready().await?;
        measure(options, tools, database, &running).await
    }
    .await;
    running.stop_all().await;
    outcome
}

async fn measure(
    options: &options::Options,
    tools: &Tools,
    database: &DevDatabase,
    running: &services::Running,
) -> anyhow::Result<String> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pids = running.pids();
    let rss_of = |service: &str| {
        pids.iter().find(|(n, _)| *n == service).and_then(|(_, pid)| report::rss_mib(*pid)).unwrap_or_default()
    };
    let idle: Vec<(&'static str, f64)> = pids.iter().map(|(n, _)| (*n, rss_of(n).0)).collect();
    let client = reqwest::Client::new();
    let base = |service: &str| format!("http://127.0.0.1:{}", options.port_of(service));
    let customer = scenarios::customer(&client, &base("users")).await?;
    let all = scenarios::all(&base, &customer);
    let run_id = format!("bench{}", std::process::id());
    let mut rows = Vec::new();
    let mut seeded = 0;
    let sizes = options.sizes_ascending();
    let last = sizes.last().copied().unwrap_or_default();
    for &size in &sizes {
        println!("xtask: seeding products {}..={size}", seeded + 1);
        scenarios::seed_products(&database.url_for("products"), seeded + 1, size).await?;
        seeded = size;
        for scenario in all.iter().filter(|s| options.wants(s.name)) {
            // Ordering and logging in do not depend on the catalogue: once, at the largest size.
            if matches!(scenario.name, "order" | "login") && size != last {
                continue;
            }
            let tag = format!("{}-{size}", scenario.name);
            println!("xtask: {tag}: capturing SQL, then wrk and pgbench for {} s each", options.duration_secs);
            let row =
                run_scenario(options, tools, database, &client, scenario, &format!("{run_id}-{tag}"), size).await?;
            let row = report::Row { rss_mib: rss_of(scenario.service).0, ..row };
            rows.push(row);
        }
    }
    let memory: Vec<report::Memory> = idle
        .iter()
        .map(|(service, idle)| {
            let (end, peak) = rss_of(service);
            report::Memory { service, idle: *idle, end, peak }
        })
        .collect();
    let commit = match &options.bin_dir {
        Some(dir) => format!("binaries from {}", dir.display()),
        None => std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .map(|o| format!("{}, release build", String::from_utf8_lossy(&o.stdout).trim()))
            .unwrap_or_default(),
    };
    let settings = format!(
        "{} s in {} rounds of wrk then pgbench, {} connections (wrk) / clients (pgbench -M prepared)",
        options.duration_secs, options.rounds, options.connections
    );
    Ok(report::markdown(&rows, &memory, &settings, &commit))
}

async fn run_scenario(
    options: &options::Options,
    tools: &Tools,
    database: &DevDatabase,
    client: &reqwest::Client,
    scenario: &scenarios::Scenario,
    run: &str,
    size: u32,
) -> anyhow::Result<report::Row> {
    scenario.send_once(client, &format!("{run}-warm")).await?;
    let capture_key = format!("{run}-capture");
    let log_path = tools.out.join("postgres").join("postgres.log");
    let offset = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
    capture::set_logging(database.admin_url(), true).await?;
    let sent = scenario.send_once(client, &capture_key).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    capture::set_logging(database.admin_url(), false).await?;
    sent?;
    let log = std::fs::read(&log_path).with_context(|| format!("reading {}", log_path.display()))?;
    let log = String::from_utf8_lossy(log.get(offset as usize..).unwrap_or_default());
    let by_db = capture::statements_by_database(&log);
    let by_db: Vec<_> = by_db.into_iter().filter(|(db, _)| crate::dev::SERVICES.iter().any(|n| n == db)).collect();
    if by_db.is_empty() {
        bail!("no SQL captured for {}", scenario.name);
    }

    let mut scripts = Vec::new();
    for (db, statements) in &by_db {
        let script = capture::to_pgbench(statements, &scenario.known_ids, std::slice::from_ref(&capture_key), "v");
        let file = tools.out.join("sql").join(format!("{}-{size}-{db}.sql", scenario.name));
        std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(&file, &script.text)?;
        scripts.push((db.as_str(), file, script.variables));
    }

    // wrk and pgbench take turns in short slices, so both see the same background load
    // (on a shared machine it changes from one minute to the next).
    let slice = (options.duration_secs / options.rounds).max(1);
    let lua = tools.out.join(format!("{}.lua", scenario.name));
    let (mut service_rounds, mut postgres_rounds) = (Vec::new(), Vec::new());
    for round in 0..options.rounds {
        // A new key prefix per round: wrk restarts its counters, and a repeated key would be a replay.
        scenario.write_lua(&lua, &format!("{run}-r{round}"))?;
        service_rounds.push(load::run_wrk(&tools.wrk, &scenario.url, Some(&lua), options.connections, slice)?);
        let mut parts = Vec::new();
        for (db, file, variables) in &scripts {
            let pgbench = load::Pgbench {
                binary: &tools.pgbench,
                port: options.pg_port,
                database: db,
                script: file,
                variables,
                log_dir: &tools.out.join("pgbench-log"),
            };
            parts.push(pgbench.run(options.connections, slice)?);
        }
        postgres_rounds.push(report::combine(&parts));
    }
    let (service, postgres) = (report::mean(&service_rounds), report::mean(&postgres_rounds));
    Ok(report::Row { scenario: scenario.name, size, service, postgres, databases: scripts.len(), rss_mib: 0.0 })
}
