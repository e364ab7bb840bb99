//! The notifications service's settings.

use std::{path::PathBuf, str::FromStr};

use shopkit::{
    config::{CommonConfig, ConfigError, Secret, optional, parse_or, required},
    service::ServiceConfig,
};

/// The service's client id at users (its `SERVICE_CLIENTS` entry): it reads customers' e-mail
/// addresses with that service token.
pub const CLIENT_ID: &str = "notifications";

/// How the connection to the relay is protected (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// `none` (the default): plain SMTP, for a catcher on the same machine or a relay inside
    /// the cluster that accepts mail from the pods without a login.
    None,
    /// `starttls`: connects in clear and requires STARTTLS before anything else is said (the
    /// submission port, 587); a relay that does not offer it is refused.
    StartTls,
    /// `tls`: TLS from the first byte (implicit TLS, port 465).
    Tls,
}

impl SmtpTls {
    /// The usual port of each mode, used when `SMTP_PORT` is unset.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

impl FromStr for SmtpTls {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            other => Err(format!("{other:?} is not one of none, starttls, tls")),
        }
    }
}

/// The account the service logs in to the relay with (`SMTP_USERNAME`, `SMTP_PASSWORD`).
#[derive(Debug, Clone)]
pub struct SmtpLogin {
    pub username: String,
    pub password: Secret<String>,
}

/// Where e-mails go out.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// `SMTP_HOST`: the relay (a local catcher in dev and compose). With TLS, the name its
    /// certificate must carry.
    pub host: String,
    /// `SMTP_PORT` (default: 25, 587 with `starttls`, 465 with `tls`).
    pub port: u16,
    /// `MAIL_FROM` (default `microshop <orders@microshop.local>`).
    pub from: String,
    /// `SMTP_TLS`.
    pub tls: SmtpTls,
    /// Set when the relay wants a login; only over TLS.
    pub login: Option<SmtpLogin>,
    /// `SMTP_CA_FILE`: a PEM file of authorities trusted besides the system's, for a relay whose
    /// certificate the company signs itself.
    pub ca_file: Option<PathBuf>,
}

impl Smtp {
    /// Plain SMTP to `host:port`, no login: a catcher.
    pub fn plain(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            from: DEFAULT_FROM.to_owned(),
            tls: SmtpTls::None,
            login: None,
            ca_file: None,
        }
    }

    /// Reads the `SMTP_*` and `MAIL_FROM` variables through `var` (the environment, or a map in
    /// tests). A login without TLS is refused: the password would cross the network in clear.
    pub fn from_vars(var: impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let tls = match var("SMTP_TLS") {
            None => SmtpTls::None,
            Some(raw) => raw.trim().parse().map_err(|reason| ConfigError::Invalid { name: "SMTP_TLS", reason })?,
        };
        let port = match var("SMTP_PORT") {
            None => tls.default_port(),
            Some(raw) => raw.trim().parse().map_err(|e: std::num::ParseIntError| ConfigError::Invalid {
                name: "SMTP_PORT",
                reason: e.to_string(),
            })?,
        };
        let login = match (var("SMTP_USERNAME"), var("SMTP_PASSWORD")) {
            (None, None) => None,
            (Some(username), Some(password)) => Some(SmtpLogin { username, password: Secret::new(password) }),
            (Some(_), None) => return Err(ConfigError::Missing("SMTP_PASSWORD")),
            (None, Some(_)) => return Err(ConfigError::Missing("SMTP_USERNAME")),
        };
        if login.is_some() && tls == SmtpTls::None {
            let reason = "a login needs starttls or tls: the password would cross the network in clear".to_owned();
            return Err(ConfigError::Invalid { name: "SMTP_TLS", reason });
        }
        let ca_file = var("SMTP_CA_FILE").map(PathBuf::from);
        if ca_file.is_some() && tls == SmtpTls::None {
            let reason = "SMTP_CA_FILE is only used with starttls or tls".to_owned();
            return Err(ConfigError::Invalid { name: "SMTP_TLS", reason });
        }
        Ok(Self {
            host: var("SMTP_HOST").ok_or(ConfigError::Missing("SMTP_HOST"))?,
            port,
            from: var("MAIL_FROM").unwrap_or_else(|| DEFAULT_FROM.to_owned()),
            tls,
            login,
            ca_file,
        })
    }
}

/// `EMAIL_MAX_AGE_HOURS` as a duration: at least one hour, at most a year.
fn max_age_hours(hours: u32) -> Result<chrono::TimeDelta, ConfigError> {
    if !(1..=8760).contains(&hours) {
        let reason = format!("{hours} is not between 1 and 8760 hours");
        return Err(ConfigError::Invalid { name: "EMAIL_MAX_AGE_HOURS", reason });
    }
    Ok(chrono::TimeDelta::hours(i64::from(hours)))
}

