//! SQL for the users database.

pub mod addresses;
pub mod login_addresses;
pub mod refresh_tokens;
pub mod throttle;
pub mod users;
