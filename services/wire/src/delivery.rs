//! Delivery bodies: the address and method the storefront sends with a new order, what an
//! order says about its delivery, and the options orders offers (countries, methods, prices).

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

/// A postal address.
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
pub struct AddressBody {
    /// Who receives the parcel, 1-100 characters.
    pub recipient: String,
    /// Street and number, 1-200 characters.
    pub line1: String,
    /// Flat, building, floor: optional, up to 200 characters.
    #[oai(default)]
    #[serde(default)]
    pub line2: String,
    /// 1-20 characters.
    pub postal_code: String,
    /// 1-100 characters.
    pub city: String,
    /// ISO 3166-1 alpha-2 code, e.g. `FR`; one of the countries `/delivery/options` lists.
    pub country: String,
}

/// Where and how to deliver a new order.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct DeliveryBody {
    pub address: AddressBody,
    /// `standard` or `express`.
    pub method: String,
}

/// An order's delivery, as placed.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct OrderDelivery {
    pub address: AddressBody,
    /// `standard` or `express`.
    pub method: String,
    /// Shipping charged, minor units (included in the order's `total`; 0 when free).
    pub shipping: i64,
    /// Working days to arrive once shipped, at least.
    pub days_min: i32,
    /// At most.
    pub days_max: i32,
    /// VAT rate of the destination, basis points (2000 = 20 %). Prices include VAT.
    pub vat_rate_basis_points: i32,
    /// The VAT contained in the order's `total`, minor units.
    pub vat_included: i64,
}

/// One way to ship to a country.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct MethodOption {
    /// `standard` or `express`.
    pub method: String,
    /// Price, minor units of the asked currency.
    pub price: i64,
    /// Orders whose items cost at least this ship free this way.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_from: Option<i64>,
    pub days_min: i32,
    pub days_max: i32,
}

/// A country the shop delivers to.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct CountryOption {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Its name in English.
    pub name: String,
    /// VAT rate, basis points.
    pub vat_rate_basis_points: i32,
    /// Cheapest first.
    pub methods: Vec<MethodOption>,
}

/// Every country and method the shop delivers to in one currency.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct DeliveryOptions {
    /// By country name.
    pub countries: Vec<CountryOption>,
}
