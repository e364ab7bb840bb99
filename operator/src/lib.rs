//! The microshop operator: turns one `Shop` custom resource into a running shop and keeps it so.
//!
//! # Layout
//! - [`crd`]: the `Shop` types; the CRD is generated from them.
//! - [`validate`]: pure checks of a Shop.
//! - [`build`]: pure functions from a Shop to the desired children, one file per kind of child.
//! - [`render`]: the `render` command, built on [`build`].
pub mod build;
pub mod crd;
pub mod render;
pub mod validate;
