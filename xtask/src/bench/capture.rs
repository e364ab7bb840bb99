//! The SQL a scenario really runs, read from PostgreSQL's own log, turned into pgbench scripts.
//!
//! The bench compares each service with PostgreSQL running *the same statements*. Rather than
//! a hand-written copy of the services' SQL (which would drift, e.g. when search ranking
//! changes), it turns statement logging on for one request, reads what each database
//! executed, and replays exactly that: the statements with their parameters, per database.
//! Values a replay must not repeat (the new order's id, the idempotency key) become fresh
//! values per pgbench transaction.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::{Connection, PgConnection};

/// One executed statement with its parameter values (`None` = NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text with `$n` placeholders.
    pub sql: String,
    /// `$1`, `$2`, ... in order.
    pub params: Vec<Option<String>>,
}

/// Turns statement logging with durations on (`on`) or off for every session, now.
pub async fn set_logging(admin_url: &str, on: bool) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(admin_url).await.context("connecting to the bench PostgreSQL")?;
    let statements: &[&str] = if on {
        &["ALTER SYSTEM SET log_min_duration_statement = 0", "ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d '"]
    } else {
        &["ALTER SYSTEM RESET log_min_duration_statement", "ALTER SYSTEM RESET log_line_prefix"]
    };
    for sql in statements {
        sqlx::raw_sql(sql).execute(&mut conn).await?;
    }
    sqlx::raw_sql("SELECT pg_reload_conf()").execute(&mut conn).await?;
    conn.close().await?;
    // Backends apply the reload when they next go idle; give them a moment.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    Ok(())
}

/// Parses the parameter list of a `DETAIL:  parameters: $1 = 'a', $2 = NULL` line.
fn parse_params(raw: &str) -> Vec<Option<String>> {
    let mut params = Vec::new();
    let mut rest = raw;
    while let Some(start) = rest.find(" = ") {
        rest = &rest[start + 3..];
        if let Some(after) = rest.strip_prefix("NULL") {
            params.push(None);
            rest = after;
            continue;
        }
        let Some(body) = rest.strip_prefix('\'') else { break };
        let mut value = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                    value.push('\'');
                    chars.next();
                } else {
                    end = i + 1;
                    break;
                }
            } else {
                value.push(c);
            }
        }
        params.push(Some(value));
        rest = &body[end..];
    }
    params
}

/// The statements each database executed, in order, from the log text written while
/// statement logging was on (`log_line_prefix` `%m [%p] db=%d `).
pub fn statements_by_database(log: &str) -> BTreeMap<String, Vec<Statement>> {
    // Join continuation lines (PostgreSQL starts them with a tab) to their entry.
    let mut entries: Vec<String> = Vec::new();
    for line in log.lines() {
        match (line.strip_prefix('\t'), entries.last_mut()) {
            (Some(more), Some(last)) => {
                last.push('\n');
                last.push_str(more);
            }
            _ => entries.push(line.to_owned()),
        }
    }
    let mut found: BTreeMap<String, Vec<Statement>> = BTreeMap::new();
    let mut last_db: Option<String> = None;
    for entry in entries {
        let Some(db) = entry.split(" db=").nth(1).and_then(|r| r.split_whitespace().next()) else { continue };
        if let Some(params) = entry.split(" DETAIL:  parameters: ").nth(1) {
            // Parameters belong to the execute entry just before, in the same database.
            if last_db.as_deref() == Some(db)
                && let Some(last) = found.get_mut(db).and_then(|v| v.last_mut())
            {
                last.params = parse_params(params);
            }
            last_db = None;
            continue;
        }
        let Some(logged) = entry.split(" LOG:  duration: ").nth(1) else { continue };
        let Some((_, what)) = logged.split_once(" ms  ") else { continue };
        let sql = if let Some(rest) = what.strip_prefix("execute ") {
            rest.split_once(": ").map(|(_, sql)| sql)
        } else {
            what.strip_prefix("statement: ")
        };
        last_db = None;
        if let Some(sql) = sql {
            found.entry(db.to_owned()).or_default().push(Statement { sql: sql.trim().to_owned(), params: Vec::new() });
            last_db = what.starts_with("execute ").then(|| db.to_owned());
        }
    }
    found
}

/// A pgbench script and its `-D` variables.
#[derive(Debug, Default)]
pub struct Script {
    /// The script text.
    pub text: String,
    /// Variables for `-D`.
    pub variables: Vec<(String, String)>,
}

