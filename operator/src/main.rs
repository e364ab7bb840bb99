//! `operator run | crd | render <shop.yaml>`: a thin shell over the library.
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use futures::FutureExt;
use kube::CustomResourceExt;

const USAGE: &str = "usage: operator run | crd | render <shop.yaml>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["run"] => run(),
        ["crd"] => print_crd(),
        ["render", path] => render(path),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the CRD generated from the Rust types (what `k8s/crd.yaml` holds).
fn print_crd() -> anyhow::Result<()> {
    print!("{}", serde_saphyr::to_string(&operator::crd::Shop::crd())?);
    Ok(())
}

/// Prints every object the controller would apply for a Shop manifest.
fn render(path: &str) -> anyhow::Result<()> {
    let yaml = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let shop = operator::render::parse_shop(&yaml)?;
    print!("{}", operator::render::render(&shop)?);
    Ok(())
}

/// Runs the controller and the metrics/health server until SIGTERM or Ctrl-C.
fn run() -> anyhow::Result<()> {
    // One TLS provider for the process, chosen explicitly (kube is built with ring).
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("a rustls crypto provider was already installed"))?;
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = kube::Client::try_default().await.context("connecting to the Kubernetes API")?;
        let health = Arc::new(operator::metrics::Health::default());
        let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "0.0.0.0:8080".into());
        let shutdown = shutdown_signal().boxed().shared();
        let server = operator::metrics::serve(addr.clone(), health.clone(), shutdown.clone());
        let controller = lead_and_run(client, health, shutdown);
        tokio::pin!(server, controller);
        tokio::select! {
            served = &mut server => {
                served.with_context(|| format!("serving metrics on {addr}"))?;
                anyhow::bail!("the metrics server stopped before the controller")
            }
            ran = &mut controller => {
                ran?;
                server.await.context("stopping the metrics server")?;
            }
        }
        Ok(())
    })
}

/// Runs the controller while this replica holds the leader Lease (always, outside a cluster).
/// Losing the Lease stops the controller and fails, so the container restarts as a candidate.
async fn lead_and_run(
    client: kube::Client,
    health: Arc<operator::metrics::Health>,
    shutdown: futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
) -> anyhow::Result<()> {
    let Some(config) = operator::leader::LeaseConfig::from_env() else {
        tracing::info!("POD_NAMESPACE/POD_NAME unset: leader election off (run one replica)");
        return run_controller(client, health, shutdown).await;
    };
    let stop_grace = config.stop_grace();
    let elector = operator::leader::LeaderElector::new(client.clone(), config);
    // A standby replica is healthy and ready: it only waits for the Lease.
    health.set_ready(true);
    let Some(acquired) = elector.acquire(shutdown.clone()).await else {
        return Ok(());
    };
    let lost = std::sync::Arc::new(tokio::sync::Notify::new());
    let stop = {
        let (shutdown, lost) = (shutdown.clone(), lost.clone());
        async move {
            tokio::select! {
                _ = shutdown => {}
                _ = lost.notified() => {}
            }
        }
    };
    let controller = run_controller(client, health, stop);
    tokio::pin!(controller);
    tokio::select! {
        ran = &mut controller => {
            ran?;
            elector.release().await;
            Ok(())
        }
        _ = elector.hold(acquired) => {
            lost.notify_one();
            // In-flight reconciles may wait on the same unanswering API server: the process
            // exits after the grace whether or not they finished, before the Lease expires.
            if tokio::time::timeout(stop_grace, &mut controller).await.is_err() {
                tracing::warn!("the controller did not stop within the grace; exiting anyway");
            }
            anyhow::bail!("lost the leader Lease: stopped reconciling, restarting as a candidate")
        }
    }
}

/// The controller, with a hint for its most common start-up failure.
async fn run_controller(
    client: kube::Client,
    health: Arc<operator::metrics::Health>,
    stop: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> anyhow::Result<()> {
    operator::controller::run(client, health, stop)
        .await
        .context("running the controller (is the Shop CRD installed: `operator crd | kubectl apply -f -`?)")
}

/// JSON logs by default (`LOG_FORMAT=pretty` for humans), filtered by `RUST_LOG`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "pretty") {
        builder.init();
    } else {
        builder.json().init();
    }
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
