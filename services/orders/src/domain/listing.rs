//! Listing orders: page size and opaque keyset cursors.
//!
//! Orders are listed newest first by `(created_at, id)`; a cursor carries that key of the
//! last order of a page, and the next page starts strictly after it, so pages cost the same
//! however deep and never skip or repeat an order placed meanwhile.

use base64::Engine;
use chrono::{DateTime, Utc};
use shopkit::{FieldErrors, rules::RangeRule};
use uuid::Uuid;

use super::status::OrderStatus;

/// Page size when the client does not ask for one.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 100;
/// The page size a client may ask for.
pub const LIMIT_RULE: RangeRule = RangeRule { min: 1, max: MAX_LIMIT as i64, unit: "" };

/// Where the previous page ended: the sort key of its last order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    /// Creation time of the last order.
    pub created_at: DateTime<Utc>,
    /// Id of the last order, which breaks ties between orders placed in the same instant.
    pub id: Uuid,
}

impl OrderCursor {
    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        let text = format!("{}|{}", self.created_at.to_rfc3339(), self.id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a string [`encode`](Self::encode) produced; `None` for anything else.
    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (created_at, id) = text.split_once('|')?;
        Some(Self {
            created_at: DateTime::parse_from_rfc3339(created_at).ok()?.with_timezone(&Utc),
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// A validated list request, the caller's scope already decided by the access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this customer's orders; `None` for everyone's.
    pub owner: Option<Uuid>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// Start after this order.
    pub after: Option<OrderCursor>,
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: u32,
}

impl ListQuery {
    /// Checks the page size and cursor as the client sent them.
    pub fn parse(
        owner: Option<Uuid>,
        status: Option<OrderStatus>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        errors.check("limit", LIMIT_RULE.check(i64::from(limit)));
        let after = cursor.and_then(|raw| {
            let decoded = OrderCursor::decode(raw);
            if decoded.is_none() {
                errors.add("cursor", "is not a cursor returned by this endpoint");
            }
            decoded
        });
        if errors.is_empty() { Ok(Self { owner, status, after, limit }) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = OrderCursor {
            created_at: DateTime::parse_from_rfc3339("2026-11-29T13:05:00.123456Z").expect("time").with_timezone(&Utc),
            id: Uuid::from_u128(7),
        };
        assert_eq!(OrderCursor::decode(&cursor.encode()), Some(cursor));
        for raw in ["", "not base64!", "bm8gYmFy", "MjAyNnx4"] {
            assert_eq!(OrderCursor::decode(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn page_size_and_cursor_rules() {
        let fields = |cursor: Option<&str>, limit: Option<u32>| -> Vec<String> {
            match ListQuery::parse(None, None, cursor, limit) {
                Ok(_) => vec![],
                Err(e) => e.into_vec().into_iter().map(|e| e.field).collect(),
            }
        };
        assert_eq!(fields(None, None), Vec::<String>::new(), "defaults are valid");
        assert_eq!(ListQuery::parse(None, None, None, None).ok().map(|q| q.limit), Some(DEFAULT_LIMIT));
        assert_eq!(fields(None, Some(0)), ["limit"], "empty pages are refused");
        assert_eq!(fields(None, Some(101)), ["limit"], "pages are capped");
        assert_eq!(fields(Some("junk"), Some(100)), ["cursor"], "unknown cursors are refused");
        assert_eq!(fields(Some("junk"), Some(0)), ["limit", "cursor"], "both are reported");
    }
}
