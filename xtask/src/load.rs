//! `cargo xtask load [loadgen options]`: builds `loadgen` and runs it against `cargo xtask dev`
//! on this machine, as the dev admin (for restocks), browsing the storefront too when one
//! answers on its port. Every option is passed on to `loadgen`, so any default can be changed
//! (`cargo xtask load --help` lists them).

use std::{net::TcpStream, path::Path, time::Duration};

use anyhow::bail;

/// Where `cargo xtask dev` serves the storefront.
const STOREFRONT: &str = "127.0.0.1:8080";

/// Builds and runs the load generator; returns its exit status as ours.
pub fn run(root: &Path, args: Vec<String>) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status =
        std::process::Command::new(&cargo).current_dir(root).args(["build", "--quiet", "-p", "loadgen"]).status()?;
    if !status.success() {
        bail!("cargo build -p loadgen failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    let mut command = std::process::Command::new(target.join("debug").join("loadgen"));
    command.current_dir(root);
    let given = |flag: &str| args.iter().any(|a| a == flag);
    if !given("--admin-email") && std::env::var_os("LOADGEN_ADMIN_EMAIL").is_none() {
        let (email, password) = super::dev::admin_credentials();
        command.args(["--admin-email", &email, "--admin-password", &password]);
    }
    if !given("--storefront-url") && storefront_answers() {
        command.args(["--storefront-url", &format!("http://{STOREFRONT}")]);
    }
    let status = command.args(&args).status()?;
    std::process::exit(status.code().unwrap_or(1));
}

fn storefront_answers() -> bool {
    STOREFRONT.parse().is_ok_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok())
}
