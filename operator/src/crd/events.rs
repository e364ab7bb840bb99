//! Order events and the e-mails sent for them: the NATS JetStream server orders publishes its
//! events to (run by the operator or provided), and the SMTP relay of the notifications
//! service.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{QUANTITY, Resources};

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
#[x_kube(validation = kube::core::Rule::new("self.storageSize == oldSelf.storageSize")
    .message("storageSize cannot change: StatefulSet claim templates are immutable"))]
#[x_kube(validation = kube::core::Rule::new(
    "has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)"
).message("storageClassName cannot change: StatefulSet claim templates are immutable"))]
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

/// A NATS server (with JetStream) outside the shop.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalNats {
    /// `NATS_URL` of orders and notifications, e.g. `nats://nats.infra:4222` (several servers
    /// separated by commas). It is not secret: put no credentials in it.
    #[schemars(length(min = 1, max = 500), regex(pattern = r"^(nats|tls)://[^\s,]+(,(nats|tls)://[^\s,]+)*$"))]
    pub url: String,
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
}

/// An SMTP relay that accepts mail from the notifications pods (plain SMTP: no STARTTLS, no
/// authentication).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SmtpSpec {
    /// `SMTP_HOST`: host name or IP address of the relay, e.g. `postfix.mail.svc`.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$"))]
    pub host: String,
    /// `SMTP_PORT`.
    #[serde(default = "default_smtp_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// `MAIL_FROM`: the sender, `name <address>` or an address; the service's default
    /// (`microshop <orders@microshop.local>`) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 320), regex(pattern = r"^([^<>]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$"))]
    pub from: Option<String>,
}

fn default_smtp_port() -> i32 {
    25
}
