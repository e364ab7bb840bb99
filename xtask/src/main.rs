//! Developer commands.
//!
//! `cargo xtask dev` runs the whole shop on this machine without Docker: a private
//! PostgreSQL (the local server binaries, data under `target/xtask-dev/`, or the server in
//! `DATABASE_URL`), the storefront on 8080 and the four services on ports 8081-8084 (or those
//! given with `--<name>-port` or `XTASK_<NAME>_PORT`, so two can run side by side), a demo
//! catalogue, and the URLs and admin credentials printed. With a `jaeger` binary (`JAEGER_BIN`
//! or on `PATH`) it also runs Jaeger v2 and sends the services' traces there. Ctrl-C (SIGINT)
//! or SIGTERM stops everything it started.
//!
//! `cargo xtask load` sends shoppers to it (the `loadgen` crate), with the dev admin restocking.
//!
//! `cargo xtask bench` measures release builds of the services against PostgreSQL running
//! the same SQL (see `bench/mod.rs`; `cargo xtask bench --help` lists its options).

mod bench;
mod dev;
mod load;

use clap::Parser;

/// The command line: one subcommand, each with its own options (`cargo xtask <command> --help`).
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "Developer commands for microshop.")]
enum Xtask {
    /// Run the whole shop locally (PostgreSQL + storefront, products, users, orders, payments).
    Dev(dev::ports::Ports),
    /// Send simulated shoppers to it; every option goes to loadgen (`cargo xtask load --help`).
    #[command(disable_help_flag = true)]
    Load {
        /// loadgen's options, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Measure release builds of the services against PostgreSQL alone.
    ///
    /// Builds the services in release mode, starts them on a private PostgreSQL, seeds products
    /// and runs each scenario with wrk, next to pgbench running the same SQL on the same server.
    /// Writes target/bench/report.md.
    Bench(bench::options::Options),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Xtask::parse() {
        Xtask::Dev(ports) => dev::run(ports).await,
        Xtask::Load { args } => load::run(&dev::workspace_root(), args),
        Xtask::Bench(options) => bench::run(options).await,
    }
}
