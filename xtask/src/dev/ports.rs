//! The ports of one `cargo xtask dev`, so two can run side by side.
//!
//! Each component has a default port; `--<name>-port N` or `XTASK_<NAME>_PORT=N` (flag first;
//! `-` becomes `_` in the variable) moves it. A new component is one more row in [`DEFAULT_PORTS`].

use anyhow::{Context, bail};

/// Every component with its default port.
pub const DEFAULT_PORTS: &[(&str, u16)] = &[
    ("storefront", 8080),
    ("products", 8081),
    ("users", 8082),
    ("orders", 8083),
    ("payments", 8084),
    ("postgres", 55432),
    // Used only when xtask runs Jaeger (see `jaeger.rs`): its UI and its OTLP gRPC receiver.
    ("jaeger", 16686),
    ("jaeger-otlp", 4317),
];

/// The chosen port of each component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports(Vec<(&'static str, u16)>);

impl Ports {
    /// Ports from command-line arguments (after `dev`) and the environment.
    pub fn from_args_and_env(args: &[String]) -> anyhow::Result<Self> {
        Self::parse(args, |name| std::env::var(name).ok())
    }

    fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut ports: Vec<(&'static str, u16)> = DEFAULT_PORTS.to_vec();
        for (name, port) in &mut ports {
            let variable = env_variable(name);
            if let Some(raw) = env(&variable) {
                *port = raw.trim().parse().with_context(|| format!("{variable}={raw} is not a port"))?;
            }
        }
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let Some(name) = flag.strip_prefix("--").and_then(|f| f.strip_suffix("-port")) else {
                bail!("unknown argument {flag}; expected --<component>-port N");
            };
            let Some(entry) = ports.iter_mut().find(|(n, _)| *n == name) else {
                bail!("unknown component in {flag}; known: {}", names());
            };
            let raw = args.next().with_context(|| format!("{flag} needs a port number"))?;
            entry.1 = raw.parse().with_context(|| format!("{flag} {raw} is not a port"))?;
        }
        let mut seen = std::collections::HashSet::new();
        if let Some((name, port)) = ports.iter().find(|(_, port)| !seen.insert(*port)) {
            bail!("port {port} of {name} is given to two components");
        }
        Ok(Self(ports))
    }

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

fn names() -> String {
    DEFAULT_PORTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// The `--help` text of the port flags.
pub fn usage() -> String {
    DEFAULT_PORTS
        .iter()
        .map(|(name, port)| format!("  --{name}-port N   (env {}, default {port})", env_variable(name)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_env_and_flags_in_that_order_of_precedence() {
        let env = |name: &str| match name {
            "XTASK_USERS_PORT" => Some("9182".to_owned()),
            "XTASK_PRODUCTS_PORT" => Some("9000".to_owned()),
            "XTASK_JAEGER_OTLP_PORT" => Some("14317".to_owned()),
            _ => None,
        };
        let ports = Ports::parse(&args(&["--products-port", "9181", "--postgres-port", "9432"]), env).expect("valid");
        let cases = [
            ("products", 9181, "flag beats env"),
            ("users", 9182, "env"),
            ("orders", 8083, "default"),
            ("postgres", 9432, "flag"),
            ("jaeger-otlp", 14317, "env, with _ for -"),
            ("jaeger", 16686, "default"),
        ];
        for (name, port, message) in cases {
            assert_eq!(ports.of(name), port, "{message}");
        }
        assert_eq!(ports.url("users"), "http://127.0.0.1:9182");
    }

    #[test]
    fn bad_port_arguments_are_refused() {
        let none = |_: &str| None;
        let cases = [
            (args(&["--products-port"]), "missing number"),
            (args(&["--products-port", "x"]), "not a number"),
            (args(&["--products-port", "70000"]), "out of range"),
            (args(&["--shipping-port", "1"]), "unknown component"),
            (args(&["--verbose"]), "unknown flag"),
            (args(&["--users-port", "8081"]), "two components on one port"),
        ];
        for (list, message) in cases {
            assert!(Ports::parse(&list, none).is_err(), "{message}");
        }
    }
}
