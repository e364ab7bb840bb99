//! Command-line options of `cargo xtask bench` (hand-parsed: a flag parser crate would cost
//! xtask more build time than these few flags are worth).

use std::path::PathBuf;

use anyhow::{Context, bail};

/// Printed by `--help` and on a bad flag.
pub const USAGE: &str = "usage: cargo xtask bench [options]

Builds the services in release mode, starts them on a private PostgreSQL, seeds products and
runs each scenario with wrk, next to pgbench running the same SQL on the same server.
Writes target/bench/report.md.

options:
  --duration SECS        how long each scenario and each pgbench run lasts (default 10)
  --connections N        concurrent connections of wrk and of pgbench (default 8)
  --rounds N             slices the duration is cut into, wrk and pgbench taking turns (default 4)
  --sizes A,B            catalogue sizes to seed and measure (default 10000,100000)
  --scenarios LIST       any of get,search,order,login (default all)
  --ports P,U,O,Y        ports of products,users,orders,payments (default 9281,9282,9283,9284)
  --pg-port N            port of the private PostgreSQL (default 9532)
  --bin-dir DIR          take the service binaries from DIR instead of building them
  -h, --help             this text

Environment: BENCH_PORTS and BENCH_PG_PORT override the port defaults too.";

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds per scenario (wrk) and per pgbench run.
    pub duration_secs: u32,
    /// Connections of wrk and clients of pgbench.
    pub connections: u32,
    /// Slices of the duration; wrk and pgbench alternate, one slice each per round.
    pub rounds: u32,
    /// Catalogue sizes, ascending.
    pub sizes: Vec<u32>,
    /// Scenario names to run.
    pub scenarios: Vec<String>,
    /// Ports of products, users, orders, payments.
    pub ports: [u16; 4],
    /// Port of the private PostgreSQL.
    pub pg_port: u16,
    /// Prebuilt binaries (skips the release build).
    pub bin_dir: Option<PathBuf>,
}

/// Every scenario, in the order they run.
pub const SCENARIOS: [&str; 4] = ["get", "search", "order", "login"];

impl Default for Options {
    fn default() -> Self {
        Self {
            duration_secs: 10,
            connections: 8,
            rounds: 4,
            sizes: vec![10_000, 100_000],
            scenarios: SCENARIOS.iter().map(|s| (*s).to_owned()).collect(),
            ports: [9281, 9282, 9283, 9284],
            pg_port: 9532,
            bin_dir: None,
        }
    }
}

impl Options {
    /// The port of a service by name.
    pub fn port_of(&self, service: &str) -> u16 {
        let index = ["products", "users", "orders", "payments"].iter().position(|s| *s == service);
        index.map_or(0, |i| self.ports[i])
    }

    /// Whether a scenario was asked for.
    pub fn wants(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == scenario)
    }
}

fn parse_ports(raw: &str) -> anyhow::Result<[u16; 4]> {
    let ports: Vec<u16> = raw.split(',').map(|p| p.trim().parse()).collect::<Result<_, _>>()?;
    ports.try_into().map_err(|_| anyhow::anyhow!("four ports are needed: products,users,orders,payments"))
}

/// Parses the arguments after `bench`. `Ok(None)` means help was asked for.
pub fn parse(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut options = Options::default();
    if let Ok(raw) = std::env::var("BENCH_PORTS") {
        options.ports = parse_ports(&raw).context("BENCH_PORTS")?;
    }
    if let Ok(raw) = std::env::var("BENCH_PG_PORT") {
        options.pg_port = raw.trim().parse().context("BENCH_PG_PORT")?;
    }
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = rest.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--duration" => options.duration_secs = value.parse().context("--duration")?,
            "--connections" => options.connections = value.parse().context("--connections")?,
            "--rounds" => options.rounds = value.parse().context("--rounds")?,
            "--sizes" => {
                options.sizes =
                    value.split(',').map(|s| s.trim().parse()).collect::<Result<_, _>>().context("--sizes")?;
                options.sizes.sort_unstable();
            }
            "--scenarios" => options.scenarios = value.split(',').map(|s| s.trim().to_owned()).collect(),
            "--ports" => options.ports = parse_ports(value).context("--ports")?,
            "--pg-port" => options.pg_port = value.parse().context("--pg-port")?,
            "--bin-dir" => options.bin_dir = Some(PathBuf::from(value)),
            other => bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    if let Some(unknown) = options.scenarios.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
        bail!("unknown scenario {unknown} (known: {})", SCENARIOS.join(","));
    }
    if options.duration_secs == 0
        || options.connections == 0
        || options.rounds == 0
        || options.sizes.is_empty()
        || options.sizes[0] < 100
    {
        bail!("--duration, --connections and --rounds must be positive and every size at least 100");
    }
    Ok(Some(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_override_the_defaults_and_bad_ones_are_refused() {
        let parsed =
            parse(&args(&["--duration", "3", "--sizes", "500,200", "--ports", "1,2,3,4", "--scenarios", "get"]))
                .expect("valid flags")
                .expect("not help");
        assert_eq!((parsed.duration_secs, parsed.sizes.clone()), (3, vec![200, 500]), "duration and sorted sizes");
        assert_eq!((parsed.port_of("orders"), parsed.pg_port), (3, 9532), "ports by service name");
        assert!(parsed.wants("get") && !parsed.wants("login"), "only the scenarios asked for");
        assert!(parse(&args(&["--help"])).expect("help").is_none(), "help is not an error");
        for bad in [&["--scenarios", "nope"][..], &["--ports", "1,2"], &["--duration"], &["--frobnicate", "1"]] {
            assert!(parse(&args(bad)).is_err(), "{bad:?} must be refused");
        }
    }
}
