//! Pure computation of a Shop's status from what the reconciler observed.
//!
//! Deterministic on purpose: a condition keeps its `lastTransitionTime` unless its `status`
//! changes, lists are sorted, so an unchanged world yields an identical status, the reconciler
//! writes nothing, and no watch event re-triggers a reconcile.

use std::collections::BTreeMap;

use kube::ResourceExt;

use crate::build::database;
use crate::build::{HTTP_PORT, Microservice, jaeger, labels::Component, names, nats};
use crate::crd::EventsMode;
use crate::crd::{ComponentStatus, Phase, Shop, ShopCondition, ShopStatus};

pub const READY: &str = "Ready";
pub const SECRETS_READY: &str = "SecretsReady";
pub const DATABASES_READY: &str = "DatabasesReady";
pub const SERVICES_READY: &str = "ServicesReady";
pub const TRACING_READY: &str = "TracingReady";
/// Whether the order events have a server: the managed NATS ready, or an external URL.
pub const EVENTS_READY: &str = "EventsReady";
/// Whether the last reconcile applied every child (`False` with the API error otherwise).
pub const RECONCILED: &str = "Reconciled";

/// What the reconciler saw after applying a Shop's children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// Number of generated Secrets, all complete.
    pub secrets: usize,
    /// Problems with external database Secrets (missing Secret or key), one message each.
    pub external_database_problems: Vec<String>,
    /// Problems with the Secrets the services read (the SMTP login, the external NATS URL):
    /// a missing Secret or key.
    pub service_secret_problems: Vec<String>,
    /// Replicas of every workload, as returned by the API server.
    pub components: Vec<ComponentStatus>,
}

fn is_ready(c: &ComponentStatus) -> bool {
    c.ready_replicas >= c.desired_replicas
}

/// One condition; `lastTransitionTime` is carried over from `previous` when the status is unchanged.
fn condition(
    previous: Option<&ShopStatus>,
    generation: Option<i64>,
    now: &str,
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
) -> ShopCondition {
    let status = if ok { "True" } else { "False" };
    let since = previous
        .and_then(|p| p.conditions.iter().find(|c| c.type_ == type_))
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.to_string());
    ShopCondition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message,
        last_transition_time: since,
        observed_generation: generation,
    }
}

fn summary(components: &[&ComponentStatus]) -> String {
    components
        .iter()
        .map(|c| format!("{} {}/{}", c.name, c.ready_replicas, c.desired_replicas))
        .collect::<Vec<_>>()
        .join(", ")
}

/// In-cluster URLs of each API's docs, of the storefront and of Jaeger's UI.
pub fn urls(shop: &Shop) -> BTreeMap<String, String> {
    let ns = shop.namespace().unwrap_or_else(|| "default".into());
    let mut urls: BTreeMap<String, String> = Microservice::enabled(shop)
        .iter()
        .map(|s| {
            let base = format!("http://{}.{ns}.svc:{HTTP_PORT}", names::service(shop, *s));
            match s {
                Microservice::Storefront => ("storefront".to_string(), format!("{base}/")),
                _ => (format!("{}-docs", s.name()), format!("{base}/docs")),
            }
        })
        .collect();
    if shop.spec.tracing.jaeger.enabled {
        urls.insert("jaeger".into(), format!("http://{}.{ns}.svc:{}", names::jaeger(shop), jaeger::UI_PORT));
    }
    urls
}

