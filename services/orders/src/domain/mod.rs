//! Order types and rules, free of I/O.

pub mod access;
pub mod delivery;
pub mod items;
pub mod listing;
pub mod order;
pub mod status;
