//! Delivery: the address and method a customer asks for, checked before anything is reserved,
//! and what an order records about it once placed.

pub use shopkit::address::Address;
use shopkit::{FieldErrors, address::RawAddress};

/// How a parcel travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Standard,
    Express,
}

impl Method {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Express => "express",
        }
    }

    /// The method named `raw`, if any.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "standard" => Some(Self::Standard),
            "express" => Some(Self::Express),
            _ => None,
        }
    }
}

/// A delivery as the client asked for it, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRequest {
    pub address: Address,
    pub method: Method,
}

/// The raw fields of a delivery request.
pub struct RawDelivery<'a> {
    pub address: RawAddress<'a>,
    pub method: &'a str,
}

impl DeliveryRequest {
    /// Checks every field, naming each refused one `delivery.<field>`.
    pub fn parse(raw: &RawDelivery<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let address = Address::parse(&raw.address, "delivery.address.", &mut errors);
        let method = Method::parse(raw.method.trim());
        if method.is_none() {
            errors.add("delivery.method", "must be standard or express");
        }
        match (address, method) {
            (Some(address), Some(method)) => Ok(Self { address, method }),
            _ => Err(errors),
        }
    }

    /// Bytes that identify the request, for the idempotency hash of the order.
    pub fn fingerprint(&self) -> String {
        let a = &self.address;
        [a.recipient.as_str(), &a.line1, &a.line2, &a.postal_code, &a.city, &a.country, self.method.as_str()]
            .join("\u{1f}")
    }
}

/// The price and terms of one method to one country, in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// What this order pays for shipping (0 when its items reach the free threshold).
    pub shipping_minor: i64,
    /// VAT rate of the destination, in basis points (2000 = 20 %).
    pub vat_basis_points: i32,
    pub days_min: i32,
    pub days_max: i32,
}

/// A placed order's delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub address: Address,
    pub method: Method,
    pub quote: Quote,
}

/// The VAT contained in a VAT-inclusive `gross` amount at `basis_points`, rounded half up.
pub fn vat_included(gross: i64, basis_points: i32) -> i64 {
    let gross = i128::from(gross);
    let rate = i128::from(basis_points);
    let vat = (gross * rate * 2 + (10_000 + rate)) / (2 * (10_000 + rate));
    i64::try_from(vat).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(country: &'a str, method: &'a str) -> RawDelivery<'a> {
        let address = RawAddress {
            recipient: " Ada Lovelace ",
            line1: "12 rue des Lilas",
            line2: "",
            postal_code: "75011",
            city: "Paris",
            country,
        };
        RawDelivery { address, method }
    }

    #[test]
    fn a_delivery_is_checked_field_by_field() {
        let ok = DeliveryRequest::parse(&raw("fr", "express")).expect("valid");
        assert_eq!((ok.address.recipient.as_str(), ok.address.country.as_str()), ("Ada Lovelace", "FR"));
        assert_eq!(ok.method, Method::Express);
        let fields = |r: RawDelivery<'_>| match DeliveryRequest::parse(&r) {
            Ok(_) => vec![],
            Err(e) => e.into_vec().into_iter().map(|e| e.field).collect::<Vec<_>>(),
        };
        assert_eq!(fields(raw("France", "pigeon")), ["delivery.address.country", "delivery.method"]);
        let mut blank = raw("FR", "standard");
        blank.address = RawAddress { recipient: "  ", city: "", ..blank.address };
        assert_eq!(fields(blank), ["delivery.address.recipient", "delivery.address.city"]);
    }

    #[test]
    fn the_vat_inside_a_gross_price() {
        assert_eq!(vat_included(12_000, 2000), 2000, "120.00 at 20 % holds 20.00");
        assert_eq!(vat_included(4_999, 2000), 833, "49.99 / 1.2 = 41.658 -> VAT 8.33");
        assert_eq!(vat_included(1_000, 0), 0);
        assert_eq!(vat_included(0, 2100), 0);
    }
}
