//! Search by relevance in bounded time, whatever the number of matches.
//!
//! Relevance is a tier, best first, then newest first inside a tier:
//!
//! | tier | the product's name ...                         |
//! |------|------------------------------------------------|
//! | 4    | is the search text (case aside)                |
//! | 3    | starts with the search text                    |
//! | 2    | holds every search word (full text, stemmed)   |
//! | 1    | holds every word once typos are corrected      |
//! | 0    | (no) the words are in the name and description |
//!
//! Tiers rather than a `ts_rank` score, because a score must be computed for every match
//! before the best 20 are known: at 100,000 products a common word ("lamp", 12,500 matches)
//! cost 116 ms and a word in every name 355 ms. A tier is an index condition, and inside a
//! tier the order is that of an index (`created_at DESC, id DESC`), so a page needs only the
//! rows it shows. With the weights the score used (name above description, one hit of a word
//! per product), it ordered products the same way in all but the ties.
//!
//! Each tier is read one of two ways, and the statement picks at run time, per tier:
//! - through a window of the newest products (400), ranked as they come: enough when the
//!   tier is common (more than a page among them), which is exactly when the text indexes are
//!   slow, since they would hand over every match to be sorted;
//! - otherwise through the tier's index (full text, name prefix), then sorted: cheap, because
//!   a tier that is rare among the newest is rare, or old (the one slow case left).
//!
//! The plan is generic (`plan_cache_mode = force_generic_plan` for this statement): planned
//! once per connection instead of for every search (7 ms for this statement), and its shape
//! does not depend on estimates, which the words of a search make unreliable (two common words
//! that never meet in one name are estimated to meet in 1.5% of them).

use sqlx::{Postgres, QueryBuilder};

use crate::domain::search::{Cursor, SearchQuery};

/// Newest products looked at before falling back on the indexes. At 400, a tier found in more
/// than 1 product in 20 is served from the window; a rarer tier has fewer than ~5,000 matches
/// at 100k products to sort. Measured at 100k products: 1-2 ms for common words, 2-5 ms for
/// rare ones.
pub const WINDOW: i64 = 400;

/// Products columns, as in `store::products`.
const COLUMNS: &str = super::products::COLUMNS;

/// The search text, lower-cased, its full-text query, and (lazily) its typo-corrected query.
const LOWERED: &str = "(SELECT lowered FROM terms)";
const WORDS: &str = "(SELECT words FROM terms)";
const CORRECTED: &str = "(SELECT query FROM corrected)";

/// One tier of [`push_ranked`].
struct Tier {
    number: i32,
    /// The condition on a product row, written so PostgreSQL can use the tier's index.
    condition: String,
    /// The same condition on a row of the window, whose `tier` already says 4, 3, 2 or none.
    in_window: String,
    /// What keeps a better tier's products out of this one, on a product row (` AND NOT ...`).
    not_better: String,
}

/// The tiers, best first.
fn tiers() -> [Tier; 5] {
    let prefix_test = |name: &str| format!("starts_with({name}, {LOWERED})");
    let in_name = format!("(name_vector @@ {WORDS} AND search_vector @@ {WORDS})");
    let corrected = format!("name_vector @@ {CORRECTED}");
    let not_prefix = format!(" AND NOT {}", prefix_test("lower(name)"));
    [
        Tier {
            number: 4,
            condition: format!("lower(name) = {LOWERED}"),
            in_window: "tier = 4".into(),
            not_better: String::new(),
        },
        // A prefix is a range in byte order (text_pattern_ops), re-checked with starts_with.
        Tier {
            number: 3,
            condition: format!(
                "(lower(name) ~>=~ {LOWERED} AND lower(name) ~<~ ({LOWERED} || chr(1114111)) AND {})",
                prefix_test("lower(name)")
            ),
            in_window: "tier = 3".into(),
            not_better: format!(" AND lower(name) <> {LOWERED}"),
        },
        // The name alone must match, and the whole product too (a `-word` excludes it anywhere).
        Tier { number: 2, condition: in_name.clone(), in_window: "tier = 2".into(), not_better: not_prefix.clone() },
        Tier {
            number: 1,
            condition: corrected.clone(),
            in_window: format!("(tier IS NULL AND {corrected})"),
            not_better: format!("{not_prefix} AND NOT {in_name}"),
        },
        Tier {
            number: 0,
            condition: format!("search_vector @@ {WORDS}"),
            in_window: format!("(tier IS NULL AND anywhere AND NOT coalesce({corrected}, false))"),
            // Every row here matches the words, so "not in the name" is the name alone.
            not_better: format!("{not_prefix} AND NOT name_vector @@ {WORDS} AND NOT coalesce({corrected}, false)"),
        },
    ]
}

