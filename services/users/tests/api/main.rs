//! Integration tests of the users service: one binary, real PostgreSQL, real HTTP, real
//! Ed25519 signatures.

mod accounts;
mod addresses;
mod faults;
mod hardening;
mod helpers;
mod login;
mod memory;
mod refresh;
mod tokens;
