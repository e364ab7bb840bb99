//! Integration tests of the payments service: real PostgreSQL, real HTTP, real tokens.

mod charges;
mod faults;
mod helpers;
