//! The binary's settings as a Deployment gives them: variables, overridden by flags, over the
//! defaults of `cargo xtask dev`. Run as a process, since the variables are the process's own.

use std::process::{Command, Output};

/// Every variable loadgen reads, removed so the runner's environment cannot leak in.
const VARIABLES: [&str; 8] = [
    "PRODUCTS_URL",
    "USERS_URL",
    "ORDERS_URL",
    "STOREFRONT_URL",
    "LOADGEN_USERS_PER_SEC",
    "LOADGEN_DURATION_SECS",
    "LOADGEN_ADMIN_EMAIL",
    "LOADGEN_ADMIN_PASSWORD",
];

fn loadgen(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loadgen"));
    for variable in VARIABLES {
        command.env_remove(variable);
    }
    command.envs(env.iter().copied()).args(args).output().expect("run loadgen")
}

/// A URL nothing listens on: the shoppers' requests fail at once, and the run ends in a second.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    format!("http://127.0.0.1:{port}")
}

fn start_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn flags_beat_variables_which_beat_the_defaults() {
    let closed = closed_url();
    let output = loadgen(
        &[
            ("PRODUCTS_URL", &format!("{closed}/")),
            ("USERS_URL", &closed),
            ("LOADGEN_USERS_PER_SEC", "1000"),
            ("LOADGEN_DURATION_SECS", "1"),
            // Empty counts as unset, as a Deployment with an empty value means.
            ("STOREFRONT_URL", ""),
            ("LOADGEN_ADMIN_EMAIL", ""),
        ],
        &["--users-per-sec", "0.5", "--progress", "60"],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        start_line(&output),
        format!(
            "loadgen: 0.5 new shoppers/s against products {closed}, users {closed}, orders http://127.0.0.1:8083 for 1 s"
        ),
        "flag over variable, variable with its slash trimmed, default"
    );
}

#[test]
fn a_bad_variable_is_refused_with_its_name_and_exit_status_2() {
    let output = loadgen(&[("LOADGEN_DURATION_SECS", "soon")], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--duration") && stderr.contains("soon"), "{stderr}");
    let output = loadgen(&[("LOADGEN_ADMIN_EMAIL", "admin@example.com")], &[]);
    assert_eq!(output.status.code(), Some(2), "an e-mail without a password");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--admin-password"));
}
