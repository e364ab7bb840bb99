//! Faults switched on and off at run time, for seeing in traces what a failure looks like.
//!
//! The flags are a flag set in flagd's flag-definition format (the format of the OpenFeature
//! flagd provider), read from the file named by `FAULTS_FILE`. The file is read again every
//! [`POLL_INTERVAL`], so an edited file, or a Kubernetes ConfigMap whose mounted folder is
//! swapped, takes effect without a restart. A missing `FAULTS_FILE` means no faults and no
//! polling at all.
//!
//! Why the kit reads the format itself rather than through the `open-feature-flagd` crate:
//! that crate's file mode lives behind its `in-process` feature, which compiles flagd's gRPC
//! sync protocol at build time (every build machine, the Docker builder included, would need
//! `protoc`) and brings about fifty more crates (a JSONLogic engine, a file watcher, mockall)
//! for five flags whose targeting rules we do not use.
//!
//! A flag counts when its `state` is `ENABLED`: its value is the value of its
//! `defaultVariant`. Targeting rules are not evaluated (the default variant applies). A
//! missing, disabled or ill-typed flag counts as off, so a typo in the file leaves the fault
//! unapplied instead of breaking the service; a file that stops parsing keeps the last good
//! flags and is logged.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::problem::problem_response;

/// The environment variable naming the flag file.
pub const FAULTS_FILE_VARIABLE: &str = "FAULTS_FILE";

/// How often the flag file is read again: well inside the 5 s a switch may take.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The `tracing` target of flag evaluations. They are `debug` events, so they stay out of the
/// log lines, but the exporter keeps this target at `debug`: each evaluation is an event on
/// the request's span (`feature_flag.evaluation`, with the flag key and the variant), as the
/// feature-flag conventions describe.
pub const EVALUATION_TARGET: &str = "feature_flag";

/// The longest delay a flag may inject: a fault should slow requests down, not hang them.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

/// The flag file could not be loaded at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the fault flags from {path}: {reason}")]
pub struct FaultsError {
    path: PathBuf,
    reason: String,
}

/// A flagd flag definition, as much of it as decides the value.
#[derive(Debug, Deserialize)]
struct FlagDefinition {
    state: FlagState,
    variants: HashMap<String, Value>,
    #[serde(rename = "defaultVariant")]
    default_variant: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
enum FlagState {
    Enabled,
    Disabled,
}

/// A flagd flag-definition document; other top-level keys (`$schema`, `$evaluators`,
/// `metadata`) are allowed and ignored.
#[derive(Debug, Deserialize)]
struct FlagFile {
    #[serde(default)]
    flags: HashMap<String, FlagDefinition>,
}

/// An enabled flag: the variant in force and its value.
#[derive(Debug, Clone, PartialEq)]
struct Evaluated {
    variant: String,
    value: Value,
}

/// Every flag of a flag-definition document: the variant and value of the enabled ones, `None`
/// for the disabled ones (kept so the gauge reports them at 0).
fn parse_flags(text: &str) -> Result<HashMap<String, Option<Evaluated>>, String> {
    let file: FlagFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut values = HashMap::new();
    for (name, flag) in file.flags {
        if flag.state != FlagState::Enabled {
            values.insert(name, None);
            continue;
        }
        match flag.variants.get(&flag.default_variant) {
            Some(value) => {
                values.insert(name, Some(Evaluated { variant: flag.default_variant.clone(), value: value.clone() }));
            }
            None => return Err(format!("flag `{name}`: defaultVariant `{}` is not a variant", flag.default_variant)),
        }
    }
    Ok(values)
}

/// What the poller shares with the handlers: the last good flag values and file text.
#[derive(Debug, Default)]
struct Loaded {
    text: String,
    values: HashMap<String, Option<Evaluated>>,
}

/// The fault flags a service consults. Cheap to clone; [`Faults::none`] answers "off" to
/// everything without any I/O.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    loaded: Option<Arc<RwLock<Loaded>>>,
}

impl Faults {
    /// No faults: every flag is off.
    pub fn none() -> Self {
        Self::default()
    }

