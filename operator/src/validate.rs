//! Checks of a Shop that the reconciler needs to hold, pure and independent of the API server.
//!
//! The CRD schema and its CEL rules reject most bad Shops at admission; these checks repeat the
//! cross-field ones so that a Shop stored before a schema change, or applied while the CRD was
//! older, is reported as invalid (condition + Event) instead of producing broken children.

use kube::ResourceExt;

use crate::crd::{EventsMode, ExposureType, Shop};

/// Longest Shop name: `<name>-payments-db-0` and its controller-revision label must stay
/// within the 63 characters of a DNS label.
pub const MAX_NAME_LEN: usize = 40;

/// A Shop's name, known to be a DNS label of at most [`MAX_NAME_LEN`] characters, so every
/// child name built from it (`<name>-payments-db-0`, ...) is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopName(String);

impl ShopName {
    /// Checks a name; the error says which rule it breaks.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.len() > MAX_NAME_LEN {
            return Err(format!("metadata.name is longer than {MAX_NAME_LEN} characters"));
        }
        if !is_dns_label(name) {
            return Err(
                "metadata.name must be a DNS label (lowercase letters, digits, '-', starting with a letter)".into()
            );
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Shop that passed [`validate`]: the only way to get one, so code that takes a `ValidShop`
/// cannot be handed an unchecked Shop.
#[derive(Clone, Copy, Debug)]
pub struct ValidShop<'a> {
    shop: &'a Shop,
}

impl<'a> ValidShop<'a> {
    /// The checked Shop.
    pub fn shop(&self) -> &'a Shop {
        self.shop
    }

    /// Its checked name.
    pub fn name(&self) -> ShopName {
        ShopName(self.shop.name_any())
    }
}

/// Every problem found in a Shop, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Shop: {}", .0.join("; "))]
pub struct SpecErrors(pub Vec<String>);

/// Validates a Shop; `Ok` means the build functions produce valid objects for it.
pub fn validate(shop: &Shop) -> Result<ValidShop<'_>, SpecErrors> {
    let mut errors = Vec::new();
    if let Err(problem) = ShopName::parse(&shop.name_any()) {
        errors.push(problem);
    }
    let spec = &shop.spec;
    crate::build::database::backend(&spec.database).validate(spec, &mut errors);
    let route = &spec.exposure.http_route;
    if route.enabled && route.parent_refs.is_empty() {
        errors.push("exposure.httpRoute.parentRefs must name at least one Gateway when the route is enabled".into());
    }
    if spec.events.mode == EventsMode::External && spec.events.external.is_none() {
        errors.push("events.external (the NATS URL) is required when events.mode is external".into());
    }
    if let Some(external) = &spec.events.external
        && external.url.is_some() == external.url_secret.is_some()
    {
        errors.push("events.external needs one of url and urlSecret".into());
    }
    if spec.tracing.jaeger.enabled && spec.tracing.jaeger.image.contains("all-in-one") {
        errors.push(
            "tracing.jaeger.image must be a Jaeger v2 image (jaegertracing/jaeger:2.x); all-in-one 1.x is end-of-life"
                .into(),
        );
    }
    if spec.faults.payment_failure_rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
        errors.push("faults.paymentFailureRate must be between 0 and 1".into());
    }
    let rate = spec.load_generator.users_per_second;
    if spec.load_generator.enabled && !(rate.is_finite() && rate > 0.0) {
        errors.push("loadGenerator.usersPerSecond must be above 0".into());
    }
    if spec.tracing.otlp_endpoint.is_some() && spec.tracing.jaeger.enabled {
        errors.push("set either tracing.otlpEndpoint or tracing.jaeger.enabled, not both".into());
    }
    if !(0.0..=1.0).contains(&spec.tracing.sample_ratio) {
        errors.push("tracing.sampleRatio must be between 0 and 1".into());
    }
    if !(0.0..=1.0).contains(&spec.payments.failure_rate) {
        errors.push("payments.failureRate must be between 0 and 1".into());
    }
    if spec.exposure.type_ == ExposureType::NodePort {
        let p = &spec.exposure.node_ports;
        let mut ports = vec![p.products, p.users, p.orders, p.payments];
        if spec.tracing.jaeger.enabled {
            ports.push(p.jaeger);
        }
        if spec.storefront.enabled {
            ports.push(p.storefront);
        }
        if crate::build::Microservice::Notifications.runs(shop) {
            ports.push(p.notifications);
        }
        let wanted = ports.len();
        if ports.iter().any(|port| !(30000..=32767).contains(port)) {
            errors.push("exposure.nodePorts must be within 30000-32767".into());
        }
        ports.sort_unstable();
        ports.dedup();
        if ports.len() < wanted {
            errors.push("exposure.nodePorts must differ".into());
        }
    }
    // The users service refuses to start on a malformed bootstrap e-mail; catch it here.
    if shopcore::email::normalise(&spec.auth.bootstrap_admin_email).is_err() {
        errors.push("auth.bootstrapAdminEmail must be an e-mail address such as admin@example.com".into());
    }
    for service in crate::build::Microservice::ALL {
        let replicas = service.spec(shop).replicas;
        if replicas < 0 {
            errors.push(format!("services.{}.replicas must not be negative", service.name()));
        }
    }
    if errors.is_empty() { Ok(ValidShop { shop }) } else { Err(SpecErrors(errors)) }
}

fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::shop;
    use crate::crd::{DatabaseMode, ExternalDatabases, SecretKeyRef, SmtpSpec};

    #[test]
    fn the_default_shop_is_valid() {
        let s = shop("demo");
        let valid = validate(&s).expect("valid");
        assert_eq!(valid.name().as_str(), "demo");
        assert!(std::ptr::eq(valid.shop(), &s));
    }

    #[test]
    fn shop_names_are_dns_labels_of_at_most_40_characters() {
        let cases = [
            ("demo", true),
            ("a", true),
            (&"a".repeat(40), true),
            (&"a".repeat(41), false),
            ("Demo", false),
            ("1shop", false),
            ("shop-", false),
            ("my.shop", false),
            ("", false),
        ];
        for (name, ok) in cases {
            assert_eq!(ShopName::parse(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn each_rule_reports_its_field() {
        type Edit = fn(&mut Shop);
        let cases: [(&str, Edit, &str); 18] = [
            ("long name", |s| s.metadata.name = Some("a".repeat(41)), "longer than 40"),
            ("dotted name", |s| s.metadata.name = Some("my.shop".into()), "DNS label"),
            ("external without refs", |s| s.spec.database.mode = DatabaseMode::External, "database.external"),
            (
                "both tracing targets",
                |s| {
                    s.spec.tracing.jaeger.enabled = true;
                    s.spec.tracing.otlp_endpoint = Some("http://x:4317".into());
                },
                "not both",
            ),
            ("sample ratio", |s| s.spec.tracing.sample_ratio = 1.5, "sampleRatio"),
            ("failure rate", |s| s.spec.payments.failure_rate = -0.1, "failureRate"),
            (
                "same node port",
                |s| {
                    s.spec.exposure.type_ = ExposureType::NodePort;
                    s.spec.exposure.node_ports.users = s.spec.exposure.node_ports.products;
                },
                "must differ",
            ),
            ("negative replicas", |s| s.spec.services.orders.replicas = -1, "services.orders.replicas"),
            ("admin e-mail", |s| s.spec.auth.bootstrap_admin_email = "admin@localhost".into(), "bootstrapAdminEmail"),
            (
                "admin e-mail with two @",
                |s| s.spec.auth.bootstrap_admin_email = "ada@@example.com".into(),
                "bootstrapAdminEmail",
            ),
            (
                "external without a storefront database",
                |s| {
                    let r = SecretKeyRef { name: "pg".into(), key: "uri".into() };
                    s.spec.database.mode = DatabaseMode::External;
                    s.spec.database.external = Some(ExternalDatabases {
                        products: r.clone(),
                        users: r.clone(),
                        orders: r.clone(),
                        payments: r,
                        storefront: None,
                        notifications: None,
                    });
                },
                "database.external.storefront",
            ),
            (
                "jaeger v1",
                |s| {
                    s.spec.tracing.jaeger.enabled = true;
                    s.spec.tracing.jaeger.image = "jaegertracing/all-in-one:1.62.0".into();
                },
                "Jaeger v2",
            ),
            ("fault rate", |s| s.spec.faults.payment_failure_rate = Some(2.0), "faults.paymentFailureRate"),
            (
                "storefront node port",
                |s| {
                    s.spec.exposure.type_ = ExposureType::NodePort;
                    s.spec.exposure.node_ports.storefront = s.spec.exposure.node_ports.orders;
                },
                "must differ",
            ),
            (
                "replica reads without replicas",
                |s| {
                    s.spec.database.mode = DatabaseMode::CloudNativePg;
                    s.spec.database.cloudnativepg.instances = 1;
                    s.spec.database.cloudnativepg.product_reads_from_replicas = true;
                },
                "productReadsFromReplicas needs instances >= 2",
            ),
            ("route without a gateway", |s| s.spec.exposure.http_route.enabled = true, "httpRoute.parentRefs"),
            ("external events without a url", |s| s.spec.events.mode = EventsMode::External, "events.external"),
            (
                "external without a notifications database",
                |s| {
                    let r = SecretKeyRef { name: "pg".into(), key: "uri".into() };
                    s.spec.notifications.smtp = Some(SmtpSpec::plain("mail"));
                    s.spec.database.mode = DatabaseMode::External;
                    s.spec.database.external = Some(ExternalDatabases {
                        products: r.clone(),
                        users: r.clone(),
                        orders: r.clone(),
                        payments: r.clone(),
                        storefront: Some(r),
                        notifications: None,
                    });
                },
                "database.external.notifications",
            ),
        ];
        for (what, edit, expected) in cases {
            let mut s = shop("demo");
            edit(&mut s);
            let errors = validate(&s).expect_err(what);
            assert!(errors.to_string().contains(expected), "{what}: {errors}");
        }
    }

    #[test]
    fn duplicate_jaeger_port_only_matters_with_jaeger() {
        let mut s = shop("demo");
        s.spec.exposure.type_ = ExposureType::NodePort;
        s.spec.exposure.node_ports.jaeger = s.spec.exposure.node_ports.products;
        assert!(validate(&s).is_ok());
        s.spec.tracing.jaeger.enabled = true;
        assert!(validate(&s).is_err());
    }

    #[test]
    fn duplicate_notifications_port_only_matters_when_it_runs() {
        let mut s = shop("demo");
        s.spec.exposure.type_ = ExposureType::NodePort;
        s.spec.exposure.node_ports.notifications = s.spec.exposure.node_ports.users;
        assert!(validate(&s).is_ok(), "no SMTP relay: notifications does not run");
        s.spec.notifications.smtp = Some(SmtpSpec::plain("mail"));
        assert!(validate(&s).is_err());
    }
}
