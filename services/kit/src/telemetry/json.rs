//! One JSON object per log line, with the `trace_id` and `span_id` of the span it was
//! written in (the built-in JSON format of `tracing-subscriber` does not know about them).

use std::fmt;

use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

/// The JSON event format.
pub struct JsonWithTrace;

/// How the JSON lines format span fields: not at all, since a line names its span and carries
/// its trace ids but not the span's fields. The fmt layer formats the fields of every new span
/// with this, whether or not a line is ever written in it: with the default formatter that was
/// a few percent of the CPU of a product read (the request's span and the query's).
pub struct NoSpanFields;

impl<'w> FormatFields<'w> for NoSpanFields {
    fn format_fields<R: RecordFields>(&self, _writer: Writer<'w>, _fields: R) -> fmt::Result {
        Ok(())
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

impl<S, N> FormatEvent<S, N> for JsonWithTrace
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut map = Map::new();
        map.insert(
            "timestamp".into(),
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        map.insert("level".into(), Value::from(event.metadata().level().as_str()));
        map.insert("target".into(), Value::from(event.metadata().target()));
        event.record(&mut Fields(&mut map));
        if let (Some(span), Some(dispatch)) = (ctx.lookup_current(), super::installed_dispatch())
            && let Some(context) = tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)
        {
            let otel_span = context.span();
            let ids = otel_span.span_context();
            if ids.is_valid() {
                map.insert("trace_id".into(), Value::from(ids.trace_id().to_string()));
                map.insert("span_id".into(), Value::from(ids.span_id().to_string()));
            }
        }
        if let Some(span) = ctx.lookup_current() {
            map.insert("span".into(), Value::from(span.name()));
        }
        writeln!(writer, "{}", Value::Object(map))
    }
}
