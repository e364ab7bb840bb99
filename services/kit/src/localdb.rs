//! A private PostgreSQL cluster from the local server binaries (feature `localdb`).
//!
//! Used by the test harness (a throwaway cluster per test binary) and by `cargo xtask dev`
//! (a cluster whose data lives under `target/`). PostgreSQL refuses to run as root, so when
//! we are root every server command runs as the `postgres` user.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// A cluster started by this process.
#[derive(Debug)]
pub struct LocalCluster {
    data_dir: PathBuf,
    pg_ctl: PathBuf,
    as_root: bool,
    /// TCP port on 127.0.0.1.
    pub port: u16,
}

/// Finds a PostgreSQL server binary on PATH or in Debian's versioned directories.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path().join("bin").join(name)).collect())
        .unwrap_or_default();
    debian.sort();
    debian.reverse(); // newest major version first
    on_path.into_iter().chain(debian).find(|p| p.is_file())
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

fn pg_command(binary: &Path, as_root: bool) -> Command {
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(binary);
        cmd
    } else {
        Command::new(binary)
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let output = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// What to do on a machine without PostgreSQL: the tests and `cargo xtask dev` need its server
/// binaries (or a server of their own in `DATABASE_URL`).
const NO_POSTGRESQL: &str = "PostgreSQL's initdb and pg_ctl were found neither on PATH nor under \
/usr/lib/postgresql/<version>/bin: install them (Debian: `apt-get install postgresql`, which .ci/run \
does) or set DATABASE_URL to a server whose role may create databases";

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl LocalCluster {
    /// Starts a cluster in `dir` (initialised there first if `dir/data` does not exist) on
    /// `port`, trust authentication for user `postgres` on 127.0.0.1 only, durability off
    /// (development and tests only).
    pub fn start(dir: &Path, port: u16) -> Result<Self, String> {
        let initdb = find_binary("initdb").ok_or(NO_POSTGRESQL)?;
        let pg_ctl = find_binary("pg_ctl").ok_or(NO_POSTGRESQL)?;
        let as_root = running_as_root();
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        if as_root {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir), "chown to postgres")?;
        }
        let data_dir = dir.join("data");
        if !data_dir.join("PG_VERSION").exists() {
            run(
                pg_command(&initdb, as_root).arg("-D").arg(&data_dir).args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]),
                "initdb",
            )?;
        }
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400",
            dir.display()
        );
        run(
            pg_command(&pg_ctl, as_root)
                .arg("-D")
                .arg(&data_dir)
                .args(["-o", &options, "-w", "-l"])
                .arg(dir.join("postgres.log"))
                .arg("start"),
            "pg_ctl start",
        )?;
        Ok(Self { data_dir, pg_ctl, as_root, port })
    }

    /// URL of the `postgres` maintenance database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: disconnects clients, then exits cleanly).
    pub fn stop(&self) -> Result<(), String> {
        run(
            pg_command(&self.pg_ctl, self.as_root).arg("-D").arg(&self.data_dir).args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        )
    }

    /// Starts a detached watchdog that stops the server once process `pid` has exited (and
    /// deletes `remove` if given), so no PostgreSQL outlives its owner even if it is killed.
    pub fn stop_when_gone(&self, pid: u32, remove: Option<&Path>) -> Result<(), String> {
        let stop = format!(
            "{}'{}' -D '{}' -m immediate stop",
            if self.as_root { "runuser -u postgres -- " } else { "" },
            self.pg_ctl.display(),
            self.data_dir.display()
        );
        let cleanup = remove.map(|d| format!("; rm -rf '{}'", d.display())).unwrap_or_default();
        let script = format!("while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1{cleanup}");
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("watchdog: {e}"))
    }
}
