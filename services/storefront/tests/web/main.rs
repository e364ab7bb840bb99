//! The storefront against the real services (users, products, payments, orders in-process on
//! port 0, each with its own fresh database): page and form tests over HTTP, and browser tests
//! in headless Chromium (ignored by default: they need `chromium` and `chromedriver`;
//! `.ci/checks/storefront.sh` installs both and runs them).

mod browser;
mod driver;
mod helpers;
mod pages;
mod security;
