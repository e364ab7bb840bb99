//! A product and the validated values it is made of.

use shopkit::FieldErrors;

/// Stock keeping unit: 2-64 characters of `A-Z`, `0-9` and `-`, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku(String);

impl Sku {
    /// Normalises to upper case and checks the alphabet and length.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let sku = raw.trim().to_ascii_uppercase();
        let valid_chars = sku.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !(2..=64).contains(&sku.len()) || !valid_chars || sku.starts_with('-') {
            return Err("must be 2-64 characters of A-Z, 0-9 and '-', not starting with '-'".into());
        }
        Ok(Self(sku))
    }
    /// The normalised SKU.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, 1-200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    /// Checks the length of the input as sent (the spec's `maxLength` counts it so), then trims.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > 200 {
            return Err("must be at most 200 characters".into());
        }
        match raw.trim() {
            "" => Err("must not be empty".into()),
            name => Ok(Self(name.to_owned())),
        }
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: at most 5000 characters (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Checks the length of the input as sent (the spec's `maxLength` counts it so), then trims.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > 5000 {
            return Err("must be at most 5000 characters".into());
        }
        Ok(Self(raw.trim().to_owned()))
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The highest accepted price, in minor units: keeps totals of many lines far from overflow.
pub const MAX_PRICE_MINOR: i64 = 100_000_000_000;

/// A price in integer minor units (cents): never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PriceMinor(i64);

impl PriceMinor {
    /// Checks `0 <= minor <= MAX_PRICE_MINOR`.
    pub fn parse(minor: i64) -> Result<Self, String> {
        if (0..=MAX_PRICE_MINOR).contains(&minor) {
            Ok(Self(minor))
        } else {
            Err(format!("must be between 0 and {MAX_PRICE_MINOR} minor units"))
        }
    }
    /// A price a product can be sold at: at least 1 minor unit. Payments refuse a charge of
    /// 0, so a free product could be ordered but never paid; the database checks it too.
    pub fn for_sale(minor: i64) -> Result<Self, String> {
        if (1..=MAX_PRICE_MINOR).contains(&minor) {
            Ok(Self(minor))
        } else {
            Err(format!("must be between 1 and {MAX_PRICE_MINOR} minor units"))
        }
    }
    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.0
    }
}

pub use shopkit::types::Currency;

/// Units available for sale, 0 to one billion (fits the database `integer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i32);

impl Stock {
    /// Checks the range.
    pub fn parse(units: i64) -> Result<Self, String> {
        match i32::try_from(units) {
            Ok(n) if (0..=1_000_000_000).contains(&n) => Ok(Self(n)),
            _ => Err("must be between 0 and 1000000000".into()),
        }
    }
    /// The number of units.
    pub fn units(self) -> i32 {
        self.0
    }
}

/// A category slug: lower-case letters, digits and `-`, 1-64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category(String);

impl Category {
    /// Lower-cases and checks the alphabet and length.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let slug = raw.trim().to_ascii_lowercase();
        let valid = slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if (1..=64).contains(&slug.len()) && valid && !slug.starts_with('-') {
            Ok(Self(slug))
        } else {
            Err("must be 1-64 characters of a-z, 0-9 and '-', not starting with '-'".into())
        }
    }
    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the product's picture is: an absolute `http(s)://` URL, or a path on the storefront's
/// own origin (`/images/...`, for images the storefront serves). At most 2000 characters, no
/// whitespace, quotes or angle brackets, so it is safe in an HTML attribute once escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    /// Trims and checks the shape: `http(s)://host[:port]` optionally followed by a path, query
    /// or fragment (the host: letters, digits, dots, hyphens; no user name, no IP literal in
    /// brackets), or a path on the storefront's origin. The column's CHECK constraint and the
    /// spec's pattern say the same.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = raw.trim();
        let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'));
        // Lower-case schemes only, as the column's CHECK constraint says.
        let absolute = ["http://", "https://"].iter().any(|scheme| url.strip_prefix(scheme).is_some_and(has_host));
        let local_path = url.starts_with('/') && !url.starts_with("//") && url.len() > 1;
        // Characters of the input as sent, as the spec's `maxLength` counts them.
        if raw.chars().count() <= 2000 && clean && (absolute || local_path) {
            Ok(Self(url.to_owned()))
        } else {
            Err("must be an http(s) URL with a host name, or a path starting with '/', at most 2000 characters, without spaces, quotes or angle brackets".into())
        }
    }
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether what follows `scheme://` starts with `host[:port]` and then ends or goes on with a
/// path, query or fragment.
fn has_host(rest: &str) -> bool {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, port) = match rest[..authority_end].split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (&rest[..authority_end], None),
    };
    let host_ok = host.starts_with(|c: char| c.is_ascii_alphanumeric())
        && host.ends_with(|c: char| c.is_ascii_alphanumeric())
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

/// A product to create, every field valid.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// Unique among live products.
    pub sku: Sku,
    /// Display name.
    pub name: ProductName,
    /// Long description.
    pub description: Description,
    /// Unit price.
    pub price: PriceMinor,
    /// Currency of the price.
    pub currency: Currency,
    /// Initial units for sale.
    pub stock: Stock,
    /// Category slug.
    pub category: Category,
    /// Picture, if any.
    pub image_url: Option<ImageUrl>,
}

/// The raw fields of a product, as a client sent them.
pub struct RawProduct<'a> {
    /// See [`NewProduct::sku`].
    pub sku: &'a str,
    /// See [`NewProduct::name`].
    pub name: &'a str,
    /// See [`NewProduct::description`].
    pub description: &'a str,
    /// See [`NewProduct::price`].
    pub price: i64,
    /// See [`NewProduct::currency`].
    pub currency: &'a str,
    /// See [`NewProduct::stock`].
    pub stock: i64,
    /// See [`NewProduct::category`].
    pub category: &'a str,
    /// See [`NewProduct::image_url`]; blank means none.
    pub image_url: Option<&'a str>,
}

