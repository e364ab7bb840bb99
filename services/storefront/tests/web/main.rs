//! The storefront against the real services (users, products, payments, orders in-process on
//! port 0, each with its own fresh database): page and form tests over HTTP, and browser tests
//! in headless Chromium (ignored by default: they need `chromium` and `chromedriver`;
//! `.ci/checks/storefront.sh` installs both and runs them). `traced` shops once in an already
//! running `cargo xtask dev` and finds the purchase in Jaeger (`.ci/checks/jaeger.sh`).

mod browser;
mod driver;
mod helpers;
mod pages;
mod security;
mod traced;
