//! SQL for the orders database.

pub mod deliveries;
pub mod orders;
pub mod outbox;
