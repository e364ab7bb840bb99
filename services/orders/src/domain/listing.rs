//! Listing orders: page size, opaque keyset cursors, numbered pages, the order-number filter.
//!
//! Orders are listed newest first by `(created_at, id)`; a cursor carries that key of the
//! last order of a page, and the next page starts strictly after it, so pages cost the same
//! however deep and never skip or repeat an order placed meanwhile. Staff screens want page
//! numbers and a total instead ("page 3 of 7"): `page` gives that, at the price of an offset
//! and a count, so it is for the admin list, not for clients walking every order.

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
/// The page numbers a client may ask for (an offset past 10 000 pages is a cursor's job).
pub const PAGE_RULE: RangeRule = RangeRule { min: 1, max: 10_000, unit: "" };
/// An order number as people see it: the last eight hex digits of the order id.
pub const NUMBER_PATTERN: &str = "^[0-9A-Fa-f]{8}$";

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
    /// Only the order whose id ends with these eight hex digits (lower case).
    pub number: Option<String>,
    /// A numbered page (from 1) instead of a cursor; the answer then counts the matches.
    pub page: Option<u32>,
}

/// The list request as the client sent it.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListRequest<'a> {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// Only the order with this number.
    pub number: Option<&'a str>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<&'a str>,
    /// A numbered page, from 1.
    pub page: Option<u32>,
    /// Page size.
    pub limit: Option<u32>,
}

impl ListQuery {
    /// Checks the page size, cursor, page number and order number as the client sent them.
    pub fn parse(owner: Option<Uuid>, request: ListRequest<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
        errors.check("limit", LIMIT_RULE.check(i64::from(limit)));
        let after = request.cursor.and_then(|raw| {
            let decoded = OrderCursor::decode(raw);
            if decoded.is_none() {
                errors.add("cursor", "is not a cursor returned by this endpoint");
            }
            decoded
        });
        if let Some(page) = request.page {
            errors.check("page", PAGE_RULE.check(i64::from(page)));
            if request.cursor.is_some() {
                errors.add("page", "give either a page or a cursor, not both");
            }
        }
        // As the spec's pattern says: exactly eight hex digits, nothing around them.
        let number = request.number;
        let valid_number = number.filter(|n| n.len() == 8 && n.chars().all(|c| c.is_ascii_hexdigit()));
        if number.is_some() && valid_number.is_none() {
            errors.add("number", "must be the 8 characters of an order number, e.g. 1A2B3C4D");
        }
        let number = valid_number.map(str::to_ascii_lowercase);
        let (status, page) = (request.status, request.page);
        if errors.is_empty() { Ok(Self { owner, status, after, limit, number, page }) } else { Err(errors) }
    }

    /// Rows to skip for a numbered page.
    pub fn offset(&self) -> Option<i64> {
        self.page.map(|page| i64::from(page.saturating_sub(1)) * i64::from(self.limit))
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
            match ListQuery::parse(None, ListRequest { cursor, limit, ..ListRequest::default() }) {
                Ok(_) => vec![],
                Err(e) => e.into_vec().into_iter().map(|e| e.field).collect(),
            }
        };
        assert_eq!(fields(None, None), Vec::<String>::new(), "defaults are valid");
        assert_eq!(ListQuery::parse(None, ListRequest::default()).ok().map(|q| q.limit), Some(DEFAULT_LIMIT));
        assert_eq!(fields(None, Some(0)), ["limit"], "empty pages are refused");
        assert_eq!(fields(None, Some(101)), ["limit"], "pages are capped");
        assert_eq!(fields(Some("junk"), Some(100)), ["cursor"], "unknown cursors are refused");
        assert_eq!(fields(Some("junk"), Some(0)), ["limit", "cursor"], "both are reported");
    }

    #[test]
    fn numbered_pages_and_order_numbers() {
        let parse = |request: ListRequest<'_>| ListQuery::parse(None, request);
        let third = parse(ListRequest { page: Some(3), limit: Some(20), ..ListRequest::default() }).expect("page");
        assert_eq!(third.offset(), Some(40));
        assert_eq!(parse(ListRequest::default()).expect("default").offset(), None, "cursor mode");
        let fields = |request: ListRequest<'_>| match parse(request) {
            Ok(_) => vec![],
            Err(e) => e.into_vec().into_iter().map(|e| e.field).collect::<Vec<_>>(),
        };
        assert_eq!(fields(ListRequest { page: Some(0), ..ListRequest::default() }), ["page"]);
        let cursor = OrderCursor { created_at: Utc::now(), id: Uuid::from_u128(1) }.encode();
        let both = ListRequest { page: Some(2), cursor: Some(&cursor), ..ListRequest::default() };
        assert_eq!(fields(both), ["page"], "a page or a cursor");
        let number = parse(ListRequest { number: Some("1A2B3C4D"), ..ListRequest::default() }).expect("number");
        assert_eq!(number.number.as_deref(), Some("1a2b3c4d"), "compared in lower case");
        for bad in ["1A2B3C4", "1A2B3C4DE", "ZZZZZZZZ", "", " 1A2B3C4D"] {
            assert_eq!(fields(ListRequest { number: Some(bad), ..ListRequest::default() }), ["number"], "{bad:?}");
        }
    }
}
