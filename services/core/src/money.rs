//! Prices as shoppers read them: integer minor units shown with the currency's own number of
//! decimals (ISO 4217: two for EUR, none for JPY, three for KWD), never through a float.

/// Decimal places of a currency's minor unit (ISO 4217 exponent); two when unknown.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// The symbol written before the amount, for the currencies that have a common one.
fn symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "EUR" => Some("€"),
        "USD" => Some("$"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    }
}

/// `1234567` EUR -> `€12,345.67`; `1500` JPY -> `¥1,500`; `1234` KWD -> `1.234 KWD`.
pub fn format_money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let scale = 10u128.pow(digits);
    let magnitude = u128::from(minor.unsigned_abs());
    let whole = group_thousands(magnitude / scale);
    let amount =
        if digits == 0 { whole } else { format!("{whole}.{:0width$}", magnitude % scale, width = digits as usize) };
    let sign = if minor < 0 { "-" } else { "" };
    match symbol(currency) {
        Some(symbol) => format!("{sign}{symbol}{amount}"),
        None => format!("{sign}{amount} {currency}"),
    }
}

/// Parses a price as an admin types it (`12.5`, `12.50`, `1,200`) into minor units of
/// `currency`; refuses more decimals than the currency has.
pub fn parse_major(raw: &str, currency: &str) -> Result<i64, String> {
    let digits = minor_digits(currency);
    let text: String = raw.trim().chars().filter(|c| *c != ',' && *c != '_' && !c.is_whitespace()).collect();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let numeric = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !numeric(whole) || !numeric(fraction) {
        return Err("Enter a price such as 12.50.".into());
    }
    if fraction.len() > digits as usize {
        return Err(format!("{currency} prices have at most {digits} decimals."));
    }
    let whole: i64 =
        if whole.is_empty() { 0 } else { whole.parse().map_err(|_| "The price is too large.".to_owned())? };
    let padded = format!("{fraction:0<width$}", width = digits as usize);
    let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().map_err(|_| "Invalid price.".to_owned())? };
    whole
        .checked_mul(10i64.pow(digits))
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| "The price is too large.".to_owned())
}

/// Minor units back to the text an admin edits (`1250` EUR -> `12.50`).
pub fn to_major_text(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(digits);
    format!("{}.{:0width$}", minor / scale, (minor % scale).abs(), width = digits as usize)
}

fn group_thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{format_money, parse_major, to_major_text};

    #[test]
    fn typed_prices_become_minor_units() {
        let cases = [
            ("12.50", "EUR", Ok(1250), "two decimals"),
            ("12.5", "EUR", Ok(1250), "one decimal padded"),
            ("1,200", "EUR", Ok(120_000), "grouping ignored"),
            (".99", "EUR", Ok(99), "no whole part"),
            ("1500", "JPY", Ok(1500), "yen"),
            ("1.234", "KWD", Ok(1234), "three decimals"),
        ];
        for (raw, currency, expected, why) in cases {
            assert_eq!(parse_major(raw, currency), expected, "{why}");
        }
        for (raw, currency) in [
            ("12.345", "EUR"),
            ("1.5", "JPY"),
            ("-3", "EUR"),
            ("abc", "EUR"),
            ("", "EUR"),
            ("99999999999999999999", "EUR"),
        ] {
            assert!(parse_major(raw, currency).is_err(), "{raw} {currency}");
        }
        assert_eq!(to_major_text(1250, "EUR"), "12.50");
        assert_eq!(to_major_text(1500, "JPY"), "1500");
    }

    #[test]
    fn amounts_use_the_currency_minor_unit() {
        let cases = [
            (1999, "EUR", "€19.99", "two decimals"),
            (5, "EUR", "€0.05", "leading zeros of cents"),
            (123_456_789, "USD", "$1,234,567.89", "thousands grouped"),
            (1500, "JPY", "¥1,500", "yen has no minor unit"),
            (1234, "KWD", "1.234 KWD", "three decimals, code after"),
            (100, "CHF", "1.00 CHF", "no symbol: code after"),
            (-250, "GBP", "-£2.50", "refunds are negative"),
            (0, "EUR", "€0.00", "free"),
            (i64::MIN, "EUR", "-€92,233,720,368,547,758.08", "no overflow"),
        ];
        for (minor, currency, expected, why) in cases {
            assert_eq!(format_money(minor, currency), expected, "{why}");
        }
    }
}