/// How the window ranks its rows into tiers 4 to 2: the first that holds (`lname` is the
/// lower-cased name, computed once per row).
fn window_case() -> String {
    format!(
        "CASE WHEN lname = {LOWERED} THEN 4 WHEN starts_with(lname, {LOWERED}) THEN 3 \
         WHEN name_vector @@ {WORDS} AND search_vector @@ {WORDS} THEN 2 END"
    )
}

/// What every text search starts with: the derived queries, computed once per statement.
/// The typo query reads the vocabulary table, so it has its own CTE, evaluated only if a row
/// reaches tier 1.
pub fn push_terms(sql: &mut QueryBuilder<'static, Postgres>, text: &str) {
    sql.push("WITH terms AS MATERIALIZED (SELECT lower(")
        .push_bind(text.to_owned())
        .push(") AS lowered, websearch_to_tsquery('english', ")
        .push_bind(text.to_owned())
        .push(") AS words), corrected AS MATERIALIZED (SELECT product_typo_query(")
        .push_bind(text.to_owned())
        .push(") AS query) ");
}

/// The match condition of a text search in any other order: any tier.
pub fn any_tier() -> String {
    let conditions: Vec<String> = tiers().into_iter().skip(1).map(|t| t.condition).collect();
    format!("({})", conditions.join(" OR "))
}

/// The ranked statement, after [`push_terms`]. Rows carry their `tier`; one more row than
/// the page is asked for.
pub fn push_ranked(sql: &mut QueryBuilder<'static, Postgres>, query: &SearchQuery) {
    let filters = |sql: &mut QueryBuilder<'static, Postgres>| super::products::push_filters(sql, query);
    let limit = i64::from(query.limit) + 1;
    let after = match &query.after {
        Some(Cursor::Relevance { tier, created_at, id }) => Some((*tier, *created_at, *id)),
        _ => None,
    };
    let keyset = |sql: &mut QueryBuilder<'static, Postgres>| {
        if let Some((_, created_at, id)) = after {
            sql.push(" AND (created_at, id) < (").push_bind(created_at).push(", ").push_bind(id).push(")");
        }
    };
    let tiers = tiers();
    // Tiers above the cursor's are done; the cursor's own continues after the cursor.
    let remaining: Vec<usize> =
        (0..tiers.len()).filter(|&i| after.is_none_or(|(t, ..)| tiers[i].number <= t)).collect();
    let window_for = |tier: i32| if after.is_some_and(|(t, ..)| t == tier) { "after_cursor" } else { "newest" };

    // The windows: the newest products (after the cursor, for the cursor's tier). Each row
    // gets the first of tiers 4-2 that holds; tiers 1 and 0 are told apart only when a page
    // reaches them, because the typo query costs a look-up in the vocabulary per word.
    let mut windows = vec!["newest"];
    if after.is_some() {
        windows.push("after_cursor");
    }
    for window in windows {
        sql.push(format!(
            ", {window} AS MATERIALIZED (SELECT {COLUMNS}, name_vector, {} AS tier, search_vector @@ {WORDS} AS anywhere \
             FROM (SELECT *, lower(name) AS lname FROM products WHERE deleted_at IS NULL",
            window_case()
        ));
        filters(sql);
        if window == "after_cursor" {
            keyset(sql);
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(WINDOW);
        sql.push(") AS recent)");
    }

    sql.push(format!(" SELECT {COLUMNS}, tier FROM ("));
    for (n, &i) in remaining.iter().enumerate() {
        let Tier { number, condition, in_window, not_better } = &tiers[i];
        let window = window_for(*number);
        let window_is_enough = format!("(SELECT count(*) FROM {window} WHERE {in_window}) >= {limit}");
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(format!(
            "(SELECT {COLUMNS}, {number} AS tier FROM {window} WHERE {in_window} AND {window_is_enough} \
             ORDER BY created_at DESC, id DESC LIMIT {limit})"
        ));
        // The fallback: the tier's own index; OFFSET 0 keeps the newest-first order from
        // turning it back into a walk of the newest index.
        sql.push(format!(
            " UNION ALL (SELECT {COLUMNS}, {number} AS tier FROM (SELECT {COLUMNS} FROM products WHERE deleted_at IS NULL AND {condition}"
        ));
        sql.push(not_better.as_str());
        filters(sql);
        if window == "after_cursor" {
            keyset(sql);
        }
        sql.push(format!(
            " OFFSET 0) AS matched WHERE NOT {window_is_enough} ORDER BY created_at DESC, id DESC LIMIT {limit})"
        ));
    }
    sql.push(") AS tiers LIMIT ").push_bind(limit);
}
