//! A product and the validated values it is made of.

use shopkit::{
    FieldErrors,
    edge::NON_BLANK_TEXT_PATTERN,
    rules::{RangeRule, TextRule},
};

/// Stock keeping unit: 2-64 characters of `A-Z`, `0-9` and `-`, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku(String);

impl Sku {
    /// What a client may send: the SKU in either case, white space around it trimmed.
    pub const RULE: TextRule = TextRule {
        min_chars: None,
        max_chars: None,
        pattern: Some(r"^[ \t\n\r]*[A-Za-z0-9][A-Za-z0-9-]{1,63}[ \t\n\r]*$"),
        message: "must be 2-64 characters of A-Z, 0-9 and '-', not starting with '-'",
    };

    /// Checks [`Self::RULE`], then trims and upper-cases.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
        Ok(Self(raw.trim().to_ascii_uppercase()))
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
    /// At most 200 characters as sent (the spec's `maxLength` counts them so), not only white
    /// space.
    pub const RULE: TextRule = TextRule {
        min_chars: Some(1),
        max_chars: Some(200),
        pattern: Some(NON_BLANK_TEXT_PATTERN),
        message: "must be 1-200 characters, not only white space",
    };

    /// Checks [`Self::RULE`], then trims.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
        Ok(Self(raw.trim().to_owned()))
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
    /// At most 5000 characters as sent.
    pub const RULE: TextRule =
        TextRule { min_chars: None, max_chars: Some(5000), pattern: None, message: "must be at most 5000 characters" };

    /// Checks [`Self::RULE`], then trims.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
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
    /// Any price, as a search filter may give one.
    pub const RULE: RangeRule = RangeRule { min: 0, max: MAX_PRICE_MINOR, unit: "minor units" };
    /// A price a product can be sold at: at least 1 minor unit. Payments refuse a charge of
    /// 0, so a free product could be ordered but never paid; the database checks it too.
    pub const FOR_SALE: RangeRule = RangeRule { min: 1, ..Self::RULE };

    /// Checks [`Self::RULE`].
    pub fn parse(minor: i64) -> Result<Self, String> {
        Self::RULE.check(minor).map(|()| Self(minor))
    }
    /// Checks [`Self::FOR_SALE`].
    pub fn for_sale(minor: i64) -> Result<Self, String> {
        Self::FOR_SALE.check(minor).map(|()| Self(minor))
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
    /// The accepted range.
    pub const RULE: RangeRule = RangeRule { min: 0, max: 1_000_000_000, unit: "" };

    /// Checks [`Self::RULE`].
    pub fn parse(units: i64) -> Result<Self, String> {
        Self::RULE.check(units)?;
        i32::try_from(units).map(Self).map_err(|_| Self::RULE.message())
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
    /// What a client may send: the slug in either case, white space around it trimmed.
    pub const RULE: TextRule = TextRule {
        min_chars: None,
        max_chars: None,
        pattern: Some(r"^[ \t\n\r]*[A-Za-z0-9][A-Za-z0-9-]{0,63}[ \t\n\r]*$"),
        message: "must be 1-64 characters of a-z, 0-9 and '-', not starting with '-'",
    };

    /// Checks [`Self::RULE`], then trims and lower-cases.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
        Ok(Self(raw.trim().to_ascii_lowercase()))
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
    /// `http(s)://host[:port]`, optionally followed by a path, query or fragment (the host:
    /// letters, digits, dots, hyphens; no user name, no IP literal in brackets; lower-case
    /// schemes only, as the column's CHECK constraint says), or a path on the storefront's
    /// origin not starting `//`; no white space, quotes, angle brackets or control characters
    /// inside; white space around it trimmed. Blank means "no picture" (the caller's choice).
    pub const RULE: TextRule = TextRule {
        min_chars: None,
        max_chars: Some(2000),
        pattern: Some(
            r#"^[ \t\n\r]*(?:https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s<>"\u0000-\u001F\u007F-\u009F]*)?|/[^/\s<>"\u0000-\u001F\u007F-\u009F][^\s<>"\u0000-\u001F\u007F-\u009F]*)?[ \t\n\r]*$"#,
        ),
        message: "must be an http(s) URL with a host name, or a path starting with '/', at most 2000 characters, without spaces, quotes or angle brackets",
    };

    /// Checks [`Self::RULE`] and trims; blank is refused here (the caller maps it to none).
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
        match raw.trim() {
            "" => Err(Self::RULE.message.to_owned()),
            url => Ok(Self(url.to_owned())),
        }
    }
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
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
    fn the_declared_rules_compile_and_say_what_parse_accepts() {
        for rule in [Sku::RULE, ProductName::RULE, Description::RULE, Category::RULE, ImageUrl::RULE] {
            assert_eq!(rule.pattern.map_or(Ok(()), shopkit::rules::pattern_compiles), Ok(()), "{rule:?}");
        }
        assert_eq!(Sku::parse(" ab-12\t").map(|s| s.as_str().to_owned()), Ok("AB-12".to_owned()), "trimmed");
        assert!(ProductName::parse(&format!(" {} ", "x".repeat(199))).is_err(), "200 characters as sent");
        assert!(ImageUrl::parse("  ").is_err(), "blank is the caller's none, not a URL");
        assert_eq!(ImageUrl::parse(" /a.png ").map(|u| u.as_str().to_owned()), Ok("/a.png".to_owned()));
        assert_eq!(Stock::parse(1_000_000_001), Err("must be between 0 and 1000000000".to_owned()));
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
