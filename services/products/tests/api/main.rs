//! Integration tests of the products service: one binary, real PostgreSQL, real HTTP, real
//! JWT signatures. Each test gets its own database and server (see `helpers`).

mod catalogue;
mod faults;
mod hardening;
mod helpers;
mod replica;
mod reservations;
mod search;
mod service;
