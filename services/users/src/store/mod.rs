//! SQL for the users database.

pub mod refresh_tokens;
pub mod throttle;
pub mod users;
