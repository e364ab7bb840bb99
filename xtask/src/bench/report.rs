//! Memory readings and the result table (printed, and written as Markdown).

use std::fmt::Write as _;

use super::load::Measured;

/// Resident memory of a process from `/proc/<pid>/status`: (current, peak) in MiB.
pub fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
    };
    Some((field("VmRSS:")? / 1024.0, field("VmHWM:")? / 1024.0))
}

/// One scenario at one catalogue size.
pub struct Row {
    /// Scenario name.
    pub scenario: &'static str,
    /// Products in the catalogue.
    pub size: u32,
    /// What wrk measured against the service.
    pub service: Measured,
    /// What pgbench measured for the same SQL (combined over databases).
    pub postgres: Measured,
    /// How many databases the SQL touched (pgbench ran one after the other).
    pub databases: usize,
    /// The measured service's resident memory after the run, MiB.
    pub rss_mib: f64,
}

/// Combines sequential pgbench runs over several databases into one transaction that does
/// all of them: rates add as times (1 / sum of 1/rate), latencies add.
pub fn combine(parts: &[Measured]) -> Measured {
    let seconds_per_tx: f64 = parts.iter().map(|m| 1.0 / m.per_sec.max(f64::MIN_POSITIVE)).sum();
    Measured {
        per_sec: if parts.is_empty() { 0.0 } else { 1.0 / seconds_per_tx },
        p50_ms: parts.iter().map(|m| m.p50_ms).sum(),
        p95_ms: parts.iter().map(|m| m.p95_ms).sum(),
        p99_ms: parts.iter().map(|m| m.p99_ms).sum(),
        errors: parts.iter().map(|m| m.errors).sum(),
    }
}

/// The average of several rounds of the same run: mean rates and medians, the worst p95 and
/// p99, all errors.
pub fn mean(rounds: &[Measured]) -> Measured {
    let n = rounds.len().max(1) as f64;
    Measured {
        per_sec: rounds.iter().map(|m| m.per_sec).sum::<f64>() / n,
        p50_ms: rounds.iter().map(|m| m.p50_ms).sum::<f64>() / n,
        p95_ms: rounds.iter().map(|m| m.p95_ms).fold(0.0, f64::max),
        p99_ms: rounds.iter().map(|m| m.p99_ms).fold(0.0, f64::max),
        errors: rounds.iter().map(|m| m.errors).sum(),
    }
}

/// Memory of every service: idle after start and at the end.
pub struct Memory {
    /// Service name.
    pub service: &'static str,
    /// RSS before any load, MiB.
    pub idle: f64,
    /// RSS at the end, MiB.
    pub end: f64,
    /// Peak RSS over the whole run, MiB.
    pub peak: f64,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| l.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or_else(String::new, |kib| format!(", {:.0} GiB RAM", kib / 1024.0 / 1024.0));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}){memory}; load average at the end: {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    )
}

/// The report as Markdown.
pub fn markdown(rows: &[Row], memory: &[Memory], settings: &str, commit: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# microshop bench\n");
    let _ = writeln!(out, "- services: {commit}");
    let _ = writeln!(out, "- machine: {}", machine());
    let _ = writeln!(
        out,
        "- each run: {settings}; pgbench runs the SQL the scenario executed, captured from PostgreSQL's log\n"
    );
    let _ = writeln!(
        out,
        "| scenario | products | service req/s | p50 ms | p95 ms | p99 ms | errors | pgbench tx/s | p50 ms | p95 ms | p99 ms | ratio | RSS MiB |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let ratio = if r.postgres.per_sec > 0.0 { r.service.per_sec / r.postgres.per_sec } else { 0.0 };
        let dbs = if r.databases > 1 { format!(" ({} DBs)", r.databases) } else { String::new() };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.0}{dbs} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
            r.scenario,
            r.size,
            r.service.per_sec,
            r.service.p50_ms,
            r.service.p95_ms,
            r.service.p99_ms,
            r.service.errors,
            r.postgres.per_sec,
            r.postgres.p50_ms,
            r.postgres.p95_ms,
            r.postgres.p99_ms,
            ratio,
            r.rss_mib
        );
    }
    let _ = writeln!(out, "\n| service | idle RSS MiB | RSS at end MiB | peak RSS MiB |\n|---|---:|---:|---:|");
    for m in memory {
        let _ = writeln!(out, "| {} | {:.1} | {:.1} | {:.1} |", m.service, m.idle, m.end, m.peak);
    }
    let _ = writeln!(
        out,
        "\nWhen a scenario's SQL spans several databases, pgbench ran each database's part in turn; \
         the rates are combined as one transaction doing all parts (1/sum(1/rate)) and the latencies are summed."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_over_several_databases_combine_as_one_transaction() {
        let part =
            |per_sec, p50_ms| Measured { per_sec, p50_ms, p95_ms: p50_ms * 1.5, p99_ms: p50_ms * 2.0, errors: 1 };
        let combined = combine(&[part(1000.0, 1.0), part(1000.0, 2.0)]);
        assert!((combined.per_sec - 500.0).abs() < 1e-9, "two equal halves take twice as long");
        assert_eq!((combined.p50_ms, combined.p95_ms, combined.p99_ms, combined.errors), (3.0, 4.5, 6.0, 2));
        assert!(
            rss_mib(std::process::id()).is_some_and(|(now, peak)| now > 0.0 && peak >= now),
            "own memory is readable"
        );
    }
}
