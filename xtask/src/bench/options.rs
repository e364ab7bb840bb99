//! Command-line options of `cargo xtask bench`.

use std::path::PathBuf;

/// What to run.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Seconds per scenario (wrk) and per pgbench run.
    #[arg(long = "duration", value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub duration_secs: u32,
    /// Connections of wrk and clients of pgbench.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Slices the duration is cut into; wrk and pgbench alternate, one slice each per round.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Catalogue sizes to seed and measure, each at least 100 (measured in ascending order).
    #[arg(long, value_name = "A,B", value_delimiter = ',', default_value = "10000,100000", value_parser = clap::value_parser!(u32).range(100..))]
    pub sizes: Vec<u32>,
    /// Scenarios to run.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "get,search,order,login", value_parser = SCENARIOS)]
    pub scenarios: Vec<String>,
    /// Ports of products,users,orders,payments.
    #[arg(long, env = "BENCH_PORTS", value_name = "P,U,O,Y", default_value = "9281,9282,9283,9284", value_parser = parse_ports)]
    pub ports: [u16; 4],
    /// Port of the private PostgreSQL.
    #[arg(long, env = "BENCH_PG_PORT", value_name = "N", default_value_t = 9532)]
    pub pg_port: u16,
    /// Take the service binaries from DIR instead of building them.
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
}

/// Every scenario, in the order they run.
pub const SCENARIOS: [&str; 4] = ["get", "search", "order", "login"];

impl Options {
    /// The port of a service by name.
    pub fn port_of(&self, service: &str) -> u16 {
        let index = ["products", "users", "orders", "payments"].iter().position(|s| *s == service);
        index.map_or(0, |i| self.ports[i])
    }

    /// The catalogue sizes in the order they are seeded: ascending, each once.
    pub fn sizes_ascending(&self) -> Vec<u32> {
        let mut sizes = self.sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    /// Whether a scenario was asked for.
    pub fn wants(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == scenario)
    }
}

fn parse_ports(raw: &str) -> Result<[u16; 4], String> {
    let ports: Vec<u16> =
        raw.split(',').map(|p| p.trim().parse()).collect::<Result<_, _>>().map_err(|e| format!("{e}"))?;
    ports.try_into().map_err(|_| "four ports are needed: products,users,orders,payments".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        let command = Options::augment_args(clap::Command::new("bench"));
        Options::from_arg_matches(&command.try_get_matches_from(std::iter::once("bench").chain(args.iter().copied()))?)
    }

    #[test]
    fn flags_override_the_defaults_and_bad_ones_are_refused() {
        let parsed = parse(&["--duration", "3", "--sizes", "500,200", "--ports", "1,2,3,4", "--scenarios", "get"])
            .expect("valid flags");
        assert_eq!((parsed.duration_secs, parsed.sizes_ascending()), (3, vec![200, 500]), "duration and sorted sizes");
        assert_eq!((parsed.port_of("orders"), parsed.pg_port), (3, 9532), "ports by service name");
        assert!(parsed.wants("get") && !parsed.wants("login"), "only the scenarios asked for");
        assert_eq!(parse(&[]).expect("defaults").scenarios, SCENARIOS, "every scenario by default");
        let bad: [&[&str]; 6] = [
            &["--scenarios", "nope"],
            &["--ports", "1,2"],
            &["--duration"],
            &["--duration", "0"],
            &["--sizes", "10"],
            &["--frobnicate", "1"],
        ];
        for args in bad {
            assert!(parse(args).is_err(), "{args:?} must be refused");
        }
    }
}