/// The sender when `MAIL_FROM` is unset.
pub const DEFAULT_FROM: &str = "microshop <orders@microshop.local>";

/// Everything the notifications service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, its own database (handled events, sent e-mails), logs, token checks.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`: checks the admin tokens of `/emails`.
    pub jwt_public_key: String,
    /// `NATS_URL`: the JetStream server orders publishes its events to, with the login in it
    /// when the server wants one (`nats://user:password@host`, `nats://token@host`).
    pub nats_url: String,
    pub smtp: Smtp,
    /// `USERS_URL`.
    pub users_url: String,
    /// `SERVICE_CLIENT_SECRET`: its client secret at users.
    pub client_secret: Secret<String>,
    /// `SHOP_URL` (default `http://localhost:8080`): the storefront, for links in e-mails.
    pub shop_url: String,
    /// `EMAIL_MAX_AGE_HOURS` (default 24): an event that happened longer ago gets no e-mail (it
    /// is recorded all the same). E-mails switched on for a shop that has been selling, or a
    /// consumer back after a long outage, would otherwise write to customers about orders of
    /// last month.
    pub email_max_age: chrono::TimeDelta,
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_public_key: required("JWT_PUBLIC_KEY")?,
            nats_url: required("NATS_URL")?,
            smtp: Smtp::from_vars(optional)?,
            users_url: required("USERS_URL")?,
            client_secret: Secret::new(required("SERVICE_CLIENT_SECRET")?),
            shop_url: parse_or("SHOP_URL", "http://localhost:8080".to_owned())?,
            email_max_age: max_age_hours(parse_or("EMAIL_MAX_AGE_HOURS", 24)?)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn smtp(vars: &[(&'static str, &str)]) -> Result<Smtp, ConfigError> {
        let vars: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Smtp::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn each_mode_has_its_usual_port_and_a_login_needs_tls() {
        let plain = smtp(&[("SMTP_HOST", "mail")]).expect("plain");
        assert_eq!((plain.tls, plain.port, plain.from.as_str()), (SmtpTls::None, 25, DEFAULT_FROM));
        assert!(plain.login.is_none());
        let submission = smtp(&[
            ("SMTP_HOST", "smtp.example.com"),
            ("SMTP_TLS", "starttls"),
            ("SMTP_USERNAME", "shop"),
            ("SMTP_PASSWORD", "s3cret"),
        ])
        .expect("starttls");
        assert_eq!((submission.tls, submission.port), (SmtpTls::StartTls, 587));
        assert_eq!(submission.login.as_ref().map(|l| l.username.as_str()), Some("shop"));
        let implicit =
            smtp(&[("SMTP_HOST", "smtp.example.com"), ("SMTP_TLS", "tls"), ("SMTP_PORT", "2465")]).expect("tls");
        assert_eq!((implicit.tls, implicit.port), (SmtpTls::Tls, 2465));

        let in_clear = smtp(&[("SMTP_HOST", "mail"), ("SMTP_USERNAME", "shop"), ("SMTP_PASSWORD", "s3cret")]);
        assert!(matches!(in_clear, Err(ConfigError::Invalid { name: "SMTP_TLS", .. })), "{in_clear:?}");
        let half = smtp(&[("SMTP_HOST", "mail"), ("SMTP_TLS", "tls"), ("SMTP_USERNAME", "shop")]);
        assert!(matches!(half, Err(ConfigError::Missing("SMTP_PASSWORD"))), "{half:?}");
        let unknown = smtp(&[("SMTP_HOST", "mail"), ("SMTP_TLS", "ssl")]);
        assert!(matches!(unknown, Err(ConfigError::Invalid { name: "SMTP_TLS", .. })), "{unknown:?}");
        let ca_in_clear = smtp(&[("SMTP_HOST", "mail"), ("SMTP_CA_FILE", "/etc/ca.pem")]);
        assert!(ca_in_clear.is_err(), "a CA file without TLS is a mistake worth saying");
        assert!(matches!(smtp(&[]), Err(ConfigError::Missing("SMTP_HOST"))));
    }

    #[test]
    fn the_age_limit_of_e_mails_is_between_an_hour_and_a_year() {
        assert_eq!(max_age_hours(24).expect("a day"), chrono::TimeDelta::days(1));
        assert!(max_age_hours(0).is_err(), "0 would e-mail nobody");
        assert!(max_age_hours(8761).is_err());
    }
}
