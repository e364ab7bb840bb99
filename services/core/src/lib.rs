//! `shopcore`: the few rules and formats that both the services and the operator apply, kept
//! in one place so they cannot drift apart.
//!
//! The kit (`shopkit`) pulls in poem, sqlx and OpenTelemetry; the operator must not. So what
//! the two sides share lives here instead: pure functions, no I/O, only the `pem` crate
//! as a dependency.
//!
//! # Layout
//! - [`email`]: the e-mail address rule (users enforces it on accounts; the operator checks
//!   the bootstrap admin's address with it before users would refuse to start).
//! - [`money`]: amounts in integer minor units as people read them (the storefront's pages, the
//!   notifications' e-mails) and as admins type them.
//! - [`order_number`]: the number people read for an order.
//! - [`pem`]: PEM framing of DER on the `pem` crate, with the line endings and block choice
//!   both sides need (the kit's JWT keys, the operator's generated key pairs).

pub mod email;
pub mod money;
pub mod order_number;
pub mod pem;
