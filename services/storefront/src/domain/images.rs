//! Product pictures the storefront draws itself, so no product ever shows a broken image:
//! the demo catalogue points at `/images/catalogue/<slug>.svg`, and a product without a
//! picture shows its category's drawing.

/// Where a product's picture is: its own `image_url`, else its category's drawing.
pub fn image_src(image_url: Option<&str>, category: &str) -> String {
    match image_url {
        Some(url) if !url.is_empty() => url.to_owned(),
        _ => format!("/images/catalogue/{}.svg", slug(category)),
    }
}

/// Keeps `a-z`, `0-9` and `-` of a name, so it is safe in a path and in the drawing.
pub fn slug(raw: &str) -> String {
    let cleaned: String =
        raw.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let trimmed = cleaned.trim_matches('-');
    let short: String = trimmed.chars().take(60).collect();
    if short.is_empty() { "product".to_owned() } else { short }
}

/// An SVG picture for `slug`: a colour from a hash of the slug and a simple shape. No caption:
/// the product's name is printed beside every picture, and words rebuilt from a slug read
/// wrongly ("Usb C Charger 65" for a "USB-C charger, 65 W"). Decorative, so hidden from screen
/// readers. The slug is restricted to `[a-z0-9-]`, so nothing needs escaping.
pub fn drawing(slug_text: &str) -> String {
    let slug_text = slug(slug_text);
    let hash = slug_text.bytes().fold(2_166_136_261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16_777_619));
    let hue = hash % 360;
    let accent = (hue + 40) % 360;
    let shape = match hash % 3 {
        0 => r#"<circle cx="200" cy="130" r="70""#.to_owned(),
        1 => r#"<rect x="135" y="65" width="130" height="130" rx="18""#.to_owned(),
        _ => r#"<polygon points="200,55 280,200 120,200""#.to_owned(),
    };
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" aria-hidden="true"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},60%,88%)"/><stop offset="1" stop-color="hsl({accent},55%,75%)"/></linearGradient></defs><rect width="400" height="300" fill="url(#g)"/>{shape} fill="hsl({hue},45%,45%)" opacity="0.85"/></svg>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_without_a_picture_show_their_category() {
        assert_eq!(image_src(None, "kitchen"), "/images/catalogue/kitchen.svg");
        assert_eq!(image_src(Some(""), "Home Office"), "/images/catalogue/home-office.svg");
        assert_eq!(image_src(Some("https://cdn.example/x.png"), "kitchen"), "https://cdn.example/x.png");
    }

    #[test]
    fn drawings_are_deterministic_carry_no_text_and_no_markup_from_input() {
        assert_eq!(drawing("enamel-camping-mug"), drawing("enamel-camping-mug"));
        assert_ne!(drawing("enamel-camping-mug"), drawing("usb-c-charger-65w"), "colours differ by product");
        let charger = drawing("usb-c-charger-65w");
        assert!(!charger.contains("<text") && !charger.contains("Usb"), "no caption rebuilt from the slug: {charger}");
        let hostile = drawing("<script>alert(1)</script>");
        assert!(!hostile.contains("<script") && !hostile.contains("alert"), "{hostile}");
    }
}
