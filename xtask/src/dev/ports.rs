//! The ports of one `cargo xtask dev`, so two can run side by side.
//!
//! Each component has a default port; `--<name>-port N` or `XTASK_<NAME>_PORT=N` (flag first;
//! `-` becomes `_` in the variable) moves it. A new component is one more row in [`DEFAULT_PORTS`].

use clap::{Arg, ArgMatches, Command, FromArgMatches, error::ErrorKind};

/// Every component with its default port.
pub const DEFAULT_PORTS: &[(&str, u16)] = &[
    ("storefront", 8080),
    ("products", 8081),
    ("users", 8082),
    ("orders", 8083),
    ("payments", 8084),
    ("notifications", 8085),
    ("postgres", 55432),
    // The event bus and the SMTP catcher (see `events.rs`).
    ("nats", 4222),
    ("smtp", 2525),
    // Used only when xtask runs Jaeger (see `jaeger.rs`): its UI, its OTLP gRPC receiver and
    // the span metrics it serves for Prometheus.
    ("jaeger", 16686),
    ("jaeger-otlp", 4317),
    ("jaeger-spanmetrics", 8889),
    // Not started by xtask: where Jaeger's Monitor tab expects a Prometheus (docs/observability.md).
    ("prometheus", 9090),
];

/// The chosen port of each component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports(Vec<(&'static str, u16)>);

/// One `--<name>-port` option per row of [`DEFAULT_PORTS`], so the table stays the one list
/// (a derived struct would repeat every name and default in a field attribute).
impl clap::Args for Ports {
    fn augment_args(command: Command) -> Command {
        command.args(DEFAULT_PORTS.iter().map(|(name, port)| {
            Arg::new(*name)
                .long(format!("{name}-port"))
                .env(env_variable(name))
                .value_name("N")
                .default_value(port.to_string())
                .value_parser(clap::value_parser!(u16))
                .help(format!("Port of {name}"))
        }))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for Ports {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let ports: Vec<(&'static str, u16)> = DEFAULT_PORTS
            .iter()
            .map(|(name, default)| (*name, matches.get_one::<u16>(name).copied().unwrap_or(*default)))
            .collect();
        let mut seen = std::collections::HashSet::new();
        if let Some((name, port)) = ports.iter().find(|(_, port)| !seen.insert(*port)) {
            return Err(clap::Error::raw(
                ErrorKind::ArgumentConflict,
                format!("port {port} of {name} is given to two components"),
            ));
        }
        Ok(Self(ports))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Ports {
    /// The port of a component of [`DEFAULT_PORTS`].
    pub fn of(&self, name: &str) -> u16 {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, p)| *p).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>` of a component.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}", self.of(name))
    }
}

/// `XTASK_<NAME>_PORT`, with `-` as `_` (a shell variable name cannot hold `-`).
fn env_variable(name: &str) -> String {
    format!("XTASK_{}_PORT", name.to_ascii_uppercase().replace('-', "_"))
}

/// The default port of a component of [`DEFAULT_PORTS`].
pub fn default_of(name: &str) -> u16 {
    DEFAULT_PORTS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    fn parse(args: &[&str]) -> Result<Ports, clap::Error> {
        let command = Ports::augment_args(Command::new("dev"));
        Ports::from_arg_matches(&command.try_get_matches_from(std::iter::once("dev").chain(args.iter().copied()))?)
    }

    #[test]
    fn flags_move_ports_and_the_rest_keep_their_defaults_or_variables() {
        let ports = parse(&["--products-port", "9181", "--postgres-port", "9432", "--jaeger-otlp-port", "14317"])
            .expect("valid");
        let cases = [
            ("products", 9181, "flag"),
            ("postgres", 9432, "flag"),
            ("jaeger-otlp", 14317, "flag with a dash in the name"),
            ("jaeger", 16686, "default"),
        ];
        for (name, port, message) in cases {
            assert_eq!(ports.of(name), port, "{message}");
        }
        assert_eq!(ports.url("products"), "http://127.0.0.1:9181");
        let help = parse(&["--help"]).expect_err("help").to_string();
        assert!(help.contains("XTASK_JAEGER_OTLP_PORT"), "variables use _ for -: {help}");
    }

    #[test]
    fn bad_port_arguments_are_refused() {
        let cases: [(&[&str], &str); 6] = [
            (&["--products-port"], "missing number"),
            (&["--products-port", "x"], "not a number"),
            (&["--products-port", "70000"], "out of range"),
            (&["--shipping-port", "1"], "unknown component"),
            (&["--verbose"], "unknown flag"),
            (&["--users-port", "8081"], "two components on one port"),
        ];
        for (list, message) in cases {
            assert!(parse(list).is_err(), "{message}");
        }
    }
}
