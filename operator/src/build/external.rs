//! `database.mode: external`: the services connect to PostgreSQL servers the user runs, with
//! a `postgres://` URI per service in Secrets the user made. The operator creates no database
//! object; it checks the Secrets exist and rolls a service when its URI changes.

use super::{Microservice, database::Backend};
use crate::crd::{SecretKeyRef, Shop, ShopSpec, SslMode};

/// The external mode's answers.
pub struct External;

impl Backend for External {
    fn describe(&self) -> &'static str {
        "external PostgreSQL"
    }

    fn validate(&self, spec: &ShopSpec, errors: &mut Vec<String>) {
        let Some(ext) = &spec.database.external else {
            errors.push("database.external is required when database.mode is external".into());
            return;
        };
        if spec.storefront.enabled && ext.storefront.is_none() {
            errors.push(
                "database.external.storefront is required when the storefront is enabled in external mode".into(),
            );
        }
        if spec.notifications.smtp.is_some() && ext.notifications.is_none() {
            errors.push(
                "database.external.notifications is required when notifications runs (notifications.smtp) in \
                 external mode"
                    .into(),
            );
        }
    }

    fn uri(&self, shop: &Shop, service: Microservice) -> Option<SecretKeyRef> {
        let ext = shop.spec.database.external.as_ref()?;
        match service {
            Microservice::Products => Some(ext.products.clone()),
            Microservice::Users => Some(ext.users.clone()),
            Microservice::Orders => Some(ext.orders.clone()),
            Microservice::Payments => Some(ext.payments.clone()),
            Microservice::Storefront => ext.storefront.clone(),
            Microservice::Notifications => ext.notifications.clone(),
        }
    }

    /// Nothing is added to the URIs unless `database.tls` says so.
    fn tls(&self, shop: &Shop, _service: Microservice) -> Option<(SslMode, Option<SecretKeyRef>)> {
        let tls = &shop.spec.database.tls;
        tls.ssl_mode.map(|mode| (mode, tls.ca_secret.clone()))
    }

    fn uris_from_user_secrets(&self) -> bool {
        true
    }
}