fn looks_like_uuid(value: &str) -> bool {
    value.len() == 36
        && value
            .chars()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// Writes `statements` as a pgbench script. A parameter whose value must be new on every
/// run (listed in `fresh`, or a UUID not in `known`) becomes an expression of the random
/// `:r` drawn per transaction; every other value is passed as a `-D` variable, which pgbench
/// sends as a bound parameter of a prepared statement, as sqlx does.
pub fn to_pgbench(statements: &[Statement], known: &[String], fresh: &[String], tag: &str) -> Script {
    let mut script = Script { text: "\\set r random(1, 9223372036854775806)\n".into(), ..Script::default() };
    let mut fresh_values: Vec<String> = Vec::new();
    for (s, statement) in statements.iter().enumerate() {
        let mut sql = statement.sql.clone();
        // From the highest number down, so `$1` does not match the start of `$10`.
        for (p, value) in statement.params.iter().enumerate().rev() {
            let placeholder = format!("${}", p + 1);
            let replacement = match value {
                None => "NULL".to_owned(),
                Some(v) if fresh.contains(v) || (looks_like_uuid(v) && !known.contains(v)) => {
                    let k = fresh_values.iter().position(|f| f == v).unwrap_or_else(|| {
                        fresh_values.push(v.clone());
                        fresh_values.len() - 1
                    });
                    if looks_like_uuid(v) {
                        format!("md5(:r::text || '{k}')::uuid")
                    } else {
                        format!("('{tag}-' || :r::text || '-{k}')")
                    }
                }
                Some(v) => {
                    let name = format!("{tag}_{s}_{p}");
                    script.variables.push((name.clone(), v.clone()));
                    format!(":{name}")
                }
            };
            sql = sql.replace(&placeholder, &replacement);
        }
        script.text.push_str(&sql);
        script.text.push_str(";\n");
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2026-11-29 12:00:00.000 UTC [10] db=orders LOG:  duration: 0.010 ms  statement: BEGIN
2026-11-29 12:00:00.001 UTC [10] db=orders LOG:  duration: 0.020 ms  bind sqlx_s_1: INSERT INTO orders (id, key) VALUES ($1, $2)
2026-11-29 12:00:00.001 UTC [10] db=orders DETAIL:  parameters: $1 = '0193a0b0-0000-7000-8000-000000000001', $2 = 'it''s-k'
2026-11-29 12:00:00.002 UTC [10] db=orders LOG:  duration: 0.030 ms  execute sqlx_s_1: INSERT INTO orders (id, key) VALUES ($1, $2)
2026-11-29 12:00:00.002 UTC [10] db=orders DETAIL:  parameters: $1 = '0193a0b0-0000-7000-8000-000000000001', $2 = 'it''s-k'
2026-11-29 12:00:00.003 UTC [11] db=products LOG:  duration: 0.030 ms  execute sqlx_s_2: SELECT name
\tFROM products WHERE id = $1 AND note = $2
2026-11-29 12:00:00.003 UTC [11] db=products DETAIL:  parameters: $1 = '00000000-0000-7000-8000-000000000009', $2 = NULL
";

    #[test]
    fn logged_statements_become_a_replayable_script() {
        let found = statements_by_database(LOG);
        let orders = &found["orders"];
        assert_eq!(orders.len(), 2, "BEGIN and the executed INSERT; bind entries are not statements");
        assert_eq!(orders[1].params[1].as_deref(), Some("it's-k"), "quotes are unescaped");
        let products = &found["products"];
        assert_eq!(products[0].sql, "SELECT name\nFROM products WHERE id = $1 AND note = $2", "multi-line SQL");
        assert_eq!(products[0].params, vec![Some("00000000-0000-7000-8000-000000000009".to_owned()), None]);

        let known = vec!["00000000-0000-7000-8000-000000000009".to_owned()];
        let script = to_pgbench(orders, &known, &["it's-k".to_owned()], "o");
        assert!(
            script.text.contains("VALUES (md5(:r::text || '1')::uuid, ('o-' || :r::text || '-0'))"),
            "{}",
            script.text
        );
        let script = to_pgbench(products, &known, &[], "p");
        assert!(script.text.contains("id = :p_0_0 AND note = NULL"), "{}", script.text);
        assert_eq!(script.variables, vec![("p_0_0".to_owned(), known[0].clone())]);
    }
}
