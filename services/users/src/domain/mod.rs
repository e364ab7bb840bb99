//! Account types and rules, free of I/O.

pub mod account;
pub mod password;
