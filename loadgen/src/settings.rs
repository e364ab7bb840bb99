//! Settings from flags, falling back to environment variables (the names a Kubernetes
//! Deployment sets), falling back to the addresses of `cargo xtask dev`.

use std::{path::PathBuf, time::Duration};

use clap::Parser;

/// The command line as clap reads it; [`Settings`] is what a run uses.
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Simulated shoppers (browse, search, buy, pay, cancel) and admin restocks, with a latency report.",
    after_help = "When running until stopped, the table is printed and reset every 60 s as well."
)]
struct Cli {
    /// Products service.
    #[arg(long, env = "PRODUCTS_URL", value_name = "URL", default_value = "http://127.0.0.1:8081")]
    products_url: String,
    /// Users service.
    #[arg(long, env = "USERS_URL", value_name = "URL", default_value = "http://127.0.0.1:8082")]
    users_url: String,
    /// Orders service.
    #[arg(long, env = "ORDERS_URL", value_name = "URL", default_value = "http://127.0.0.1:8083")]
    orders_url: String,
    /// Storefront, browsed too when set.
    #[arg(long, env = "STOREFRONT_URL", value_name = "URL")]
    storefront_url: Option<String>,
    /// New shoppers per second, e.g. 0.5 or 5.
    #[arg(long, env = "LOADGEN_USERS_PER_SEC", value_name = "N", default_value_t = 1.0, value_parser = users_per_sec)]
    users_per_sec: f64,
    /// How long to run; 0 runs until Ctrl-C or SIGTERM.
    #[arg(long = "duration", env = "LOADGEN_DURATION_SECS", value_name = "SECS", default_value_t = 60)]
    duration_secs: u64,
    /// Admin account for restocks; without it and its password, no restocks.
    #[arg(long, env = "LOADGEN_ADMIN_EMAIL", value_name = "E")]
    admin_email: Option<String>,
    /// The admin's password.
    #[arg(long, env = "LOADGEN_ADMIN_PASSWORD", value_name = "P", hide_env_values = true)]
    admin_password: Option<String>,
    /// Seconds between live progress lines.
    #[arg(long = "progress", value_name = "SECS", default_value_t = 5)]
    progress_secs: u64,
    /// Also write the final table to PATH (Markdown).
    #[arg(long = "report", value_name = "PATH")]
    report_path: Option<PathBuf>,
    /// Exit 1 when any request got an unexpected answer.
    #[arg(long)]
    fail_on_errors: bool,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL of products.
    pub products_url: String,
    /// Base URL of users.
    pub users_url: String,
    /// Base URL of orders.
    pub orders_url: String,
    /// Base URL of the storefront, when there is one to browse.
    pub storefront_url: Option<String>,
    /// New shoppers per second.
    pub users_per_sec: f64,
    /// Run length; `None` runs until Ctrl-C or SIGTERM.
    pub duration: Option<Duration>,
    /// The admin who restocks, as (email, password).
    pub admin: Option<(String, String)>,
    /// Interval of the live progress line.
    pub progress_every: Duration,
    /// Where to write the final table, besides standard output.
    pub report_path: Option<PathBuf>,
    /// Exit 1 on any unexpected answer.
    pub fail_on_errors: bool,
}

impl Settings {
    /// Parses the process's arguments over its environment; on `--help` or a bad option, clap
    /// prints the text and exits (0 or 2).
    pub fn from_args_and_env() -> Self {
        Self::try_from(Cli::parse()).unwrap_or_else(|error| error.exit())
    }

    /// Parses `args` (the program name first) over the environment.
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_from(Cli::try_parse_from(args)?)
    }
}

/// Checks what clap cannot: an empty optional value counts as unset (a Deployment's
/// `value: ""`), and the admin's e-mail and password come as a pair.
impl TryFrom<Cli> for Settings {
    type Error = clap::Error;

    fn try_from(cli: Cli) -> Result<Self, clap::Error> {
        let base = |url: String| url.trim().trim_end_matches('/').to_owned();
        let given = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let admin = match (given(cli.admin_email), given(cli.admin_password)) {
            (Some(email), Some(password)) => Some((email, password)),
            (None, None) => None,
            _ => {
                return Err(<Cli as clap::CommandFactory>::command().error(
                    clap::error::ErrorKind::MissingRequiredArgument,
                    "give both --admin-email and --admin-password (or their variables), or neither",
                ));
            }
        };
        Ok(Self {
            products_url: base(cli.products_url),
            users_url: base(cli.users_url),
            orders_url: base(cli.orders_url),
            storefront_url: given(cli.storefront_url).map(base),
            users_per_sec: cli.users_per_sec,
            duration: (cli.duration_secs > 0).then(|| Duration::from_secs(cli.duration_secs)),
            admin,
            progress_every: Duration::from_secs(cli.progress_secs.max(1)),
            report_path: cli.report_path,
            fail_on_errors: cli.fail_on_errors,
        })
    }
}

/// A rate above 0 and at most 1000 shoppers a second (more would only measure this program).
fn users_per_sec(raw: &str) -> Result<f64, String> {
    let rate: f64 = raw.trim().parse().map_err(|e| format!("{e}"))?;
    if rate > 0.0 && rate <= 1000.0 { Ok(rate) } else { Err("must be above 0 and at most 1000".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        Settings::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied()))
    }

    #[test]
    fn flags_are_read_and_urls_lose_their_trailing_slash() {
        let settings = parse(&[
            "--products-url",
            "http://shop-products:8080/",
            "--users-per-sec",
            "0.5",
            "--duration",
            "0",
            "--fail-on-errors",
            "--admin-email",
            "a@example.com",
            "--admin-password",
            "pw",
        ])
        .expect("valid");
        assert_eq!(settings.products_url, "http://shop-products:8080", "trailing slash trimmed");
        assert_eq!(settings.users_per_sec, 0.5);
        assert_eq!(settings.duration, None, "0 runs until stopped");
        assert!(settings.fail_on_errors);
        assert_eq!(settings.admin, Some(("a@example.com".into(), "pw".into())));
    }

    #[test]
    fn bad_input_is_refused_with_the_flag_named() {
        let cases: &[(&[&str], &str)] = &[
            (&["--users-per-sec", "0"], "--users-per-sec"),
            (&["--users-per-sec", "fast"], "--users-per-sec"),
            (&["--duration=-1"], "--duration"),
            (&["--admin-email", "a@b.c"], "--admin-password"),
            (&["--bogus"], "--bogus"),
            (&["--report"], "--report"),
        ];
        for (list, named) in cases {
            let error = parse(list).expect_err("refused").to_string();
            assert!(error.contains(named), "{list:?}: {error}");
        }
        let help = parse(&["--help"]).expect_err("help is printed by clap");
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("LOADGEN_USERS_PER_SEC"), "the help names the variables");
    }
}
