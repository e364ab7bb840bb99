//! Jaeger v2 for `cargo xtask dev`, when a `jaeger` binary is at hand (`JAEGER_BIN`, or `jaeger`
//! on `PATH`; `scripts/go-tools.sh jaeger` builds one from the Go module proxy).
//!
//! It runs with `deploy/jaeger/config.yaml`, the file docker compose mounts and the operator's
//! ConfigMap mirrors. That file listens on all interfaces on fixed ports, right in a container and
//! wrong on a developer's machine, so every listener is moved to 127.0.0.1 with the collector's
//! own `--set` overrides and the file stays the one the other deployments run: the UI and the
//! OTLP gRPC receiver on the dev ports `jaeger` and `jaeger-otlp`, the listeners only Jaeger
//! itself needs (OTLP/HTTP, query gRPC, health check) on free ports, Jaeger's own metrics
//! endpoint (fixed :8888 by default) off, and so is the query extension's tracing of itself: it
//! exports to the default `localhost:4317`, which here is not Jaeger (and on shutdown it waited
//! 10 s for that export to time out).
//!
//! A Jaeger built from the module proxy has no UI inside: the UI is a separate JavaScript
//! project (jaeger-ui) whose build Jaeger's release process embeds, so such a binary serves the
//! query API and a placeholder page. `JAEGER_UI_ASSETS` names a built jaeger-ui directory
//! (its `index.html` and assets) for Jaeger to serve instead.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use super::ports::Ports;

/// Where the services' traces go during one `cargo xtask dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracing {
    /// xtask runs this Jaeger binary and points the services at it.
    Jaeger(PathBuf),
    /// The developer's own collector (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, passed through).
    Own(String),
    /// `OTEL_SDK_DISABLED=true`: no spans at all.
    Disabled,
    /// No Jaeger binary and no endpoint: nothing is exported.
    Off,
}

impl Tracing {
    /// Decides from the environment; `JAEGER_BIN` naming a missing file is an error, not a
    /// silent fallback, since the developer asked for Jaeger explicitly.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::choose(|name| std::env::var(name).ok(), find_on_path)
    }

    fn choose(var: impl Fn(&str) -> Option<String>, on_path: impl Fn(&str) -> Option<PathBuf>) -> anyhow::Result<Self> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(Self::Disabled);
        }
        if let Some(endpoint) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        {
            return Ok(Self::Own(endpoint));
        }
        if let Some(binary) = var("JAEGER_BIN") {
            let binary = PathBuf::from(binary);
            if !binary.is_file() {
                bail!("JAEGER_BIN={} is not a file (scripts/go-tools.sh jaeger builds one)", binary.display());
            }
            return Ok(Self::Jaeger(binary));
        }
        Ok(on_path("jaeger").map_or(Self::Off, Self::Jaeger))
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}

/// The ports of the listeners [`local_overrides`] moves.
struct Listeners {
    ui: u16,
    otlp_grpc: u16,
    otlp_http: u16,
    query_grpc: u16,
    health: u16,
    spanmetrics: u16,
    /// Not a listener: the Prometheus the Monitor tab queries.
    prometheus: u16,
}

/// The `--set` overrides that move every listener of the config file to 127.0.0.1 (each
/// `endpoint` of `deploy/jaeger/config.yaml` must be one of these keys, a test checks it),
/// point the Monitor tab at a local Prometheus, and turn off what would reach outside this run
/// (see the module docs).
fn local_overrides(ports: &Listeners) -> Vec<String> {
    [
        ("receivers::otlp::protocols::grpc::endpoint", ports.otlp_grpc),
        ("receivers::otlp::protocols::http::endpoint", ports.otlp_http),
        ("extensions::jaeger_query::http::endpoint", ports.ui),
        ("extensions::jaeger_query::grpc::endpoint", ports.query_grpc),
        ("extensions::healthcheckv2::http::endpoint", ports.health),
        ("exporters::prometheus::endpoint", ports.spanmetrics),
    ]
    .iter()
    .map(|(key, port)| format!("--set={key}=127.0.0.1:{port}"))
    .chain([format!("--set={PROMETHEUS_BACKEND}=http://127.0.0.1:{}", ports.prometheus)])
    .chain(
        ["service::telemetry::metrics::level=none", "extensions::jaeger_query::enable_tracing=false"]
            .map(|s| format!("--set={s}")),
    )
    .collect()
}

/// The config key of the Prometheus the Monitor tab reads span metrics from.
const PROMETHEUS_BACKEND: &str = "extensions::jaeger_storage::metric_backends::prometheus::prometheus::endpoint";

/// A running Jaeger, stopped by [`Jaeger::stop`] (or killed when dropped).
pub struct Jaeger {
    child: Child,
    /// The query UI, `http://127.0.0.1:<jaeger port>`.
    pub ui_url: String,
    /// What the services' `OTEL_EXPORTER_OTLP_ENDPOINT` is set to (gRPC).
    pub otlp_endpoint: String,
    /// Jaeger's own log (it is chatty; the services' logs stay readable on the terminal).
    pub log: PathBuf,
}

