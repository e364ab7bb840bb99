//! Order events and the e-mails sent for them: the NATS JetStream server orders publishes its
//! events to (run by the operator or provided), and the SMTP relay of the notifications
//! service.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{QUANTITY, Resources, SecretKeyRef};

/// Where orders publishes its order events (NATS JetStream) and notifications reads them.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.mode != 'external' || has(self.external)")
    .message("events.external (the NATS URL) is required when mode is external"))]
pub struct EventsSpec {
    /// `managed`: a one-pod NATS with JetStream, run by the operator while the notifications
    /// service runs (nothing else reads the events); `external`: a NATS server at
    /// `external.url`, which orders always publishes to.
    #[serde(default)]
    pub mode: EventsMode,
    /// Settings of the managed NATS (ignored in `external` mode).
    #[serde(default)]
    pub managed: ManagedNatsSpec,
    /// The NATS server the user runs (required in `external` mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalNats>,
}

/// Who runs the NATS server.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum EventsMode {
    #[default]
    Managed,
    External,
}

/// The NATS the operator runs: one StatefulSet pod, JetStream on a claim.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = super::database::storage_size_unchanged())]
#[x_kube(validation = super::database::storage_class_unchanged())]
pub struct ManagedNatsSpec {
    /// NATS server image (2.10 or newer; started as `nats-server --jetstream`).
    #[serde(default = "default_nats_image")]
    #[schemars(length(min = 1, max = 300))]
    pub image: String,
    /// Size of the JetStream store's PersistentVolumeClaim.
    #[serde(default = "default_nats_storage_size")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY))]
    pub storage_size: String,
    /// StorageClass of the claim; the cluster default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class_name: Option<String>,
    /// Resources of the NATS container.
    #[serde(default = "Resources::nats")]
    pub resources: Resources,
}

impl Default for ManagedNatsSpec {
    fn default() -> Self {
        Self {
            image: default_nats_image(),
            storage_size: default_nats_storage_size(),
            storage_class_name: None,
            resources: Resources::nats(),
        }
    }
}

fn default_nats_image() -> String {
    "docker.io/library/nats:2.10-alpine".into()
}

fn default_nats_storage_size() -> String {
    "1Gi".into()
}

/// A NATS server (with JetStream) outside the shop: its URL, or a Secret key holding it when
/// the URL carries a login.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("has(self.url) != has(self.urlSecret)")
    .message("events.external needs one of url and urlSecret"))]
pub struct ExternalNats {
    /// `NATS_URL` of orders and notifications, e.g. `nats://nats.infra:4222` (several servers
    /// separated by commas), for a server that wants no login. It is not secret: a URL with a
    /// login goes in `urlSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500), regex(pattern = r"^(nats|tls)://[^\s,@]+(,(nats|tls)://[^\s,@]+)*$"))]
    pub url: Option<String>,
    /// A Secret key holding `NATS_URL` with its login: `nats://user:password@host:4222`
    /// (percent-encode `@` and `:` in the password) or `nats://token@host:4222`. A changed URL
    /// rolls orders and notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret: Option<SecretKeyRef>,
}

impl ExternalNats {
    /// A server at `url` that wants no login.
    pub fn at(url: &str) -> Self {
        Self { url: Some(url.into()), url_secret: None }
    }
}

/// The notifications service: e-mails to customers for their orders' events.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsSpec {
    /// The SMTP relay the e-mails go out through. The notifications service (and, in `managed`
    /// events mode, the NATS it reads) runs only when this is set: without a relay there is
    /// nowhere to send to. Its replicas, resources and log level are `services.notifications`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSpec>,
    /// `SHOP_URL`, the storefront's address in the e-mails' links. Unset, the operator uses the
    /// Ingress host or the HTTPRoute's first hostname (`https` when TLS is on), and without
    /// either the service's own default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500), regex(pattern = r"^https?://\S+$"))]
    pub shop_url: Option<String>,
    /// `EMAIL_MAX_AGE_HOURS`: an order event that happened longer ago gets no e-mail (it is
    /// recorded all the same), so switching e-mails on for a shop that has been selling writes
    /// no customer about last month's orders. Unset, the service's default, 24.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 8760))]
    pub email_max_age_hours: Option<i32>,
}

/// The SMTP relay the notifications pods send through: a relay inside the cluster that takes
/// plain SMTP, or a provider's submission port with TLS and a login.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("self.tls != 'none' || !has(self.credentialsSecret)")
    .message("smtp.credentialsSecret needs tls starttls or tls: the password would cross the network in clear"))]
#[x_kube(validation = kube::core::Rule::new("self.tls != 'none' || !has(self.caSecret)")
    .message("smtp.caSecret needs tls starttls or tls"))]
pub struct SmtpSpec {
    /// `SMTP_HOST`: host name or IP address of the relay, e.g. `postfix.mail.svc`. With TLS,
    /// the name its certificate must carry.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$"))]
    pub host: String,
    /// `SMTP_PORT`; unset, the usual port of `tls`: 25 (`none`), 587 (`starttls`), 465 (`tls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
    /// `SMTP_TLS`: `none` (plain SMTP), `starttls` (required before anything else is said; a
    /// relay that does not offer it is refused) or `tls` (TLS from the first byte). The relay's
    /// certificate is checked against the system's authorities.
    #[serde(default)]
    pub tls: SmtpTls,
    /// A Secret of the Shop's namespace holding the login, keys `username` and `password` (the
    /// `kubernetes.io/basic-auth` layout): `SMTP_USERNAME` and `SMTP_PASSWORD`. Needs `tls`.
    /// A changed password rolls the notifications pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub credentials_secret: Option<String>,
    /// A Secret key holding the PEM of an authority trusted besides the system's, for a relay
    /// whose certificate the company signs itself: mounted, and named by `SMTP_CA_FILE`. Needs
    /// `tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<SecretKeyRef>,
    /// `MAIL_FROM`: the sender, `name <address>` or an address; the service's default
    /// (`microshop <orders@microshop.local>`) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 320), regex(pattern = r"^([^<>]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$"))]
    pub from: Option<String>,
}

impl SmtpSpec {
    /// A plain relay at `host` on its usual port.
    pub fn plain(host: &str) -> Self {
        Self {
            host: host.into(),
            port: None,
            tls: SmtpTls::None,
            credentials_secret: None,
            ca_secret: None,
            from: None,
        }
    }
}

/// How the connection to the relay is protected.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    #[default]
    None,
    #[serde(rename = "starttls")]
    StartTls,
    Tls,
}

impl SmtpTls {
    /// The value of `SMTP_TLS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }
}

/// The keys of a `credentialsSecret`.
pub const SMTP_USERNAME_KEY: &str = "username";
pub const SMTP_PASSWORD_KEY: &str = "password";
