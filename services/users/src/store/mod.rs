//! SQL for the users database.

pub mod throttle;
pub mod users;
