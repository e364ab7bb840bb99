//! The microshop operator: turns one `Shop` custom resource into a running shop and keeps it so.
//!
//! # Layout
//! - [`crd`]: the `Shop` types; the CRD (`k8s/crd.yaml`) is generated from them.
//! - [`validate`]: pure checks of a Shop.
//! - [`build`]: pure functions from a Shop to the desired children, one file per kind of child;
//!   [`build::database`]: what differs between the database modes, one module per mode
//!   (`managed`, `cnpg`, `external`), asked through one trait.
//! - [`status`]: pure computation of the status from what a reconcile observed.
//! - [`reconcile`]: the effects: apply, Secrets, finalizer, status, Events, backoff.
//! - [`controller`]: watches and drives [`reconcile`]; [`metrics`] serves `/metrics` and health;
//!   [`leader`]: a Lease so that of two replicas only one reconciles.
//! - [`render`]: the `render` command, built on [`build`].
pub mod build;
pub mod controller;
pub mod crd;
pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod render;
pub mod status;
pub mod validate;

#[cfg(test)]
mod fixtures;
