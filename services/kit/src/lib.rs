//! `shopkit`: what every microshop service needs exactly once.
//!
//! # Layout
//! - [`config`]: typed settings from environment variables, secrets wrapped.
//! - [`telemetry`]: logs (JSON or pretty lines), and traces, metrics and logs over OTLP when
//!   an endpoint is set; the resource they carry.
//! - [`db`]: lazily connecting PostgreSQL pool (and an optional read-replica pool), background
//!   migrations, readiness.
//! - [`lender`]: connections lent to one statement at a time, without the ping sqlx sends
//!   when a connection goes back to its pool.
//! - [`problem`]: RFC 9457 problem bodies and [`problem::ApiError`], the error response of
//!   every operation.
//! - [`auth`]: Ed25519 JWT signing (users) and verification (everyone), the `bearer`
//!   security scheme.
//! - [`client`]: calls to other services: deadlines, retries of idempotent calls, cached
//!   service tokens, trace context passed on.
//! - [`faults`]: fault flags (OpenFeature, flagd file format) switched at run time.
//! - [`edge`]: rules every request passes first: header and body limits, no control
//!   characters in any string, `Allow` on 405; and the same rules written into the specs.
//! - [`metrics`]: OpenTelemetry metrics (HTTP server and client, database, business counters),
//!   on `/metrics` for Prometheus with exemplars, and over OTLP.
//! - [`nats`]: connecting to NATS with the login a `NATS_URL` carries; URLs for logs.
//! - [`dbop`]: database operations as client spans and duration measurements with the
//!   semantic conventions' attributes.
//! - [`server`]: the shared routes (spec, docs, health, metrics), request logging, serving
//!   with graceful shutdown.
//! - [`service`]: a service's start-up and shut-down order, written once; each service
//!   gives only its name, migrations and how it builds its endpoint ([`service::Service`]).
//! - [`rules`]: validation rules declared once, checked by the domain types' `parse` and
//!   written into the specs.
//! - [`types`]: values several services accept with one rule: `IdempotencyKey`, `Currency`.
//! - `localdb` (feature `localdb`): a private PostgreSQL cluster from the local binaries.
//! - `testing` (feature `testing`): the integration-test harness: a throwaway PostgreSQL,
//!   one fresh database per test cloned from a migrated template.

pub mod address;
pub mod auth;
pub mod client;
pub mod config;
pub mod db;
pub mod dbop;
pub mod edge;
pub mod faults;
pub mod head_replies;
pub mod lender;
#[cfg(feature = "localdb")]
pub mod localdb;
pub mod metrics;
pub mod nats;
#[cfg(feature = "testing")]
pub mod nats_server;
pub mod problem;
pub mod rules;
pub mod server;
pub mod service;
#[cfg(feature = "testing")]
pub mod smtp_catcher;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

pub use problem::{ApiError, FieldError, FieldErrors, Problem};
