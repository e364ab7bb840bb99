//! How the services are reachable: ClusterIP, NodePort with fixed ports, an Ingress, a
//! Gateway API HTTPRoute.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{HttpRouteSpec, IngressSpec};

/// How the services (and Jaeger's UI) are exposed.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExposureSpec {
    /// `ClusterIP` (in-cluster only) or `NodePort` (fixed ports on every node).
    #[serde(default, rename = "type")]
    pub type_: ExposureType,
    /// Fixed node ports, used when `type` is `NodePort` (kind maps them to the host).
    #[serde(default)]
    pub node_ports: NodePorts,
    /// An Ingress for the storefront.
    #[serde(default)]
    pub ingress: IngressSpec,
    /// A Gateway API HTTPRoute for the storefront.
    #[serde(default)]
    pub http_route: HttpRouteSpec,
}

/// Kubernetes Service types the operator supports.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExposureType {
    #[default]
    ClusterIP,
    NodePort,
}

/// One node port per exposed Service; they must differ.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new(
    "[self.products, self.users, self.orders, self.payments, self.jaeger, self.storefront, self.notifications].all(p, [self.products, self.users, self.orders, self.payments, self.jaeger, self.storefront, self.notifications].filter(q, q == p).size() == 1)"
).message("node ports must differ"))]
pub struct NodePorts {
    /// Node port of the products Service.
    #[serde(default = "port_products")]
    #[schemars(range(min = 30000, max = 32767))]
    pub products: i32,
    /// Node port of the users Service.
    #[serde(default = "port_users")]
    #[schemars(range(min = 30000, max = 32767))]
    pub users: i32,
    /// Node port of the orders Service.
    #[serde(default = "port_orders")]
    #[schemars(range(min = 30000, max = 32767))]
    pub orders: i32,
    /// Node port of the payments Service.
    #[serde(default = "port_payments")]
    #[schemars(range(min = 30000, max = 32767))]
    pub payments: i32,
    /// Port of the Jaeger UI.
    #[serde(default = "port_jaeger")]
    #[schemars(range(min = 30000, max = 32767))]
    pub jaeger: i32,
    /// Node port of the storefront Service (the web shop).
    #[serde(default = "port_storefront")]
    #[schemars(range(min = 30000, max = 32767))]
    pub storefront: i32,
    /// Node port of the notifications Service (its `/emails` for staff).
    #[serde(default = "port_notifications")]
    #[schemars(range(min = 30000, max = 32767))]
    pub notifications: i32,
}

impl Default for NodePorts {
    fn default() -> Self {
        Self {
            products: port_products(),
            users: port_users(),
            orders: port_orders(),
            payments: port_payments(),
            jaeger: port_jaeger(),
            storefront: port_storefront(),
            notifications: port_notifications(),
        }
    }
}

fn port_products() -> i32 {
    30080
}
fn port_users() -> i32 {
    30081
}
fn port_orders() -> i32 {
    30082
}
fn port_payments() -> i32 {
    30083
}
fn port_jaeger() -> i32 {
    30686
}
fn port_storefront() -> i32 {
    30000
}
fn port_notifications() -> i32 {
    30084
}
