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

/// An SVG picture for `slug`: a colour from a hash of the slug, a simple shape, and the words
/// of the slug as a caption. The slug is restricted to `[a-z0-9-]`, so nothing needs escaping.
pub fn drawing(slug_text: &str) -> String {
    let slug_text = slug(slug_text);
    let hash = slug_text.bytes().fold(2_166_136_261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16_777_619));
    let hue = hash % 360;
    let accent = (hue + 40) % 360;
    let words: Vec<String> = slug_text
        .split('-')
        .filter(|w| !w.is_empty())
        .take(4)
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    let caption = words.join(" ");
    // 24 px fits about 26 characters across the 400 px picture; longer captions get smaller.
    let font_size = (24 * 26 / caption.chars().count().max(26)).max(12);
    let shape = match hash % 3 {
        0 => r#"<circle cx="200" cy="130" r="70""#.to_owned(),
        1 => r#"<rect x="135" y="65" width="130" height="130" rx="18""#.to_owned(),
        _ => r#"<polygon points="200,55 280,200 120,200""#.to_owned(),
    };
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" aria-label="{caption}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},60%,88%)"/><stop offset="1" stop-color="hsl({accent},55%,75%)"/></linearGradient></defs><rect width="400" height="300" fill="url(#g)"/>{shape} fill="hsl({hue},45%,45%)" opacity="0.85"/><text x="200" y="262" font-family="system-ui,sans-serif" font-size="{font_size}" text-anchor="middle" fill="hsl({hue},40%,20%)">{caption}</text></svg>"#
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
    fn drawings_are_deterministic_and_carry_no_markup_from_input() {
        assert_eq!(drawing("enamel-camping-mug"), drawing("enamel-camping-mug"));
        assert!(drawing("enamel-camping-mug").contains("Enamel Camping Mug"));
        let hostile = drawing("<script>alert(1)</script>");
        assert!(!hostile.contains("<script") && hostile.contains("Script Alert 1"), "{hostile}");
    }
}