/// The status of a reconciled (not paused, valid) Shop.
pub fn reconciled(shop: &Shop, observed: &Observed, previous: Option<&ShopStatus>, now: &str) -> ShopStatus {
    let generation = shop.metadata.generation;
    let cond = |type_: &str, ok: bool, reason: &str, message: String| {
        condition(previous, generation, now, type_, ok, reason, message)
    };
    let mut components = observed.components.clone();
    components.sort_by(|a, b| a.name.cmp(&b.name));
    let services: Vec<&ComponentStatus> =
        components.iter().filter(|c| Microservice::ALL.iter().any(|s| s.name() == c.name)).collect();
    // By name, not by kind: the managed NATS is a StatefulSet too, but not a database.
    let databases: Vec<&ComponentStatus> = components
        .iter()
        .filter(|c| c.kind.runs_a_database() && Microservice::ALL.iter().any(|s| names::db_component(*s) == c.name))
        .collect();

    let mut conditions = vec![
        cond(RECONCILED, true, "Applied", "every child object is applied".into()),
        cond(SECRETS_READY, true, "Generated", format!("{} Secrets hold every key", observed.secrets)),
    ];
    let backend = database::of(shop);
    let databases_ok = if backend.component(shop).is_some() {
        let ok = databases.iter().all(|c| is_ready(c));
        let reason = if ok { "Ready" } else { "Starting" };
        let message = format!("{}: {}", backend.describe(), summary(&databases));
        conditions.push(cond(DATABASES_READY, ok, reason, message));
        ok
    } else if observed.external_database_problems.is_empty() {
        conditions.push(cond(DATABASES_READY, true, "External", "external database Secrets are present".into()));
        true
    } else {
        let message = observed.external_database_problems.join("; ");
        conditions.push(cond(DATABASES_READY, false, "SecretMissing", message));
        false
    };
    // A missing Secret keeps the pods that read it from starting: said here, by name.
    let services_ok = services.iter().all(|c| is_ready(c)) && observed.service_secret_problems.is_empty();
    let (reason, message) = match (services_ok, observed.service_secret_problems.is_empty()) {
        (true, _) => ("Ready", summary(&services)),
        (false, true) => ("Progressing", summary(&services)),
        (false, false) => {
            ("SecretMissing", format!("{}; {}", observed.service_secret_problems.join("; "), summary(&services)))
        }
    };
    conditions.push(cond(SERVICES_READY, services_ok, reason, message));

    let tracing = &shop.spec.tracing;
    let mut tracing_ok = true;
    if tracing.jaeger.enabled {
        let jaeger: Vec<&ComponentStatus> = components.iter().filter(|c| c.name == "jaeger").collect();
        tracing_ok = jaeger.iter().all(|c| is_ready(c));
        let reason = if tracing_ok { "Ready" } else { "Starting" };
        conditions.push(cond(TRACING_READY, tracing_ok, reason, format!("Jaeger: {}", summary(&jaeger))));
    } else if let Some(endpoint) = &tracing.otlp_endpoint {
        conditions.push(cond(TRACING_READY, true, "External", format!("exporting to {endpoint}")));
    }

    let mut events_ok = true;
    if nats::managed(shop) {
        let server: Vec<&ComponentStatus> = components.iter().filter(|c| c.name == Component::Nats.name()).collect();
        events_ok = !server.is_empty() && server.iter().all(|c| is_ready(c));
        let reason = if events_ok { "Ready" } else { "Starting" };
        conditions.push(cond(EVENTS_READY, events_ok, reason, format!("managed NATS: {}", summary(&server))));
    } else if shop.spec.events.mode == EventsMode::External
        && let Some(external) = &shop.spec.events.external
    {
        let to = match (&external.url, &external.url_secret) {
            (Some(url), _) => url.clone(),
            (None, Some(secret)) => format!("the URL in Secret {} key {}", secret.name, secret.key),
            (None, None) => "nowhere".into(),
        };
        conditions.push(cond(EVENTS_READY, true, "External", format!("publishing to {to}")));
    }

    // Every component counts, also those no condition reports on (the load generator): `Ready`
    // promises that every workload the Shop asked for has rolled out.
    let laggards: Vec<&ComponentStatus> = components.iter().filter(|c| !is_ready(c)).collect();
    let all_ok = databases_ok && services_ok && tracing_ok && events_ok && laggards.is_empty();
    let not_ready: Vec<&str> = conditions.iter().filter(|c| c.status != "True").map(|c| c.type_.as_str()).collect();
    let ready_message = if all_ok {
        "every component is ready".to_string()
    } else if laggards.is_empty() {
        format!("not ready: {}", not_ready.join(", "))
    } else if not_ready.is_empty() {
        format!("waiting for {}", summary(&laggards))
    } else {
        format!("not ready: {}; waiting for {}", not_ready.join(", "), summary(&laggards))
    };
    conditions.insert(0, cond(READY, all_ok, if all_ok { "AllReady" } else { "NotReady" }, ready_message));

    let ready_count = components.iter().filter(|c| is_ready(c)).count();
    let phase = if all_ok {
        Phase::Ready
    } else if !observed.external_database_problems.is_empty() || !observed.service_secret_problems.is_empty() {
        Phase::Degraded
    } else if components.iter().all(|c| c.ready_replicas == 0) {
        Phase::Pending
    } else {
        Phase::Progressing
    };
    ShopStatus {
        observed_generation: generation,
        phase,
        ready_components: format!("{ready_count}/{}", components.len()),
        conditions,
        components,
        urls: urls(shop),
    }
}

/// The status of a paused Shop: the last observations are kept, phase and `Ready` say Paused.
pub fn paused(generation: Option<i64>, previous: Option<&ShopStatus>, now: &str) -> ShopStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    status.phase = Phase::Paused;
    let ready = condition(
        previous,
        generation,
        now,
        READY,
        false,
        "Paused",
        "spec.paused is true: the operator does not write to this shop's children".into(),
    );
    upsert(&mut status.conditions, ready);
    status
}

