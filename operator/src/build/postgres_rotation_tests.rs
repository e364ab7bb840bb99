//! [`super::PREPARE_ROLES_SCRIPT`] against a real PostgreSQL (the local server binaries): on an
//! empty volume it makes a data directory whose application role owns its database and is not a
//! superuser (and can still run the products migrations' `CREATE EXTENSION pg_trgm`); after the
//! Secret's passwords change, the new ones log in and the old ones do not; a data directory of
//! an older operator (the application role as bootstrap superuser) gets a `postgres` superuser.
//! Needs `initdb`, `pg_ctl`, `postgres`, `psql` (Debian's `/usr/lib/postgresql/<v>/bin` or PATH);
//! as root, the server commands run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::PREPARE_ROLES_SCRIPT;

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
    cmd.arg(format!("PATH={path}")).arg(format!("TMPDIR={}", dir.display()));
    cmd.args(env.iter().map(|(k, v)| format!("{k}={v}")));
    cmd.args(["sh", "-c", script]).current_dir(dir).output().expect("a shell runs")
}

/// A throwaway directory the server user owns, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = tempfile::Builder::new().prefix(&format!("microshop-{tag}-")).tempdir().expect("temp dir").keep();
        if as_root() {
            assert!(Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().expect("chown").success());
        }
        Self(dir)
    }

    /// Runs the init script with the Secret's values.
    fn prepare(&self, superuser_password: &str, app_password: &str) -> Output {
        let data = self.0.join("data").display().to_string();
        let out = sh(
            &self.0,
            PREPARE_ROLES_SCRIPT,
            &[
                ("PGDATA", &data),
                ("POSTGRES_DB", "users"),
                ("POSTGRES_PASSWORD", superuser_password),
                ("APP_USER", "users"),
                ("APP_PASSWORD", app_password),
            ],
        );
        assert!(
            out.status.success(),
            "script: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts the server on a TCP port for the duration of `check`.
    fn with_server<T>(&self, check: impl FnOnce(&Server) -> T) -> T {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let start = format!(
            "pg_ctl -D data -o '-p {port} -k {} -c listen_addresses=127.0.0.1' -l log -w start",
            self.0.display()
        );
        let started = sh(&self.0, &start, &[]);
        assert!(started.status.success(), "server starts: {}", String::from_utf8_lossy(&started.stderr));
        let server = Server { dir: &self.0, port };
        check(&server)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server, stopped when dropped (also when a check fails).
struct Server<'a> {
    dir: &'a Path,
    port: u16,
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        sh(self.dir, "pg_ctl -D data -m immediate -w stop", &[]);
    }
}

impl Server<'_> {
    /// Runs `sql` over TCP with a password; `None` when the login or the statement fails.
    fn query(&self, user: &str, password: &str, sql: &str) -> Option<String> {
        let script = format!("psql -h 127.0.0.1 -p {} -U {user} -d users -XtAc \"$SQL\"", self.port);
        let out = sh(self.dir, &script, &[("PGPASSWORD", password), ("PGCONNECT_TIMEOUT", "5"), ("SQL", sql)]);
        if !out.status.success() {
            eprintln!("{user}: {sql}: {}", String::from_utf8_lossy(&out.stderr));
        }
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[test]
fn a_new_volume_gets_a_non_superuser_owner_and_rotations_apply() {
    let scratch = Scratch::new("pgroles");
    let first = scratch.prepare("su-1", "app-1");
    assert!(String::from_utf8_lossy(&first.stdout).contains("initialised a new data directory"));

    scratch.with_server(|db| {
        assert_eq!(
            db.query("users", "app-1", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").as_deref(),
            Some("f")
        );
        let owner = "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'users'";
        assert_eq!(db.query("users", "app-1", owner).as_deref(), Some("users"));
        let migration = "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE TABLE t (name text); \
                         CREATE INDEX ON t USING gin (name gin_trgm_ops); SELECT 'migrated'";
        let migrated = db.query("users", "app-1", migration).unwrap_or_default();
        assert!(migrated.ends_with("migrated"), "migrations need no superuser: {migrated}");
        assert_eq!(
            db.query("postgres", "su-1", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").as_deref(),
            Some("t")
        );
        assert!(db.query("users", "wrong", "SELECT 1").is_none(), "password authentication over TCP");
    });

    // Both passwords rotated in the Secret (with a quote, which must survive), pod restarted.
    let again = scratch.prepare("su'2", "app'2");
    assert!(!String::from_utf8_lossy(&again.stdout).contains("initialised"), "the data directory is kept");
    scratch.with_server(|db| {
        assert!(db.query("users", "app'2", "SELECT 1").is_some(), "the new application password logs in");
        assert!(db.query("users", "app-1", "SELECT 1").is_none(), "the old one does not");
        assert!(db.query("postgres", "su'2", "SELECT 1").is_some(), "the new superuser password logs in");
        assert!(db.query("postgres", "su-1", "SELECT 1").is_none());
        assert_eq!(db.query("users", "app'2", "SELECT count(*) FROM t").as_deref(), Some("0"), "the data is kept");
    });
}

#[test]
fn a_data_directory_of_an_older_operator_gets_a_superuser_and_keeps_working() {
    let scratch = Scratch::new("pglegacy");
    // What the operator's managed databases used to be: the application role as bootstrap superuser.
    let init = sh(
        &scratch.0,
        "printf old > pw && initdb -D data -U users --pwfile=pw --auth-local=trust --auth-host=scram-sha-256 \
         --no-sync >/dev/null && echo 'host all all all scram-sha-256' >> data/pg_hba.conf",
        &[],
    );
    assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
    let out = scratch.prepare("su-new", "app-new");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stays a superuser"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    scratch.with_server(|db| {
        assert!(db.query("users", "app-new", "SELECT 1").is_some(), "the Secret's password applies");
        assert!(db.query("users", "old", "SELECT 1").is_none());
        assert!(db.query("postgres", "su-new", "SELECT 1").is_some(), "a postgres superuser now exists");
    });
}
