//! What the simulated card network decides, and the payment state machine.

use shopkit::rules::RangeRule;

use super::card::Card;

/// What one charge may be, in minor units: never 0 (nothing to pay), and far below where a
/// sum of them could overflow.
pub const AMOUNT_RULE: RangeRule = RangeRule { min: 1, max: 100_000_000_000, unit: "minor units" };

/// Why a card was declined, with the codes card processors commonly use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineCode {
    /// Generic decline by the issuer.
    CardDeclined,
    /// Not enough funds.
    InsufficientFunds,
    /// The issuer says the card has expired.
    ExpiredCard,
}

impl DeclineCode {
    /// Wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CardDeclined => "card_declined",
            Self::InsufficientFunds => "insufficient_funds",
            Self::ExpiredCard => "expired_card",
        }
    }
}

/// The simulated network's answer for a card: the documented test cards decline with their
/// code; every other valid number is approved.
pub fn network_decision(card: &Card) -> Result<(), DeclineCode> {
    match card.number() {
        "4000000000000002" => Err(DeclineCode::CardDeclined),
        "4000000000009995" => Err(DeclineCode::InsufficientFunds),
        "4000000000000069" => Err(DeclineCode::ExpiredCard),
        _ => Ok(()),
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// The charge went through.
    Succeeded,
    /// The charge was refused; nothing was taken.
    Declined,
    /// The charge was given back in full.
    Refunded,
}

/// Something that happens to a payment after it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEvent {
    /// A full refund.
    Refund,
}

/// A transition that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event:?} a payment that is {from:?}")]
pub struct IllegalTransition {
    /// The current status.
    pub from: PaymentStatus,
    pub event: PaymentEvent,
}

impl PaymentStatus {
    /// The status after `event`. Refunding twice is not an error: it is the same refund
    /// (the caller answers with the payment as it is), so `Refunded + Refund = Refunded`.
    pub fn transition(self, event: PaymentEvent) -> Result<Self, IllegalTransition> {
        match (self, event) {
            (Self::Succeeded | Self::Refunded, PaymentEvent::Refund) => Ok(Self::Refunded),
            (Self::Declined, PaymentEvent::Refund) => Err(IllegalTransition { from: self, event }),
        }
    }

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined => "declined",
            Self::Refunded => "refunded",
        }
    }

    /// Parses the stored name.
    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "succeeded" => Some(Self::Succeeded),
            "declined" => Some(Self::Declined),
            "refunded" => Some(Self::Refunded),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_event_pair() {
        use PaymentEvent::*;
        use PaymentStatus::*;
        let table = [
            (Succeeded, Refund, Ok(Refunded)),
            (Refunded, Refund, Ok(Refunded)),
            (Declined, Refund, Err(IllegalTransition { from: Declined, event: Refund })),
        ];
        for (from, event, expected) in table {
            assert_eq!(from.transition(event), expected, "{from:?} + {event:?}");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [PaymentStatus::Succeeded, PaymentStatus::Declined, PaymentStatus::Refunded] {
            assert_eq!(PaymentStatus::from_db(status.as_str()), Some(status));
        }
    }
}
