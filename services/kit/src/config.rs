//! Configuration from environment variables, parsed once at start into typed values.
//!
//! Every service reads the same common settings ([`CommonConfig`]); service-specific
//! settings use the same helpers so a bad value always fails with the variable's name.

use std::{fmt, net::SocketAddr, str::FromStr};

/// A configuration problem, naming the variable so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// A variable is set but its value cannot be used.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// What is wrong with it (never the value itself, which may be a secret).
        reason: String,
    },
}

/// A value that must not appear in logs or `Debug` output (passwords, keys, URLs with
/// credentials). Read it with [`Secret::expose`] at the one place that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a sensitive value.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The wrapped value; call sites are the places to audit for leaks.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The variable's value, or `None` when unset or blank (blank counts as unset so an empty
/// line in an env file does not produce a confusing parse error).
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The variable's value, or an error naming it.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::Missing(name))
}

/// Parses the variable, falling back to `default` when it is unset.
pub fn parse_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: e.to_string() }),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors (the default).
    Json,
    /// Human-readable one-line-per-event output for a terminal.
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            other => Err(format!("expected `json` or `pretty`, got `{other}`")),
        }
    }
}

/// Settings every service shares.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// Where the HTTP server listens (`LISTEN_ADDR`, default `0.0.0.0:8080`).
    pub listen_addr: SocketAddr,
    /// Connection string of the service's own database (`DATABASE_URL`).
    pub database_url: Secret<String>,
    /// Host of a read-only replica of the same database (`DATABASE_READ_HOST`, optional; see
    /// [`crate::db`]): only the products service sends reads there.
    pub database_read_host: Option<String>,
    /// Pool size (`DATABASE_MAX_CONNECTIONS`, default 10).
    pub database_max_connections: u32,
    /// Log output format (`LOG_FORMAT`, default json).
    pub log_format: LogFormat,
    /// Expected `iss` of tokens (`JWT_ISSUER`).
    pub jwt_issuer: String,
    /// Expected `aud` of tokens (`JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// Largest request body accepted (`MAX_BODY_BYTES`, default 64 KiB); read here so a bad
    /// value stops the start, and applied by [`crate::edge`].
    pub max_body_bytes: usize,
}

/// Default `iss` of the tokens the users service issues.
pub const DEFAULT_JWT_ISSUER: &str = "microshop-users";
/// Default `aud` of the tokens: the whole shop is one audience.
pub const DEFAULT_JWT_AUDIENCE: &str = "microshop";

impl CommonConfig {
    /// Reads the common settings from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            listen_addr: parse_or("LISTEN_ADDR", SocketAddr::from(([0, 0, 0, 0], 8080)))?,
            database_url: Secret::new(required("DATABASE_URL")?),
            database_read_host: optional("DATABASE_READ_HOST"),
            database_max_connections: parse_or("DATABASE_MAX_CONNECTIONS", 10)?,
            log_format: parse_or("LOG_FORMAT", LogFormat::Json)?,
            jwt_issuer: optional("JWT_ISSUER").unwrap_or_else(|| DEFAULT_JWT_ISSUER.to_owned()),
            jwt_audience: optional("JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_JWT_AUDIENCE.to_owned()),
            max_body_bytes: parse_or("MAX_BODY_BYTES", crate::edge::DEFAULT_MAX_BODY_BYTES)?,
        })
    }

    /// The defaults of [`CommonConfig::from_env`] for a process on 127.0.0.1 with a port the
    /// system picks, over `database_url`: services started inside tests.
    pub fn local(database_url: &str) -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Secret::new(database_url.to_owned()),
            database_read_host: None,
            database_max_connections: 10,
            log_format: LogFormat::Json,
            jwt_issuer: DEFAULT_JWT_ISSUER.to_owned(),
            jwt_audience: DEFAULT_JWT_AUDIENCE.to_owned(),
            max_body_bytes: crate::edge::DEFAULT_MAX_BODY_BYTES,
        }
    }
}
