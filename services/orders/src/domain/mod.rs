//! Order types and rules, free of I/O.

pub mod items;
pub mod status;
