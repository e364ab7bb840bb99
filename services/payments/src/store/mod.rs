//! SQL for the payments database.

pub mod payments;
