//! Why a payment attempt failed, in words a shopper reads, carried across the redirect.
//!
//! A failed `POST /orders/{id}/pay` answers `303 See Other` to the pay page with
//! `?problem=<code>` (post/redirect/get): Back and Reload then show the page again instead of
//! the browser's "Confirm Form Resubmission", and nothing is sent twice. The code is one of a
//! fixed set, so the URL cannot carry text of someone else's choosing onto the page; the
//! message is written here, never copied from a service's problem body.

use shopkit::client::ClientError;

/// One reason a payment did not go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayProblem {
    /// The bank said no (`card_declined`).
    Declined,
    /// The bank said no for lack of funds (`insufficient_funds`).
    InsufficientFunds,
    /// The card's expiry date is past (`expired_card`, or the expiry fields refused as past).
    Expired,
    /// The expiry date could not be read.
    ExpiryFormat,
    /// The card number is not a card number (length, digits, check digit).
    Number,
    /// The security code is not 3 or 4 digits.
    SecurityCode,
    /// Any other refusal of the card details.
    Details,
}

const ALL: [PayProblem; 7] = [
    PayProblem::Declined,
    PayProblem::InsufficientFunds,
    PayProblem::Expired,
    PayProblem::ExpiryFormat,
    PayProblem::Number,
    PayProblem::SecurityCode,
    PayProblem::Details,
];

impl PayProblem {
    /// The code in the redirect's query.
    pub fn code(self) -> &'static str {
        match self {
            Self::Declined => "declined",
            Self::InsufficientFunds => "insufficient-funds",
            Self::Expired => "expired",
            Self::ExpiryFormat => "expiry-format",
            Self::Number => "number",
            Self::SecurityCode => "security-code",
            Self::Details => "details",
        }
    }

    /// The problem a query code names; `None` for anything else (ignored).
    pub fn from_code(code: &str) -> Option<Self> {
        ALL.into_iter().find(|p| p.code() == code)
    }

    /// What the pay page tells the shopper.
    pub fn message(self) -> &'static str {
        match self {
            Self::Declined => "Your bank declined this card. Nothing was charged: try another card.",
            Self::InsufficientFunds => {
                "The card was declined for insufficient funds. Nothing was charged: try another card."
            }
            Self::Expired => "This card has expired. Check the expiry date, or use another card.",
            Self::ExpiryFormat => "Enter the expiry date as MM/YY, for example 04/29.",
            Self::Number => "That card number is not valid. Check the 16 digits on the front of the card.",
            Self::SecurityCode => {
                "Enter the security code: the 3 digits on the back of the card (4 on the front for Amex)."
            }
            Self::Details => "The card could not be used. Check its details, or try another card.",
        }
    }

    /// The problem a refused payment call describes: a 402 by its decline code, a 422 by the
    /// first field it names. `None` when the call failed for another reason (a 5xx, a 409).
    pub fn of(error: &ClientError) -> Option<Self> {
        let ClientError::Rejected { status, problem, .. } = error else { return None };
        let problem = problem.as_ref();
        match status.as_u16() {
            402 => {
                let detail = problem.map(|p| p.detail.as_str()).unwrap_or_default();
                Some(if detail.contains("insufficient_funds") {
                    Self::InsufficientFunds
                } else if detail.contains("expired") {
                    Self::Expired
                } else {
                    Self::Declined
                })
            }
            400 | 422 => {
                let first = problem.and_then(|p| p.errors.as_ref()).and_then(|errors| errors.first());
                Some(match first {
                    Some(e) if e.field.contains("number") => Self::Number,
                    Some(e) if e.field.contains("cvc") => Self::SecurityCode,
                    Some(e) if e.field.contains("exp") && e.message.contains("expired") => Self::Expired,
                    Some(e) if e.field.contains("exp") => Self::ExpiryFormat,
                    _ => Self::Details,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopkit::problem::{FieldError, Problem};

    fn refused(status: u16, detail: &str, field: Option<(&str, &str)>) -> ClientError {
        ClientError::Rejected {
            service: "orders",
            status: reqwest::StatusCode::from_u16(status).expect("status"),
            problem: Some(Box::new(Problem {
                problem_type: "about:blank".into(),
                title: "t".into(),
                status,
                detail: detail.into(),
                errors: field.map(|(f, m)| vec![FieldError { field: f.into(), message: m.into() }]),
            })),
            retry_after: None,
        }
    }

    #[test]
    fn codes_round_trip_and_nothing_else_is_read() {
        for problem in ALL {
            assert_eq!(PayProblem::from_code(problem.code()), Some(problem));
            assert!(!problem.message().contains('_'), "no developer words: {}", problem.message());
        }
        assert_eq!(PayProblem::from_code("<script>"), None);
        assert_eq!(PayProblem::from_code(""), None);
    }

    #[test]
    fn refusals_become_shoppers_words() {
        let cases = [
            (refused(402, "the card was declined: card_declined", None), Some(PayProblem::Declined)),
            (refused(402, "the card was declined: insufficient_funds", None), Some(PayProblem::InsufficientFunds)),
            (refused(402, "the card was declined: expired_card", None), Some(PayProblem::Expired)),
            (refused(422, "invalid", Some(("card.exp_year", "the card has expired"))), Some(PayProblem::Expired)),
            (refused(422, "invalid", Some(("card.number", "not a valid card number"))), Some(PayProblem::Number)),
            (refused(422, "invalid", Some(("card.cvc", "3 or 4 digits"))), Some(PayProblem::SecurityCode)),
            (refused(422, "invalid", None), Some(PayProblem::Details)),
            (refused(409, "already paid", None), None),
        ];
        for (error, expected) in cases {
            assert_eq!(PayProblem::of(&error), expected, "{error}");
        }
    }
}
