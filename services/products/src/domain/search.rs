//! Catalogue search: filters, sort orders and opaque keyset cursors.
//!
//! Keyset ("seek") pagination: a cursor carries the sort key and id of the last row of a
//! page, and the next page starts strictly after it. Unlike OFFSET it costs the same on page
//! 1000 as on page 1 and never skips or repeats rows when products are added meanwhile.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopkit::{
    FieldErrors,
    rules::{RangeRule, TextRule},
};
use uuid::Uuid;

use super::product::{Category, PriceMinor};

/// Page size when the client does not ask for one.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 100;
/// The search text: at most 200 characters as sent.
pub const QUERY_RULE: TextRule =
    TextRule { min_chars: None, max_chars: Some(200), pattern: None, message: "must be at most 200 characters" };
/// The page size a client may ask for.
pub const LIMIT_RULE: RangeRule = RangeRule { min: 1, max: MAX_LIMIT as i64, unit: "" };

/// How results are ordered. Every order ends with the id so it is total and pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    /// Best match for `q` first (the default when `q` is given): an exact name, a name
    /// starting with `q`, the words in the name, the words in the name once typos are
    /// corrected, the words anywhere; newest first among equals.
    Relevance,
    /// Most recently added first.
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
    /// Alphabetical by name.
    Name,
}

impl SortOrder {
    /// Each order by the name the `sort` parameter gives it (the spec lists the same names).
    pub const NAMES: [(&str, Self); 5] = [
        ("relevance", Self::Relevance),
        ("newest", Self::Newest),
        ("price_asc", Self::PriceAsc),
        ("price_desc", Self::PriceDesc),
        ("name", Self::Name),
    ];

    /// Parses the `sort` query parameter.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::NAMES.iter().find(|(name, _)| *name == raw).map(|(_, order)| *order).ok_or_else(|| {
            let names: Vec<&str> = Self::NAMES.iter().map(|(name, _)| *name).collect();
            format!("must be one of {}", names.join(", "))
        })
    }

    /// The JSON Schema of the `sort` parameter.
    pub fn schema() -> serde_json::Value {
        serde_json::json!({"enum": Self::NAMES.iter().map(|(name, _)| *name).collect::<Vec<_>>()})
    }
}

/// Where the previous page ended: the sort key and id of its last row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
pub enum Cursor {
    /// After this (tier, created_at, id) in [`SortOrder::Relevance`].
    Relevance {
        /// Relevance tier of the last row (`store::relevance`).
        tier: i32,
        /// Creation time of the last row.
        created_at: DateTime<Utc>,
        /// Id of the last row.
        id: Uuid,
    },
    /// After this (created_at, id) in [`SortOrder::Newest`].
    Newest {
        /// Creation time of the last row.
        created_at: DateTime<Utc>,
        /// Id of the last row.
        id: Uuid,
    },
    /// After this (price, id) in [`SortOrder::PriceAsc`] or [`SortOrder::PriceDesc`].
    Price {
        /// Price of the last row.
        price: i64,
        /// Id of the last row.
        id: Uuid,
        /// Whether the order is descending.
        desc: bool,
    },
    /// After this (name, id) in [`SortOrder::Name`].
    Name {
        /// Name of the last row.
        name: String,
        /// Id of the last row.
        id: Uuid,
    },
}

impl Cursor {
    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        // Serialising this enum cannot fail: it has no maps with non-string keys.
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a cursor and checks it belongs to `sort`.
    pub fn decode(raw: &str, sort: SortOrder) -> Result<Self, String> {
        let invalid = || "is not a cursor returned by this endpoint".to_owned();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let matches = matches!(
            (&cursor, sort),
            (Cursor::Relevance { .. }, SortOrder::Relevance)
                | (Cursor::Newest { .. }, SortOrder::Newest)
                | (Cursor::Price { desc: false, .. }, SortOrder::PriceAsc)
                | (Cursor::Price { desc: true, .. }, SortOrder::PriceDesc)
                | (Cursor::Name { .. }, SortOrder::Name)
        );
        if matches { Ok(cursor) } else { Err("belongs to another sort order".into()) }
    }
}

