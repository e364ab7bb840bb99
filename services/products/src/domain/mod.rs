//! Catalogue types and rules, free of I/O: the API parses wire input into these, the store
//! persists them. Each newtype can only hold a valid value.

pub mod product;
pub mod reservation;
pub mod search;
