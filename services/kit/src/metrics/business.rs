//! The shop's business counters, named once so the services that count and the dashboards
//! that chart them agree. Prometheus sees each as `<name with _>_total`.
//!
//! Attributes stay few and bounded: a reason from a fixed set, never an id.

use std::sync::LazyLock;

use opentelemetry::{KeyValue, metrics::Counter};

use super::counter;

/// The attribute naming why something happened (`shopper`, `admin`, `expired`; a decline code).
pub const REASON: &str = "microshop.reason";

/// Orders placed (the saga reserved stock and stored the order).
pub static ORDERS_PLACED: LazyLock<Counter<u64>> =
    LazyLock::new(|| counter("microshop.orders.placed", "{order}", "Orders placed."));

/// Orders paid (the charge succeeded and the order was marked paid).
pub static ORDERS_PAID: LazyLock<Counter<u64>> =
    LazyLock::new(|| counter("microshop.orders.paid", "{order}", "Orders paid."));

/// Orders cancelled, by [`REASON`]: who cancelled, or `expired` for an unpaid order's timeout.
pub static ORDERS_CANCELLED: LazyLock<Counter<u64>> =
    LazyLock::new(|| counter("microshop.orders.cancelled", "{order}", "Orders cancelled, by reason."));

/// Card payments declined, by [`REASON`] (the decline code).
pub static PAYMENTS_DECLINED: LazyLock<Counter<u64>> =
    LazyLock::new(|| counter("microshop.payments.declined", "{payment}", "Card payments declined, by decline code."));

/// Stock reservations given back because their unpaid order expired.
pub static RESERVATIONS_EXPIRED: LazyLock<Counter<u64>> = LazyLock::new(|| {
    counter("microshop.reservations.expired", "{reservation}", "Reservations released because their order expired.")
});

/// Reservations refused for lack of stock (one per refused reservation, not per line).
pub static STOCK_OUTS: LazyLock<Counter<u64>> =
    LazyLock::new(|| counter("microshop.stock.outs", "{reservation}", "Reservations refused for insufficient stock."));

/// Log-ins refused because the account or address is throttled.
pub static LOGINS_THROTTLED: LazyLock<Counter<u64>> =
    LazyLock::new(|| counter("microshop.logins.throttled", "{login}", "Log-ins refused by the failed-login throttle."));

/// Exports `counters` at 0 before their first event, so a dashboard or an alert sees a flat
/// line rather than no data (and `increase()` counts the first event). A service calls it at
/// start with the counters it owns.
pub fn export_at_zero(counters: &[&LazyLock<Counter<u64>>]) {
    for counter in counters {
        counter.add(0, &[]);
    }
}

/// Counts one event with a reason.
pub fn count_with_reason(counter: &Counter<u64>, reason: &str) {
    counter.add(1, &[KeyValue::new(REASON, reason.to_owned())]);
}

/// Every business counter's OpenTelemetry name, for the checks that dashboards only chart
/// metrics that exist.
pub const NAMES: [&str; 7] = [
    "microshop.orders.placed",
    "microshop.orders.paid",
    "microshop.orders.cancelled",
    "microshop.payments.declined",
    "microshop.reservations.expired",
    "microshop.stock.outs",
    "microshop.logins.throttled",
];