/// A validated search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words to find in name and description (full text), a name prefix, or a misspelt name.
    pub text: Option<String>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only prices at or above.
    pub min_price: Option<PriceMinor>,
    /// Only prices at or below.
    pub max_price: Option<PriceMinor>,
    /// Only products with stock left.
    pub in_stock: bool,
    /// Result order.
    pub sort: SortOrder,
    /// Start after this row.
    pub after: Option<Cursor>,
    /// Page size.
    pub limit: u32,
}

/// The search parameters as the client sent them.
#[derive(Debug, Default)]
pub struct RawSearch<'a> {
    pub q: Option<&'a str>,
    pub category: Option<&'a str>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    pub sort: Option<&'a str>,
    pub cursor: Option<&'a str>,
    pub limit: Option<u32>,
}

impl SearchQuery {
    /// Validates every parameter, reporting all problems together.
    pub fn parse(raw: RawSearch<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let text = raw.q.and_then(|q| errors.check("q", QUERY_RULE.check(q).map(|()| q.trim())));
        let text = text.filter(|q| !q.is_empty()).map(str::to_owned);
        let category = raw.category.and_then(|c| errors.check("category", Category::parse(c)));
        let min_price = raw.min_price.and_then(|p| errors.check("min_price", PriceMinor::parse(p)));
        let max_price = raw.max_price.and_then(|p| errors.check("max_price", PriceMinor::parse(p)));
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            errors.add("min_price", "must not be greater than max_price");
        }
        let default_sort = if text.is_some() { "relevance" } else { "newest" };
        let sort = errors.check("sort", SortOrder::parse(raw.sort.unwrap_or(default_sort)));
        if sort == Some(SortOrder::Relevance) && text.is_none() {
            errors.add("sort", "`relevance` needs search words in `q`");
        }
        let after = match (raw.cursor, sort) {
            (Some(c), Some(sort)) => errors.check("cursor", Cursor::decode(c, sort)),
            _ => None,
        };
        let limit = raw.limit.unwrap_or(DEFAULT_LIMIT);
        errors.check("limit", LIMIT_RULE.check(i64::from(limit)));
        match sort {
            Some(sort) if errors.is_empty() => Ok(Self {
                text,
                category,
                min_price,
                max_price,
                in_stock: raw.in_stock.unwrap_or(false),
                sort,
                after,
                limit,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_sort() {
        let id = Uuid::now_v7();
        let cursor = Cursor::Price { price: 1299, id, desc: true };
        assert_eq!(Cursor::decode(&cursor.encode(), SortOrder::PriceDesc), Ok(cursor.clone()));
        assert!(Cursor::decode(&cursor.encode(), SortOrder::PriceAsc).is_err());
        assert!(Cursor::decode("not-base64!", SortOrder::Newest).is_err());
        assert!(Cursor::decode("e30", SortOrder::Newest).is_err(), "`{{}}` is not a cursor");
    }

    #[test]
    fn search_parameters_are_validated_together() {
        let raw = RawSearch {
            min_price: Some(500),
            max_price: Some(100),
            limit: Some(0),
            sort: Some("popular"),
            ..Default::default()
        };
        let fields: Vec<_> =
            SearchQuery::parse(raw).expect_err("invalid").into_vec().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["min_price", "sort", "limit"]);
        let without_text = SearchQuery::parse(RawSearch { sort: Some("relevance"), ..Default::default() });
        assert_eq!(without_text.expect_err("relevance needs q").into_vec()[0].field, "sort");
    }

    #[test]
    fn relevance_is_the_default_order_of_a_text_search() {
        let query = SearchQuery::parse(RawSearch { q: Some("lamp"), ..Default::default() }).expect("valid");
        assert_eq!(query.sort, SortOrder::Relevance);
        let cursor = Cursor::Relevance { tier: 2, created_at: Utc::now(), id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&cursor.encode(), SortOrder::Relevance), Ok(cursor));
    }

    #[test]
    fn defaults_apply_and_blank_text_means_no_text() {
        let query = SearchQuery::parse(RawSearch { q: Some("  "), ..Default::default() }).expect("valid");
        assert_eq!(
            (query.text, query.sort, query.limit, query.in_stock),
            (None, SortOrder::Newest, DEFAULT_LIMIT, false)
        );
    }
}
