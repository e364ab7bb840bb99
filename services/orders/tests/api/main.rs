//! Integration tests of the orders service with all four real services (in-process, each on
//! port 0 with its own fresh database) and real PostgreSQL. Faults come from stopping a real
//! service or from the payments simulation settings, never from mocking our own clients.

mod delivery;
mod events;
mod failures;
mod flow;
mod hardening;
mod helpers;
mod recovery;