    /// The flags of `file` (a service's `FAULTS_FILE`), or none when it is `None`. Must run
    /// inside a Tokio runtime.
    pub fn load(file: Option<&Path>) -> Result<Self, FaultsError> {
        file.map_or_else(|| Ok(Self::none()), Self::watch)
    }

    /// The `FAULTS_FILE` setting, for a service's config.
    pub fn file_from_env() -> Option<PathBuf> {
        crate::config::optional(FAULTS_FILE_VARIABLE).map(PathBuf::from)
    }

    /// Reads `path` now and follows its changes until the last clone of the returned value is
    /// dropped. Fails when the file cannot be read or parsed at start: a fault file that is
    /// configured but missing is a deployment mistake. Must run inside a Tokio runtime.
    pub fn watch(path: &Path) -> Result<Self, FaultsError> {
        let error = |reason: String| FaultsError { path: path.to_owned(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let values = parse_flags(&text).map_err(error)?;
        let enabled = values.values().filter(|v| v.is_some()).count();
        tracing::info!(path = %path.display(), flags = enabled, "fault flags loaded; the file is re-read every second");
        let loaded = Arc::new(RwLock::new(Loaded { text, values }));
        tokio::spawn(poll(path.to_owned(), Arc::downgrade(&loaded)));
        register_gauge(Arc::downgrade(&loaded));
        Ok(Self { loaded: Some(loaded) })
    }

    fn value(&self, name: &str) -> Option<Value> {
        let loaded = self.loaded.as_ref()?;
        // A poisoned lock only means a poller panicked mid-write of plain data: read it anyway.
        let loaded = loaded.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let evaluated = loaded.values.get(name).and_then(Option::as_ref);
        let variant = evaluated.map_or("off", |e| e.variant.as_str());
        tracing::event!(
            target: EVALUATION_TARGET,
            tracing::Level::DEBUG,
            feature_flag.key = name,
            feature_flag.result.variant = variant,
            feature_flag.provider.name = "microshop-file",
            "feature_flag.evaluation"
        );
        evaluated.map(|e| e.value.clone())
    }

    /// Whether the boolean flag `name` is on.
    pub fn is_on(&self, name: &str) -> bool {
        matches!(self.value(name), Some(Value::Bool(true)))
    }

    /// The numeric flag `name`, or `None` when it is off.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.value(name)?.as_f64().filter(|n| n.is_finite())
    }

    /// The delay flag `name` in milliseconds, zero when off, capped at [`MAX_DELAY`].
    pub fn delay(&self, name: &str) -> Duration {
        match self.number(name) {
            Some(ms) if ms > 0.0 => Duration::from_secs_f64(ms / 1000.0).min(MAX_DELAY),
            _ => Duration::ZERO,
        }
    }

    /// Sleeps for the delay flag `name`, logging the injected delay inside the current span so
    /// that a slow span in Jaeger says why it was slow.
    pub async fn inject_delay(&self, name: &str) {
        let delay = self.delay(name);
        if !delay.is_zero() {
            tracing::info!(flag = name, delay_ms = delay.as_millis() as u64, "fault injected: delay");
            tokio::time::sleep(delay).await;
        }
    }
}

/// Re-reads the file every [`POLL_INTERVAL`] while a [`Faults`] holding it lives. Reading a
/// small file once a second costs nothing and, unlike change notifications, also sees the
/// symlink swap by which Kubernetes updates a mounted ConfigMap.
/// The metric of the flags in force: `microshop.fault.flag.active` is 1 for each enabled flag
/// whose value is `true` or a non-zero number, 0 for the others of the file, so a dashboard
/// can put the moment a fault was switched on beside the error rate it caused.
fn register_gauge(loaded: Weak<RwLock<Loaded>>) {
    use opentelemetry::KeyValue;
    use opentelemetry_semantic_conventions::attribute::FEATURE_FLAG_KEY;
    // The SDK keeps the callback for the life of the meter provider; the instrument handle
    // itself need not be kept.
    let _gauge = crate::metrics::meter()
        .u64_observable_gauge("microshop.fault.flag.active")
        .with_description("Whether each fault flag of the flag file is on (1) or off (0).")
        .with_callback(move |observer| {
            let Some(loaded) = loaded.upgrade() else { return };
            let loaded = loaded.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Every flag of the file, the disabled ones at 0: a flag switched off must read 0,
            // not keep its last value.
            for (key, evaluated) in &loaded.values {
                let on = match evaluated.as_ref().map(|e| &e.value) {
                    Some(Value::Bool(on)) => *on,
                    Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
                    _ => false,
                };
                observer.observe(u64::from(on), &[KeyValue::new(FEATURE_FLAG_KEY, key.clone())]);
            }
        })
        .build();
}

async fn poll(path: PathBuf, loaded: Weak<RwLock<Loaded>>) {
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(loaded) = loaded.upgrade() else { return };
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "fault flags unreadable; keeping the last ones");
                continue;
            }
        };
        let unchanged = loaded.read().map(|l| l.text == text).unwrap_or(false);
        if unchanged {
            continue;
        }
        match parse_flags(&text) {
            Ok(values) => {
                let enabled: Vec<&String> = values.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k).collect();
                tracing::info!(path = %path.display(), on = ?enabled, "fault flags changed");
                let mut guard = loaded.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                *guard = Loaded { text, values };
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "fault flags invalid; keeping the last good ones");
                let mut guard = loaded.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                guard.text = text;
            }
        }
    }
}