/// The status of a Shop that cannot be applied as it is: it does not deserialize, fails
/// validation (`reason` `InvalidSpec`) or asks for a refused change (`DatabaseUpgradeRefused`).
pub fn invalid(
    generation: Option<i64>,
    reason: &str,
    message: &str,
    previous: Option<&ShopStatus>,
    now: &str,
) -> ShopStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    status.phase = Phase::Degraded;
    let ready = condition(previous, generation, now, READY, false, reason, message.to_string());
    upsert(&mut status.conditions, ready);
    status
}

/// The status after a reconcile failed while applying (an API error): `Reconciled=False` and
/// `Ready=False` with the error, phase `Degraded`; the observations of the last success stay.
pub fn failed(generation: Option<i64>, message: &str, previous: Option<&ShopStatus>, now: &str) -> ShopStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.phase = Phase::Degraded;
    let reconciled = condition(previous, generation, now, RECONCILED, false, "ApplyFailed", message.to_string());
    upsert(&mut status.conditions, reconciled);
    let ready = condition(previous, generation, now, READY, false, "ReconcileFailed", message.to_string());
    upsert(&mut status.conditions, ready);
    status
}

fn upsert(conditions: &mut Vec<ShopCondition>, new: ShopCondition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => *existing = new,
        None => conditions.insert(0, new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::{components, shop};
    use crate::crd::DatabaseMode;

    fn observed(shop: &Shop, ready: bool) -> Observed {
        Observed {
            secrets: 8,
            external_database_problems: vec![],
            service_secret_problems: vec![],
            components: components(shop)
                .into_iter()
                .map(|c| ComponentStatus { ready_replicas: if ready { c.desired_replicas } else { 0 }, ..c })
                .collect(),
        }
    }

    fn get<'a>(status: &'a ShopStatus, type_: &str) -> &'a ShopCondition {
        status.conditions.iter().find(|c| c.type_ == type_).expect(type_)
    }

    #[test]
    fn nothing_ready_is_pending_everything_ready_is_ready() {
        let s = shop("demo");
        let pending = reconciled(&s, &observed(&s, false), None, "t0");
        assert_eq!(pending.phase, Phase::Pending);
        assert_eq!(pending.ready_components, "0/10");
        assert_eq!(get(&pending, READY).status, "False");
        assert_eq!(get(&pending, DATABASES_READY).reason, "Starting");

        let ready = reconciled(&s, &observed(&s, true), Some(&pending), "t1");
        assert_eq!(ready.phase, Phase::Ready);
        assert_eq!(ready.ready_components, "10/10");
        assert_eq!(ready.urls["storefront"], "http://demo-storefront.shops.svc:8080/");
        assert_eq!(get(&ready, READY).last_transition_time, "t1", "status changed, so did the time");
        assert_eq!(get(&ready, SECRETS_READY).last_transition_time, "t0", "unchanged condition keeps its time");
        assert_eq!(ready.observed_generation, Some(1));
        assert_eq!(ready.urls["products-docs"], "http://demo-products.shops.svc:8080/docs");
    }

    #[test]
    fn same_observation_gives_an_identical_status() {
        let s = shop("demo");
        let first = reconciled(&s, &observed(&s, true), None, "t0");
        let second = reconciled(&s, &observed(&s, true), Some(&first), "t9");
        assert_eq!(first, second);
    }

    #[test]
    fn partial_readiness_is_progressing_and_names_the_laggards() {
        let s = shop("demo");
        let mut obs = observed(&s, true);
        if let Some(orders) = obs.components.iter_mut().find(|c| c.name == "orders") {
            orders.ready_replicas = 0;
        }
        let status = reconciled(&s, &obs, None, "t0");
        assert_eq!(status.phase, Phase::Progressing);
        assert_eq!(status.ready_components, "9/10");
        assert!(get(&status, SERVICES_READY).message.contains("orders 0/1"));
        assert!(get(&status, READY).message.contains("ServicesReady"));
    }

    #[test]
    fn a_load_generator_still_starting_keeps_the_shop_from_ready() {
        let mut s = shop("demo");
        s.spec.load_generator.enabled = true;
        let mut obs = observed(&s, true);
        let loadgen = obs.components.iter_mut().find(|c| c.name == "loadgen").expect("loadgen observed");
        loadgen.ready_replicas = 0;
        let status = reconciled(&s, &obs, None, "t0");
        assert_eq!(status.phase, Phase::Progressing);
        assert_eq!(get(&status, READY).status, "False");
        assert_eq!(get(&status, READY).message, "waiting for loadgen 0/1");
        assert_eq!(get(&status, SERVICES_READY).status, "True", "the load generator is not a service");

        let ready = reconciled(&s, &observed(&s, true), Some(&status), "t1");
        assert_eq!(ready.phase, Phase::Ready);
    }

    #[test]
    fn tracing_condition_only_when_tracing_is_on() {
        let mut s = shop("demo");
        let status = reconciled(&s, &observed(&s, true), None, "t0");
        assert!(status.conditions.iter().all(|c| c.type_ != TRACING_READY));
        s.spec.tracing.jaeger.enabled = true;
        let status = reconciled(&s, &observed(&s, true), None, "t0");
        assert_eq!(get(&status, TRACING_READY).status, "True");
        assert!(status.urls.contains_key("jaeger"));
    }

    #[test]
    fn the_managed_nats_counts_towards_ready_but_not_as_a_database() {
        let mut s = shop("demo");
        s.spec.notifications.smtp = Some(crate::crd::SmtpSpec::plain("mail"));
        let mut obs = observed(&s, true);
        let nats = obs.components.iter_mut().find(|c| c.name == "nats").expect("nats observed");
        nats.ready_replicas = 0;
        let status = reconciled(&s, &obs, None, "t0");
        assert_eq!(status.ready_components, "12/13", "six services, six databases, NATS");
        assert_eq!(status.phase, Phase::Progressing);
        assert_eq!(get(&status, EVENTS_READY).status, "False");
        assert_eq!(get(&status, EVENTS_READY).message, "managed NATS: nats 0/1");
        assert_eq!(get(&status, DATABASES_READY).status, "True", "NATS is a StatefulSet, not a database");
        assert!(!get(&status, DATABASES_READY).message.contains("nats"));
        assert!(get(&status, READY).message.contains("EventsReady"));
        assert_eq!(status.urls["notifications-docs"], "http://demo-notifications.shops.svc:8080/docs");

        let ready = reconciled(&s, &observed(&s, true), Some(&status), "t1");
        assert_eq!((ready.phase, ready.ready_components.as_str()), (Phase::Ready, "13/13"));
        assert_eq!(get(&ready, EVENTS_READY).reason, "Ready");
    }

    #[test]
    fn events_condition_only_when_there_is_a_server() {
        let mut s = shop("demo");
        let status = reconciled(&s, &observed(&s, true), None, "t0");
        assert!(status.conditions.iter().all(|c| c.type_ != EVENTS_READY), "no notifications, no NATS");
        s.spec.events.mode = crate::crd::EventsMode::External;
        s.spec.events.external = Some(crate::crd::ExternalNats::at("nats://nats.infra:4222"));
        let status = reconciled(&s, &observed(&s, true), None, "t0");
        assert_eq!(get(&status, EVENTS_READY).reason, "External");
        assert_eq!(get(&status, EVENTS_READY).message, "publishing to nats://nats.infra:4222");
        assert_eq!(status.phase, Phase::Ready);
    }

    #[test]
    fn an_apply_failure_is_a_condition_and_clears_on_success() {
        let s = shop("demo");
        let before = reconciled(&s, &observed(&s, true), None, "t0");
        let failed_status =
            failed(Some(1), "apply Service demo-products: port 30080 is already allocated", Some(&before), "t1");
        assert_eq!(failed_status.phase, Phase::Degraded);
        assert_eq!(get(&failed_status, RECONCILED).status, "False");
        assert!(get(&failed_status, RECONCILED).message.contains("already allocated"));
        assert_eq!(get(&failed_status, READY).reason, "ReconcileFailed");
        assert_eq!(failed_status.components, before.components, "observations of the last success stay");

        let again = reconciled(&s, &observed(&s, true), Some(&failed_status), "t2");
        assert_eq!(get(&again, RECONCILED).status, "True");
        assert_eq!(again.phase, Phase::Ready);
    }

    #[test]
    fn missing_external_secret_degrades() {
        let mut s = shop("demo");
        s.spec.database.mode = DatabaseMode::External;
        let mut obs = observed(&s, true);
        obs.external_database_problems = vec!["Secret pg-users not found".into()];
        let status = reconciled(&s, &obs, None, "t0");
        assert_eq!(status.phase, Phase::Degraded);
        assert_eq!(get(&status, DATABASES_READY).reason, "SecretMissing");
    }

    #[test]
    fn paused_and_invalid_keep_previous_observations() {
        let s = shop("demo");
        let before = reconciled(&s, &observed(&s, true), None, "t0");
        let paused_status = paused(Some(2), Some(&before), "t1");
        assert_eq!(paused_status.phase, Phase::Paused);
        assert_eq!(paused_status.components, before.components);
        assert_eq!(get(&paused_status, READY).reason, "Paused");
        assert_eq!(paused(Some(2), Some(&paused_status), "t2"), paused_status, "paused twice writes nothing");

        let bad = invalid(Some(3), "InvalidSpec", "database.mode: unknown variant", Some(&before), "t1");
        assert_eq!(bad.phase, Phase::Degraded);
        assert_eq!(get(&bad, READY).reason, "InvalidSpec");
        assert_eq!(bad.observed_generation, Some(3));
    }
}
