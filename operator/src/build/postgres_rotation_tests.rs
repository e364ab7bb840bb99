//! [`super::SET_PASSWORD_SCRIPT`] against a real PostgreSQL (the local server binaries): after
//! it ran on an existing data directory, the new password logs in and the old one does not.
//! Needs `initdb`, `pg_ctl`, `postgres` (Debian's `/usr/lib/postgresql/<v>/bin` or PATH) and
//! `psql`; as root, the server commands run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::SET_PASSWORD_SCRIPT;

fn server_bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.pop().filter(|d| d.join("postgres").is_file()).unwrap_or_else(|| PathBuf::from("/usr/local/bin"))
}

fn as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a shell snippet as the user PostgreSQL runs as, with the server binaries on PATH.
fn sh(dir: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let path = format!("{}:{}", server_bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "env"]);
        c
    } else {
        Command::new("env")
    };
    cmd.arg(format!("PATH={path}")).args(env.iter().map(|(k, v)| format!("{k}={v}")));
    cmd.args(["sh", "-c", script]).current_dir(dir).output().expect("a shell runs")
}

fn login(dir: &Path, port: u16, password: &str) -> bool {
    let script = format!("psql -h 127.0.0.1 -p {port} -U users -d postgres -tAc 'select 1'");
    sh(dir, &script, &[("PGPASSWORD", password), ("PGCONNECT_TIMEOUT", "5")]).status.success()
}

#[test]
fn the_init_script_sets_the_secrets_password_on_an_existing_data_directory() {
    let dir = std::env::temp_dir().join(format!("microshop-pwrot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    if as_root() {
        assert!(Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().expect("chown").success());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let data = dir.join("data");
    let data_s = data.display().to_string();

    // A fresh directory: nothing to do, initdb will use the Secret's password.
    let fresh =
        sh(&dir, SET_PASSWORD_SCRIPT, &[("PGDATA", &data_s), ("POSTGRES_USER", "users"), ("POSTGRES_PASSWORD", "x")]);
    assert!(fresh.status.success(), "{}", String::from_utf8_lossy(&fresh.stderr));
    assert!(String::from_utf8_lossy(&fresh.stdout).contains("new data directory"));

    // The image's first start: initdb with the old password and password authentication.
    let init =
        sh(&dir, "printf old > pw && initdb -D data -U users --pwfile=pw -A scram-sha-256 --no-sync >/dev/null", &[]);
    assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));

    // Rotated in the Secret (with a quote, which must survive the SQL literal), pod restarted.
    let new_password = "n3w'pass";
    let rotated = sh(
        &dir,
        SET_PASSWORD_SCRIPT,
        &[("PGDATA", &data_s), ("POSTGRES_USER", "users"), ("POSTGRES_PASSWORD", new_password)],
    );
    assert!(rotated.status.success(), "script: {}", String::from_utf8_lossy(&rotated.stderr));

    let start =
        format!("pg_ctl -D data -o '-p {port} -k {} -c listen_addresses=127.0.0.1' -l log -w start", dir.display());
    assert!(sh(&dir, &start, &[]).status.success(), "server starts");
    let (new_ok, old_ok) = (login(&dir, port, new_password), login(&dir, port, "old"));
    sh(&dir, "pg_ctl -D data -m immediate -w stop", &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(new_ok, "the Secret's new password logs in");
    assert!(!old_ok, "the old password no longer does");
}
