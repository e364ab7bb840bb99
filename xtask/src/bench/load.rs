//! The two load generators and what they measured: wrk against the services, pgbench
//! against PostgreSQL.
//!
//! wrk (Debian package, installed here when missing) rather than a Rust load-generator crate:
//! it is a small C program with a Lua hook for per-request headers, so it takes little of
//! the two cores from the services it measures, as pgbench does for PostgreSQL, and it adds
//! nothing to xtask's build.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// Throughput and latency of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Completed requests (transactions) per second.
    pub per_sec: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile latency, milliseconds (the search goal of issue 11 is stated in it).
    pub p95_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Requests answered with a status other than 2xx/3xx, or socket errors.
    pub errors: u64,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// The wrk binary, installed with apt-get when it is missing and we are root.
pub fn ensure_wrk() -> anyhow::Result<PathBuf> {
    if let Some(path) = on_path("wrk") {
        return Ok(path);
    }
    println!("xtask: wrk not found, installing the Debian package");
    let status = Command::new("apt-get")
        .args(["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", "wrk"])
        .status()
        .context("running apt-get (install wrk yourself if this machine has no apt)")?;
    if !status.success() {
        bail!("apt-get install wrk failed: run `apt-get update` first, or install wrk yourself");
    }
    on_path("wrk").context("wrk still not on PATH after installing it")
}

/// The pgbench binary (ships with the PostgreSQL client or server packages).
pub fn find_pgbench() -> anyhow::Result<PathBuf> {
    shopkit::localdb::find_binary("pgbench").context("pgbench not found: install postgresql-contrib or the client")
}

/// Runs wrk for `secs` with `connections` against `url`, optionally with a Lua script.
pub fn run_wrk(wrk: &Path, url: &str, script: Option<&Path>, connections: u32, secs: u32) -> anyhow::Result<Measured> {
    let threads = connections.clamp(1, 2).to_string();
    let mut cmd = Command::new(wrk);
    cmd.args(["-t", &threads, "-c", &connections.to_string(), "-d", &format!("{secs}s"), "--latency"]);
    cmd.args(["--timeout", "10s"]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let output = cmd.arg(url).output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&text).with_context(|| format!("unexpected wrk output:\n{text}"))
}

/// Milliseconds of a wrk duration such as `812.00us`, `1.23ms` or `2.01s`.
fn wrk_ms(raw: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = raw.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = raw.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = raw.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = raw.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(text: &str) -> Option<Measured> {
    let mut measured = Measured::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => measured.p50_ms = wrk_ms(value)?,
            ["99%", value] => measured.p99_ms = wrk_ms(value)?,
            // Printed by the `done` hook of the scenario's Lua script, in microseconds.
            ["p95_us", value] => measured.p95_ms = value.parse::<f64>().ok()? / 1000.0,
            ["Requests/sec:", value] => measured.per_sec = value.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => measured.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                measured.errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    (measured.per_sec > 0.0).then_some(measured)
}

/// One pgbench run: a script against one database.
pub struct Pgbench<'a> {
    /// The binary.
    pub binary: &'a Path,
    /// Server port on 127.0.0.1 (user postgres, trust).
    pub port: u16,
    /// Database name.
    pub database: &'a str,
    /// The script file.
    pub script: &'a Path,
    /// `-D name=value` variables the script uses.
    pub variables: &'a [(String, String)],
    /// Where the per-transaction log goes (for percentiles).
    pub log_dir: &'a Path,
}

impl Pgbench<'_> {
    /// Runs with `clients` connections for `secs`, prepared statements as sqlx uses them.
    pub fn run(&self, clients: u32, secs: u32) -> anyhow::Result<Measured> {
        let _ = std::fs::remove_dir_all(self.log_dir);
        std::fs::create_dir_all(self.log_dir)?;
        let threads = clients.clamp(1, 2).to_string();
        let mut cmd = Command::new(self.binary);
        cmd.args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", &threads, "-T", &secs.to_string()])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "--log", "--log-prefix"])
            .arg(self.log_dir.join("tx"))
            .arg("-f")
            .arg(self.script);
        for (name, value) in self.variables {
            cmd.arg("-D").arg(format!("{name}={value}"));
        }
        let output = cmd.arg(self.database).output().context("running pgbench")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("pgbench on {} failed: {text}{}", self.database, String::from_utf8_lossy(&output.stderr));
        }
        let mut measured = parse_pgbench(&text).with_context(|| format!("unexpected pgbench output:\n{text}"))?;
        let mut latencies_us = read_latencies(self.log_dir)?;
        latencies_us.sort_unstable();
        measured.p50_ms = percentile(&latencies_us, 0.50) / 1000.0;
        measured.p95_ms = percentile(&latencies_us, 0.95) / 1000.0;
        measured.p99_ms = percentile(&latencies_us, 0.99) / 1000.0;
        Ok(measured)
    }
}

fn parse_pgbench(text: &str) -> Option<Measured> {
    let mut measured = Measured::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("tps = ") {
            measured.per_sec = rest.split_whitespace().next()?.parse().ok()?;
        }
        if let Some(rest) = line.strip_prefix("number of failed transactions: ") {
            measured.errors = rest.split_whitespace().next()?.parse().ok()?;
        }
    }
    (measured.per_sec > 0.0).then_some(measured)
}

/// Per-transaction latencies (µs, third column) from pgbench's `--log` files.
fn read_latencies(dir: &Path) -> anyhow::Result<Vec<u64>> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        latencies.extend(text.lines().filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()));
    }
    Ok(latencies)
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_and_pgbench_reports_are_read() {
        let wrk = "Running 2s test @ http://127.0.0.1:9281/products/x
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     99%    2.50ms
  20000 requests in 2.00s, 9.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  10000.50
p95_us 1875
";
        let m = parse_wrk(wrk).expect("parsed");
        assert_eq!((m.per_sec, m.p50_ms, m.p95_ms, m.p99_ms, m.errors), (10000.5, 0.812, 1.875, 2.5, 7));
        assert!(parse_wrk("nothing useful").is_none(), "no throughput is an error");
        let pgbench = "number of failed transactions: 0 (0.000%)\nlatency average = 0.5 ms\ntps = 15432.1 (without initial connection time)\n";
        let m = parse_pgbench(pgbench).expect("parsed");
        assert_eq!((m.per_sec, m.errors), (15432.1, 0));
        assert_eq!(percentile(&[1, 2, 3, 4, 100], 0.5), 3.0, "median");
        assert_eq!(percentile(&[1, 2, 3, 4, 100], 0.99), 100.0, "tail");
    }
}
