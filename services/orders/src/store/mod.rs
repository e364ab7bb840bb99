//! SQL for the orders database.

pub mod orders;