/// Middleware that answers 503 (problem+json) while the boolean flag it names is on: the
/// service looks down to its callers, while its health and metrics routes (mounted outside
/// the API) keep answering so the orchestrator does not restart it.
#[derive(Clone)]
pub struct Outage {
    faults: Faults,
    flag: &'static str,
}

impl Outage {
    /// An outage switched by the boolean flag `flag`.
    pub fn new(faults: Faults, flag: &'static str) -> Self {
        Self { faults, flag }
    }

    /// No outage, ever: what services without an outage flag get.
    pub fn never() -> Self {
        Self { faults: Faults::none(), flag: "" }
    }
}

impl<E: Endpoint> Middleware<E> for Outage {
    type Output = OutageEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        OutageEndpoint { inner, outage: self.clone() }
    }
}

/// The endpoint [`Outage`] wraps.
pub struct OutageEndpoint<E> {
    inner: E,
    outage: Outage,
}

impl<E: Endpoint> Endpoint for OutageEndpoint<E> {
    type Output = Response;
    async fn call(&self, req: Request) -> poem::Result<Response> {
        if self.outage.faults.is_on(self.outage.flag) {
            tracing::info!(flag = self.outage.flag, "fault injected: service unavailable");
            return Ok(problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the service is unavailable (fault flag `{}` is on)", self.outage.flag),
            ));
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flag file in a folder of its own under the system temp dir, removed on drop.
    struct FlagFileOnDisk {
        _dir: tempfile::TempDir,
        path: PathBuf,
    }

    impl FlagFileOnDisk {
        fn with(contents: &str) -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("flags.json");
            std::fs::write(&path, contents).expect("write flags");
            Self { _dir: dir, path }
        }
    }

    #[test]
    fn no_file_means_every_flag_off() {
        let faults = Faults::none();
        assert!(!faults.is_on("productsUnavailable"));
        assert_eq!(faults.number("paymentFailureRate"), None);
        assert_eq!(faults.delay("paymentLatencyMs"), Duration::ZERO);
    }

