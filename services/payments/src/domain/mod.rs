//! Card and charge rules, free of I/O.

pub mod card;
pub mod charge;
