//! `loadgen`: traffic that shops like people, against a running microshop.
//!
//! New shoppers arrive at a steady rate (`--users-per-sec`); each one runs a session of its own,
//! concurrently with the others: browses the catalogue, searches (sometimes with a typo), looks
//! at products, and some of them register or log in, order, pay (now and then with a card that
//! is declined, then with a good one), and cancel. An admin restocks what runs low, as a shop
//! owner would, so that a long run keeps selling instead of ending in "out of stock".
//!
//! Every request is classified: an *expected* answer (including the refusals a real shopper
//! meets: a declined card, a product that sold out meanwhile) or an *unexpected* one (a 5xx, a
//! timeout, a refusal the shopper did nothing to cause). Unexpected answers are what a fault
//! flag produces, and what the report counts as errors.
//!
//! # Layout
//! - [`settings`]: flags and environment variables.
//! - [`shop`]: the HTTP calls a shopper makes, each timed and classified into [`stats`].
//! - [`catalogue`]: what shoppers know of the catalogue (ids, search words, typos).
//! - [`shopper`]: one shopper's session, the mix of behaviours.
//! - [`admin`]: the shop owner's restocks.
//! - [`stats`]: per-operation counts and latency percentiles, the live line and the final table.
//! - [`run`]: arrivals at the configured rate, progress, the report.

pub mod admin;
pub mod catalogue;
pub mod run;
pub mod settings;
pub mod shop;
pub mod shopper;
pub mod stats;
