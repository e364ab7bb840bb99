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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dev") => dev::run(&args[1..]).await,
        Some("load") => load::run(&dev::workspace_root(), args[1..].to_vec()),
        Some("bench") => bench::run(&args[1..]).await,
        _ => {
            eprintln!(
                "usage: cargo xtask dev [--<component>-port N ...] | load [options] | bench [options]\n\n  dev     run the whole shop locally (PostgreSQL + storefront, products, users, orders, payments)\n  load    send simulated shoppers to it (`cargo xtask load --help`)\n  bench   measure release builds of the services against PostgreSQL alone (`cargo xtask bench --help`)\n\nports of `dev`:\n{}",
                dev::ports::usage()
            );
            std::process::exit(2);
        }
    }
}