    #[tokio::test]
    async fn enabled_flags_give_their_default_variant_and_the_rest_count_as_off() {
        let file = FlagFileOnDisk::with(
            r#"{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {
                "down": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
                "up": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"},
                "rate": {"state": "ENABLED", "variants": {"on": 0.25, "off": 0}, "defaultVariant": "on"},
                "slow": {"state": "ENABLED", "variants": {"on": 120, "off": 0}, "defaultVariant": "on"},
                "huge": {"state": "ENABLED", "variants": {"on": 3600000, "off": 0}, "defaultVariant": "on"},
                "disabled": {"state": "DISABLED", "variants": {"on": 500, "off": 0}, "defaultVariant": "on"},
                "mistyped": {"state": "ENABLED", "variants": {"on": "yes", "off": "no"}, "defaultVariant": "on"}
            }}"#,
        );
        let faults = Faults::watch(&file.path).expect("flags load");
        assert!(faults.is_on("down"), "an enabled boolean flag is on");
        assert!(!faults.is_on("up"), "the default variant decides");
        assert_eq!(faults.number("rate"), Some(0.25), "a number flag gives its value");
        assert_eq!(faults.delay("slow"), Duration::from_millis(120), "an integer is read as ms");
        assert_eq!(faults.delay("huge"), MAX_DELAY, "delays are capped");
        assert_eq!(faults.delay("disabled"), Duration::ZERO, "a disabled flag is off");
        assert!(!faults.is_on("mistyped"), "a wrongly typed flag is off");
        assert!(!faults.is_on("absent"), "a missing flag is off");
        // The gauge: every flag of the file, the disabled one at 0.
        let metrics = crate::metrics::render().expect("metrics");
        for (flag, on) in [("down", 1), ("up", 0), ("disabled", 0), ("rate", 1)] {
            let line = format!("microshop_fault_flag_active{{feature_flag_key=\"{flag}\"}} {on}");
            assert!(metrics.contains(&line), "{line} in {metrics}");
        }
    }

    /// The events of one target, as (field name, value) maps.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<std::collections::BTreeMap<String, String>>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Captured {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            struct Fields(std::collections::BTreeMap<String, String>);
            impl tracing::field::Visit for Fields {
                fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                    self.0.insert(field.name().to_owned(), value.to_owned());
                }
                fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                    self.0.insert(field.name().to_owned(), format!("{value:?}"));
                }
            }
            if event.metadata().target() == EVALUATION_TARGET {
                let mut fields = Fields(Default::default());
                event.record(&mut fields);
                self.0.lock().unwrap_or_else(|p| p.into_inner()).push(fields.0);
            }
        }
    }

    #[tokio::test]
    async fn each_evaluation_is_an_event_with_the_flag_key_and_variant() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let file = FlagFileOnDisk::with(
            r#"{"flags": {"down": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}"#,
        );
        let faults = Faults::watch(&file.path).expect("flags load");
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(captured.clone());
        tracing::subscriber::with_default(subscriber, || {
            assert!(faults.is_on("down"));
            assert!(!faults.is_on("absent"));
        });
        let events = captured.0.lock().expect("events").clone();
        let seen: Vec<(String, String)> =
            events.iter().map(|e| (e["feature_flag.key"].clone(), e["feature_flag.result.variant"].clone())).collect();
        assert_eq!(seen, [("down".to_owned(), "on".to_owned()), ("absent".to_owned(), "off".to_owned())]);
        assert!(events.iter().all(|e| e["message"] == "feature_flag.evaluation"), "{events:?}");
    }

    #[tokio::test]
    async fn a_missing_or_broken_file_fails_at_start() {
        let missing = std::env::temp_dir().join(format!("no-such-{}/flags.json", uuid::Uuid::new_v4()));
        assert!(Faults::watch(&missing).is_err(), "missing file");
        let broken = FlagFileOnDisk::with("{not json");
        assert!(Faults::watch(&broken.path).is_err(), "broken file");
        let dangling = FlagFileOnDisk::with(
            r#"{"flags": {"x": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "maybe"}}}"#,
        );
        assert!(Faults::watch(&dangling.path).is_err(), "default variant that is not a variant");
    }

    #[tokio::test]
    async fn a_changed_file_applies_within_seconds_and_a_broken_one_keeps_the_last_flags() {
        let on = r#"{"flags": {"down": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}"#;
        let file = FlagFileOnDisk::with(r#"{"flags": {}}"#);
        let faults = Faults::watch(&file.path).expect("flags load");
        assert!(!faults.is_on("down"));

        std::fs::write(&file.path, on).expect("switch on");
        wait_until(|| faults.is_on("down")).await;

        std::fs::write(&file.path, "{broken").expect("break the file");
        tokio::time::sleep(POLL_INTERVAL * 2).await;
        assert!(faults.is_on("down"), "a broken file keeps the last good flags");

        std::fs::write(&file.path, on.replace(r#""defaultVariant": "on""#, r#""defaultVariant": "off""#))
            .expect("switch off");
        wait_until(|| !faults.is_on("down")).await;
    }

    async fn wait_until(condition: impl Fn() -> bool) {
        for _ in 0..50 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the flag change was not seen within 5 s");
    }
}
