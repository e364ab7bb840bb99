//! Settings from flags, falling back to environment variables (the names a Kubernetes
//! Deployment sets), falling back to the addresses of `cargo xtask dev`.

use std::{path::PathBuf, time::Duration};

/// What `--help` prints.
pub const USAGE: &str = "\
usage: loadgen [options]

  --products-url URL     products service    (env PRODUCTS_URL, default http://127.0.0.1:8081)
  --users-url URL        users service       (env USERS_URL,    default http://127.0.0.1:8082)
  --orders-url URL       orders service      (env ORDERS_URL,   default http://127.0.0.1:8083)
  --storefront-url URL   storefront, browsed too when set (env STOREFRONT_URL)
  --users-per-sec N      new shoppers per second, e.g. 0.5 or 5 (env LOADGEN_USERS_PER_SEC, default 1)
  --duration SECS        how long to run; 0 runs until Ctrl-C (env LOADGEN_DURATION_SECS, default 60)
  --admin-email E        admin account for restocks (env LOADGEN_ADMIN_EMAIL)
  --admin-password P     its password (env LOADGEN_ADMIN_PASSWORD); without both, no restocks
  --progress SECS        seconds between live progress lines (default 5)
  --report PATH          also write the final table to PATH (Markdown)
  --fail-on-errors       exit 1 when any request got an unexpected answer
  --help                 this text

When running until stopped, the table is printed and reset every 60 s as well.";

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

/// A bad flag or value.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `--help` was asked for.
    #[error("help requested")]
    Help,
    /// A flag this program does not know.
    #[error("unknown option `{0}`")]
    UnknownFlag(String),
    /// A flag without its value.
    #[error("option `{0}` needs a value")]
    MissingValue(String),
    /// A value that does not parse or is out of range.
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Parses `args` (without the program name) over the environment.
    pub fn from_args_and_env(args: impl IntoIterator<Item = String>) -> Result<Self, SettingsError> {
        Self::parse(args, env)
    }

    /// Parses `args` over the variables `lookup` gives (a seam for tests).
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let mut flags = std::collections::HashMap::new();
        let mut fail_on_errors = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--help" | "-h" => return Err(SettingsError::Help),
                "--fail-on-errors" => fail_on_errors = true,
                flag if KNOWN_VALUE_FLAGS.contains(&flag) => {
                    let value = args.next().ok_or_else(|| SettingsError::MissingValue(arg.clone()))?;
                    flags.insert(flag.to_owned(), value);
                }
                _ => return Err(SettingsError::UnknownFlag(arg)),
            }
        }
        let get = |flag: &str, var: &str| flags.get(flag).cloned().or_else(|| lookup(var));
        let url = |flag: &str, var: &str, default: &str| {
            get(flag, var).unwrap_or_else(|| default.to_owned()).trim_end_matches('/').to_owned()
        };
        let users_per_sec: f64 = parse(get("--users-per-sec", "LOADGEN_USERS_PER_SEC"), 1.0, "--users-per-sec")?;
        if !(users_per_sec > 0.0 && users_per_sec <= 1000.0) {
            return Err(SettingsError::Invalid("--users-per-sec", "must be above 0 and at most 1000".into()));
        }
        let duration_secs: u64 = parse(get("--duration", "LOADGEN_DURATION_SECS"), 60, "--duration")?;
        let progress_secs: u64 = parse(flags.get("--progress").cloned(), 5, "--progress")?;
        let admin =
            match (get("--admin-email", "LOADGEN_ADMIN_EMAIL"), get("--admin-password", "LOADGEN_ADMIN_PASSWORD")) {
                (Some(email), Some(password)) => Some((email, password)),
                (None, None) => None,
                _ => {
                    return Err(SettingsError::Invalid(
                        "admin",
                        "give both the admin e-mail and password, or neither".into(),
                    ));
                }
            };
        Ok(Self {
            products_url: url("--products-url", "PRODUCTS_URL", "http://127.0.0.1:8081"),
            users_url: url("--users-url", "USERS_URL", "http://127.0.0.1:8082"),
            orders_url: url("--orders-url", "ORDERS_URL", "http://127.0.0.1:8083"),
            storefront_url: get("--storefront-url", "STOREFRONT_URL").map(|u| u.trim_end_matches('/').to_owned()),
            users_per_sec,
            duration: (duration_secs > 0).then(|| Duration::from_secs(duration_secs)),
            admin,
            progress_every: Duration::from_secs(progress_secs.max(1)),
            report_path: flags.get("--report").map(PathBuf::from),
            fail_on_errors,
        })
    }
}

/// Flags that take a value.
const KNOWN_VALUE_FLAGS: &[&str] = &[
    "--products-url",
    "--users-url",
    "--orders-url",
    "--storefront-url",
    "--users-per-sec",
    "--duration",
    "--admin-email",
    "--admin-password",
    "--progress",
    "--report",
];

fn parse<T: std::str::FromStr>(raw: Option<String>, default: T, what: &'static str) -> Result<T, SettingsError>
where
    T::Err: std::fmt::Display,
{
    match raw {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e: T::Err| SettingsError::Invalid(what, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_override_the_environment_which_overrides_the_defaults() {
        let lookup = |name: &str| match name {
            "PRODUCTS_URL" => Some("http://shop-products:8080/".to_owned()),
            "LOADGEN_USERS_PER_SEC" => Some("3".to_owned()),
            "LOADGEN_DURATION_SECS" => Some("0".to_owned()),
            _ => None,
        };
        let settings = Settings::parse(args(&["--users-per-sec", "0.5", "--fail-on-errors"]), lookup).expect("valid");
        assert_eq!(settings.products_url, "http://shop-products:8080", "env, trailing slash trimmed");
        assert_eq!(settings.users_url, "http://127.0.0.1:8082", "default");
        assert_eq!(settings.users_per_sec, 0.5, "flag over env");
        assert_eq!(settings.duration, None, "0 runs until stopped");
        assert!(settings.fail_on_errors);
        assert!(settings.admin.is_none());
    }

    #[test]
    fn bad_input_is_refused_with_the_flag_named() {
        let none = |_: &str| None;
        let cases: &[(&[&str], &str)] = &[
            (&["--users-per-sec", "0"], "--users-per-sec"),
            (&["--users-per-sec", "fast"], "--users-per-sec"),
            (&["--duration", "-1"], "--duration"),
            (&["--admin-email", "a@b.c"], "admin"),
            (&["--bogus"], "--bogus"),
            (&["--report"], "--report"),
        ];
        for (list, named) in cases {
            let error = Settings::parse(args(list), none).expect_err("refused").to_string();
            assert!(error.contains(named), "{list:?}: {error}");
        }
        assert!(matches!(Settings::parse(args(&["--help"]), none), Err(SettingsError::Help)));
    }
}