impl NewProduct {
    /// Parses every field, reporting all invalid ones together.
    pub fn parse(raw: RawProduct<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let sku = errors.check("sku", Sku::parse(raw.sku));
        let name = errors.check("name", ProductName::parse(raw.name));
        let description = errors.check("description", Description::parse(raw.description));
        let price = errors.check("price", PriceMinor::for_sale(raw.price));
        let currency = errors.check("currency", Currency::parse(raw.currency));
        let stock = errors.check("stock", Stock::parse(raw.stock));
        let category = errors.check("category", Category::parse(raw.category));
        let image_url = match raw.image_url.filter(|u| !u.trim().is_empty()) {
            None => Some(None),
            Some(url) => errors.check("image_url", ImageUrl::parse(url)).map(Some),
        };
        match (sku, name, description, price, currency, stock, category, image_url) {
            (
                Some(sku),
                Some(name),
                Some(description),
                Some(price),
                Some(currency),
                Some(stock),
                Some(category),
                Some(image_url),
            ) => Ok(Self { sku, name, description, price, currency, stock, category, image_url }),
            _ => Err(errors),
        }
    }
}

/// A partial update: `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    /// New SKU.
    pub sku: Option<Sku>,
    /// New name.
    pub name: Option<ProductName>,
    /// New description.
    pub description: Option<Description>,
    /// New price.
    pub price: Option<PriceMinor>,
    /// New currency.
    pub currency: Option<Currency>,
    /// New units for sale.
    pub stock: Option<Stock>,
    /// New category.
    pub category: Option<Category>,
    /// New picture: `Some(None)` removes it.
    pub image_url: Option<Option<ImageUrl>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rules_accept_and_reject_as_documented() {
        let cases: &[(&str, bool, &str)] = &[
            ("sku", Sku::parse("ab-12").is_ok(), "sku is upper-cased"),
            ("sku", Sku::parse("-AB").is_err(), "sku may not start with a dash"),
            ("sku", Sku::parse("A").is_err(), "sku needs two characters"),
            ("sku", Sku::parse("AB_1").is_err(), "underscore is not allowed"),
            ("name", ProductName::parse("  ").is_err(), "blank name"),
            ("name", ProductName::parse(&"x".repeat(201)).is_err(), "name too long"),
            ("price", PriceMinor::parse(-1).is_err(), "negative price"),
            ("price", PriceMinor::for_sale(0).is_err(), "a product is never free: it could not be paid"),
            ("price", PriceMinor::parse(0).is_ok(), "a price filter may start at 0"),
            ("price", PriceMinor::parse(MAX_PRICE_MINOR + 1).is_err(), "price too high"),
            ("currency", Currency::parse("eur").is_ok(), "currency is upper-cased"),
            ("currency", Currency::parse("EURO").is_err(), "four letters"),
            ("currency", Currency::parse("E1R").is_err(), "digit in currency"),
            ("stock", Stock::parse(-1).is_err(), "negative stock"),
            ("stock", Stock::parse(i64::from(i32::MAX) + 1).is_err(), "stock overflow"),
            ("category", Category::parse("Home-Office").is_ok(), "category is lower-cased"),
            ("category", Category::parse("a b").is_err(), "space in category"),
            ("image_url", ImageUrl::parse("https://cdn.example.com/a.png").is_ok(), "https URL"),
            ("image_url", ImageUrl::parse("/images/catalogue/mug.svg").is_ok(), "storefront path"),
            ("image_url", ImageUrl::parse("//evil.example/a.png").is_err(), "protocol-relative URL"),
            ("image_url", ImageUrl::parse("javascript:alert(1)").is_err(), "javascript scheme"),
            ("image_url", ImageUrl::parse("https://x/a b.png").is_err(), "space in URL"),
            ("image_url", ImageUrl::parse("/a\"onerror=\"x").is_err(), "quote in URL"),
            ("image_url", ImageUrl::parse("https://").is_err(), "scheme only"),
            ("image_url", ImageUrl::parse("http://[").is_err(), "bracket, no host"),
            ("image_url", ImageUrl::parse("https://user@cdn.example.com/a.png").is_err(), "user name"),
            ("image_url", ImageUrl::parse("https://cdn.example.com:8443/a.png?v=2#x").is_ok(), "port, query"),
            ("image_url", ImageUrl::parse("https://cdn.example.com").is_ok(), "host only"),
            ("image_url", ImageUrl::parse("https://-x.example/a").is_err(), "host starting with a hyphen"),
            ("image_url", ImageUrl::parse("https://x:/a").is_err(), "empty port"),
            (
                "image_url",
                ImageUrl::parse("HTTPS://cdn.example.com/a.png").is_err(),
                "upper-case scheme (the CHECK refuses it)",
            ),
        ];
        for (field, ok, message) in cases {
            assert!(ok, "{field}: {message}");
        }
        assert_eq!(Sku::parse("ab-12").map(|s| s.as_str().to_owned()), Ok("AB-12".to_owned()));
    }

    #[test]
    fn new_product_reports_every_bad_field() {
        let raw = RawProduct {
            sku: "x",
            name: "",
            description: "",
            price: -5,
            currency: "EUR",
            stock: 3,
            category: "lamps",
            image_url: Some("ftp://x"),
        };
        let errors = NewProduct::parse(raw).expect_err("invalid").into_vec();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sku", "name", "price", "image_url"]);
    }
}
