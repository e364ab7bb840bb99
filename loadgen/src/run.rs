//! A run: shoppers arriving at a steady rate, a live progress line, and the report.

use std::{sync::Arc, time::Duration};

use tokio::task::JoinSet;

use crate::{
    admin,
    catalogue::Catalogue,
    settings::Settings,
    shop::Shop,
    shopper::{self, Accounts},
    stats::{Report, Stats},
};

/// Visits in progress at most: past it, arrivals are skipped (and counted) rather than piling
/// up without bound on a shop that has stopped answering.
pub const MAX_ACTIVE_VISITS: usize = 512;

/// How often a run without an end prints its table and starts a new window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// How long the visits still running at the end may take to finish.
const DRAIN: Duration = Duration::from_secs(15);

/// Runs until the duration is over (or Ctrl-C/SIGTERM), prints the final table on standard
/// output (and to the report file), and returns it.
pub async fn run(settings: Settings) -> anyhow::Result<Report> {
    let stats = Arc::new(Stats::default());
    let shop = Shop::new(&settings, stats.clone())?;
    let catalogue = Arc::new(Catalogue::default());
    let accounts = Arc::new(Accounts::default());
    eprintln!(
        "loadgen: {} new shoppers/s against products {}, users {}, orders {}{} for {}",
        settings.users_per_sec,
        settings.products_url,
        settings.users_url,
        settings.orders_url,
        settings.storefront_url.as_deref().map(|s| format!(", storefront {s}")).unwrap_or_default(),
        settings.duration.map(|d| format!("{} s", d.as_secs())).unwrap_or_else(|| "until stopped".into()),
    );
    let admin_task = settings
        .admin
        .clone()
        .map(|(email, password)| tokio::spawn(admin::restock_forever(shop.clone(), email, password)));

    let mut visits = JoinSet::new();
    let mut skipped = 0u64;
    let mut arrivals = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.users_per_sec));
    arrivals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut progress = tokio::time::interval(settings.progress_every);
    progress.tick().await;
    let mut window = tokio::time::interval(WINDOW);
    window.tick().await;
    let end = tokio::time::sleep(settings.duration.unwrap_or(Duration::MAX / 4));
    tokio::pin!(end);
    let stop = stop_signal();
    tokio::pin!(stop);
    let mut seed = fastrand::Rng::new();

    loop {
        tokio::select! {
            _ = arrivals.tick() => {
                if visits.len() >= MAX_ACTIVE_VISITS {
                    skipped += 1;
                    continue;
                }
                let (shop, catalogue, accounts) = (shop.clone(), catalogue.clone(), accounts.clone());
                let rng = fastrand::Rng::with_seed(seed.u64(..));
                visits.spawn(async move { shopper::visit(&shop, &catalogue, &accounts, rng).await });
            }
            Some(_) = visits.join_next(), if !visits.is_empty() => {}
            _ = progress.tick() => {
                let (requests, errors, elapsed) = stats.totals();
                eprintln!(
                    "[{:>5.0}s] {requests} requests ({:.1}/s), {errors} unexpected, {} visits active{}",
                    elapsed.as_secs_f64(),
                    requests as f64 / elapsed.as_secs_f64().max(1e-9),
                    visits.len(),
                    if skipped > 0 { format!(", {skipped} arrivals skipped (shop too slow)") } else { String::new() },
                );
            }
            _ = window.tick(), if settings.duration.is_none() => {
                println!("\n{}", stats.report_and_reset().to_markdown());
            }
            () = &mut end => break,
            () = &mut stop => break,
        }
    }

    let _ = tokio::time::timeout(DRAIN, async { while visits.join_next().await.is_some() {} }).await;
    visits.abort_all();
    if let Some(task) = admin_task {
        task.abort();
    }
    let report = stats.report();
    let table = report.to_markdown();
    println!("\n{table}");
    if skipped > 0 {
        println!("{skipped} arrivals skipped: {MAX_ACTIVE_VISITS} visits were already waiting on the shop");
    }
    if let Some(path) = &settings.report_path {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, format!("# loadgen report\n\n{table}"))?;
    }
    Ok(report)
}

/// Ctrl-C or SIGTERM (a Deployment being scaled down).
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