impl Jaeger {
    /// Starts `binary` with the shared config file and waits (30 s at most) until its health
    /// check answers, so the services' first spans have somewhere to go.
    pub async fn start(binary: &Path, ports: &Ports, config: &Path, log: PathBuf) -> anyhow::Result<Self> {
        let free = || shopkit::localdb::free_port().map_err(|e| anyhow::anyhow!("no free port: {e}"));
        let (otlp_http, query_grpc, health) = (free()?, free()?, free()?);
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let ui_assets = std::env::var_os("JAEGER_UI_ASSETS").filter(|dir| !dir.is_empty()).map(PathBuf::from);
        if let Some(dir) = &ui_assets
            && !dir.join("index.html").is_file()
        {
            bail!("JAEGER_UI_ASSETS={} holds no index.html (a built jaeger-ui is expected)", dir.display());
        }
        let child = Command::new(binary)
            .arg(format!("--config={}", config.display()))
            .args(local_overrides(&Listeners {
                ui: ports.of("jaeger"),
                otlp_grpc: ports.of("jaeger-otlp"),
                otlp_http,
                query_grpc,
                health,
                spanmetrics: ports.of("jaeger-spanmetrics"),
                prometheus: ports.of("prometheus"),
            }))
            .args(ui_assets.map(|dir| format!("--set=extensions::jaeger_query::ui::assets_path={}", dir.display())))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut jaeger = Self { child, ui_url: ports.url("jaeger"), otlp_endpoint: ports.url("jaeger-otlp"), log };
        println!("xtask: started jaeger, UI on {}, log in {}", jaeger.ui_url, jaeger.log.display());
        jaeger.wait_until_healthy(health).await?;
        Ok(jaeger)
    }

    async fn wait_until_healthy(&mut self, health: u16) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("jaeger exited during start-up ({status}); see {}", self.log.display());
            }
            let url = format!("http://127.0.0.1:{health}/status");
            let timeout = Duration::from_secs(1);
            if client.get(url).timeout(timeout).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("jaeger was not healthy within 30 s; see {}", self.log.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM (Jaeger drains its pipeline), then a kill after 10 s. Called after the services
    /// have stopped, so the spans they flush on the way out still arrive.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(_) => println!("xtask: jaeger stopped"),
            Err(_) => {
                let _ = self.child.kill().await;
                println!("xtask: jaeger killed after 10 s");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row: the variables set, whether `jaeger` is on PATH, the decision, the message.
    type Case<'a> = (&'a [(&'a str, &'a str)], bool, Tracing, &'a str);

    #[test]
    fn the_environment_decides_where_traces_go() {
        let binary = std::env::current_exe().expect("test binary");
        let given = binary.display().to_string();
        let on_path = |_: &str| Some(PathBuf::from("/opt/bin/jaeger"));
        let not_on_path = |_: &str| None;
        let cases: [Case; 6] = [
            (&[], true, Tracing::Jaeger("/opt/bin/jaeger".into()), "jaeger on PATH"),
            (&[], false, Tracing::Off, "no binary anywhere"),
            (&[("JAEGER_BIN", &given)], true, Tracing::Jaeger(binary.clone()), "JAEGER_BIN beats PATH"),
            (
                &[("JAEGER_BIN", &given), ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")],
                true,
                Tracing::Own("http://c:4317".into()),
                "the developer's collector wins",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")],
                true,
                Tracing::Own("http://c:4318/v1/traces".into()),
                "traces endpoint",
            ),
            (&[("OTEL_SDK_DISABLED", "TRUE"), ("JAEGER_BIN", &given)], true, Tracing::Disabled, "disabled"),
        ];
        for (vars, found, expected, message) in cases {
            let var = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
            let chosen = if found { Tracing::choose(var, on_path) } else { Tracing::choose(var, not_on_path) };
            assert_eq!(chosen.expect(message), expected, "{message}");
        }
        let missing = |name: &str| (name == "JAEGER_BIN").then(|| "/nonexistent/jaeger".to_owned());
        assert!(Tracing::choose(missing, on_path).is_err(), "a JAEGER_BIN that is not there is an error");
    }

    /// Every `endpoint:` of the shared config file (by its YAML path) is moved to 127.0.0.1,
    /// so a listener added there later cannot bind all interfaces on a developer's machine.
    #[test]
    fn every_listener_of_the_shared_config_is_overridden() {
        let config = std::fs::read_to_string(super::super::workspace_root().join("deploy/jaeger/config.yaml"))
            .expect("deploy/jaeger/config.yaml");
        let overrides = local_overrides(&Listeners {
            ui: 1,
            otlp_grpc: 2,
            otlp_http: 3,
            query_grpc: 4,
            health: 5,
            spanmetrics: 6,
            prometheus: 7,
        });
        let mut stack: Vec<(usize, &str)> = Vec::new();
        let mut endpoints = 0;
        for line in config.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
            let indent = line.len() - line.trim_start().len();
            let Some((key, _)) = line.trim().split_once(':') else { continue };
            stack.retain(|(depth, _)| *depth < indent);
            stack.push((indent, key));
            if key == "endpoint" {
                let path = stack.iter().map(|(_, k)| *k).collect::<Vec<_>>().join("::");
                if path == PROMETHEUS_BACKEND {
                    assert!(overrides.iter().any(|o| o.starts_with(&format!("--set={path}=http://127.0.0.1:"))));
                    continue;
                }
                endpoints += 1;
                assert!(overrides.iter().any(|o| o.starts_with(&format!("--set={path}=127.0.0.1:"))), "{path}");
            }
        }
        assert!(endpoints >= 5, "found only {endpoints} endpoints: did the file's layout change?");
        assert_eq!(config.matches("0.0.0.0").count(), endpoints, "every all-interfaces address is an endpoint above");
    }
}
