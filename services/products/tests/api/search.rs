//! Search: full text, typos, filters, sorting, keyset pagination, and index use at 100k rows.

use products::{
    domain::search::{RawSearch, SearchQuery},
    store::products::explain_search,
};
use serde_json::{Value, json};

use crate::helpers::{error_fields, problem, product_body, spawn_app, with};

/// Query parameters of one search.
type Params = &'static [(&'static str, &'static str)];

fn skus(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|p| p["sku"].as_str().expect("sku").to_owned()).collect()
}

async fn seed_catalogue(app: &crate::helpers::TestApp) {
    let items = [
        ("LAMP-1", "Desk lamp", "Warm LED light with a brass arm", 4999, 10, "lighting"),
        ("LAMP-2", "Floor lamp", "Tall reading light", 8999, 0, "lighting"),
        ("CHAIR-1", "Office chair", "Ergonomic chair with lumbar support", 19999, 3, "furniture"),
        ("DESK-1", "Standing desk", "Electric height-adjustable desk", 39999, 2, "furniture"),
        ("MUG-1", "Coffee mug", "Stoneware mug, keeps coffee warm", 1299, 50, "kitchen"),
    ];
    for (sku, name, description, price, stock, category) in items {
        let body = json!({"sku": sku, "name": name, "description": description, "price": price, "currency": "EUR", "stock": stock, "category": category});
        app.seed(body).await;
    }
}

#[tokio::test]
async fn full_text_search_matches_name_and_description_with_stemming() {
    let app = spawn_app().await;
    seed_catalogue(&app).await;
    let cases: &[(&str, &[&str], &str)] = &[
        ("lamp", &["LAMP-2", "LAMP-1"], "name match"),
        ("lamps", &["LAMP-2", "LAMP-1"], "plural is stemmed"),
        ("warm", &["MUG-1", "LAMP-1"], "description match"),
        ("lumbar support", &["CHAIR-1"], "all words must match"),
        ("ofice", &["CHAIR-1"], "a missing letter in a name is tolerated (trigrams)"),
        ("cofee", &["MUG-1"], "a missing letter in another name"),
        ("lmap", &["LAMP-2", "LAMP-1"], "two letters swapped"),
        ("offfice", &["CHAIR-1"], "a letter doubled"),
        ("Standng desk", &["DESK-1"], "typo in a multi-word name"),
        ("teapot", &[], "no match"),
    ];
    for (q, expected, message) in cases {
        let page = app.search_ok(&[("q", q)]).await;
        let mut got = skus(&page);
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "q={q}: {message}");
    }
}

#[tokio::test]
async fn filters_and_sort_orders_combine() {
    let app = spawn_app().await;
    seed_catalogue(&app).await;
    let cases: &[(Params, &[&str], &str)] = &[
        (&[("category", "furniture"), ("sort", "price_asc")], &["CHAIR-1", "DESK-1"], "category, cheapest first"),
        (&[("category", "lighting"), ("in_stock", "true")], &["LAMP-1"], "in stock only"),
        (
            &[("min_price", "4999"), ("max_price", "19999"), ("sort", "price_desc")],
            &["CHAIR-1", "LAMP-2", "LAMP-1"],
            "price range, inclusive",
        ),
        (&[("sort", "name")], &["MUG-1", "LAMP-1", "LAMP-2", "CHAIR-1", "DESK-1"], "alphabetical"),
        (&[("sort", "newest")], &["MUG-1", "DESK-1", "CHAIR-1", "LAMP-2", "LAMP-1"], "newest first"),
        (&[("q", "light"), ("max_price", "5000")], &["LAMP-1"], "text and price"),
    ];
    for (query, expected, message) in cases {
        let page = app.search_ok(query).await;
        assert_eq!(skus(&page), *expected, "{message}");
    }
}

#[tokio::test]
async fn keyset_pagination_walks_every_product_once_in_each_order() {
    let app = spawn_app().await;
    for i in 0..23 {
        // Prices repeat so the id tie-breaker matters.
        app.seed(with(
            with(product_body(&format!("P-{i:02}")), "price", json!(100 * (i % 5) + 100)),
            "name",
            json!(format!("Item {}", i % 7)),
        ))
        .await;
    }
    for sort in ["newest", "price_asc", "price_desc", "name"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = vec![("sort", sort.to_owned()), ("limit", "5".to_owned())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = app.search_ok(&query).await;
            seen.extend(skus(&page));
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 5, "{sort}: 23 items in pages of 5");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (23, 23), "{sort}: every product exactly once");
    }
}

#[tokio::test]
async fn bad_search_parameters_are_422_with_fields() {
    let app = spawn_app().await;
    let cases: &[(Params, &[&str])] = &[
        (&[("limit", "0")], &["limit"]),
        (&[("limit", "101")], &["limit"]),
        (&[("min_price", "10"), ("max_price", "5")], &["min_price"]),
        (&[("sort", "popular")], &["sort"]),
        (&[("cursor", "garbage")], &["cursor"]),
        (&[("category", "Not A Slug")], &["category"]),
    ];
    for (query, fields) in cases {
        let body = problem(app.search(query).await, 422).await;
        assert_eq!(error_fields(&body), *fields, "{query:?}");
    }
    problem(app.search(&[("limit", "-1")]).await, 400).await;
    // A cursor from one sort order is refused by another.
    for i in 0..3 {
        app.seed(product_body(&format!("C-{i}"))).await;
    }
    let page = app.search_ok(&[("limit", "1"), ("sort", "price_asc")]).await;
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let body = problem(app.search(&[("cursor", &cursor), ("sort", "name")]).await, 422).await;
    assert_eq!(error_fields(&body), ["cursor"]);
}

/// At 100,000 products the common searches must be answered from indexes. The plan is read
/// with EXPLAIN after ANALYZE; a sequential scan of `products` fails the test.
#[tokio::test]
async fn common_searches_use_indexes_at_100k_products() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO products (id, sku, name, description, price_minor, currency, stock, category, created_at)
         SELECT gen_random_uuid(), 'SKU-' || g, 'Product ' || g || ' ' || (ARRAY['lamp','chair','desk','mug','sofa','rug'])[1 + g % 6],
                'Description of item ' || g || ' made of ' || (ARRAY['oak','steel','glass','wool'])[1 + g % 4],
                1 + (g * 37) % 100000, 'EUR', g % 20, (ARRAY['lighting','furniture','kitchen','decor'])[1 + g % 4],
                now() - make_interval(secs => g)
         FROM generate_series(1, 100000) AS g",
    )
    .execute(&app.db.pool)
    .await
    .expect("bulk insert");
    sqlx::query("ANALYZE products").execute(&app.db.pool).await.expect("analyze");

    let q = |raw: RawSearch<'static>| SearchQuery::parse(raw).expect("valid query");
    let cases = [
        ("default listing", q(RawSearch::default())),
        ("full text", q(RawSearch { q: Some("steel lamp"), ..Default::default() })),
        ("typo", q(RawSearch { q: Some("cofee"), ..Default::default() })),
        ("category newest", q(RawSearch { category: Some("kitchen"), ..Default::default() })),
        ("category by price", q(RawSearch { category: Some("decor"), sort: Some("price_asc"), ..Default::default() })),
        (
            "price range",
            q(RawSearch {
                min_price: Some(1000),
                max_price: Some(2000),
                sort: Some("price_asc"),
                ..Default::default()
            }),
        ),
        ("by name", q(RawSearch { sort: Some("name"), in_stock: Some(true), ..Default::default() })),
        (
            "relevance, filtered",
            q(RawSearch { q: Some("oak lamp"), category: Some("decor"), in_stock: Some(true), ..Default::default() }),
        ),
        ("most expensive", q(RawSearch { sort: Some("price_desc"), ..Default::default() })),
    ];
    let mut conn = app.db.pool.acquire().await.expect("conn");
    for (name, query) in cases {
        let plan = explain_search(&mut conn, &query).await.expect("explain");
        assert!(!plan.contains("Seq Scan"), "{name} scans the table:\n{plan}");
        assert!(plan.contains("Index"), "{name} uses no index:\n{plan}");
    }
    let started = std::time::Instant::now();
    let page = app.search_ok(&[("q", "glass lamp"), ("limit", "20")]).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 20);
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(2), "search took {elapsed:?}");
}

/// With `q`, results come best match first: the exact name, a name starting with the words,
/// a misspelt name (trigrams), then a match in the description only.
#[tokio::test]
async fn text_search_ranks_exact_prefix_typo_then_description_matches() {
    let app = spawn_app().await;
    // Seeded in the reverse of the expected order, so "newest first" would be exactly wrong.
    let items = [
        ("DESC-1", "Reading light", "A desk lamp for late reading"),
        ("TYPO-1", "Desk lamb", "Brass and linen"),
        ("PREFIX-1", "Desk lamp with clamp", "Clamps to any table"),
        ("EXACT-1", "Desk lamp", "The classic"),
        ("NOISE-1", "Coffee mug", "Stoneware"),
    ];
    for (sku, name, description) in items {
        app.seed(with(with(product_body(sku), "name", json!(name)), "description", json!(description))).await;
    }
    let expected = ["EXACT-1", "PREFIX-1", "TYPO-1", "DESC-1"];
    let page = app.search_ok(&[("q", "desk lamp")]).await;
    assert_eq!(skus(&page), expected, "relevance is the default with q");
    let explicit = app.search_ok(&[("q", "desk lamp"), ("sort", "relevance")]).await;
    assert_eq!(skus(&explicit), expected, "sort=relevance");

    // Keyset pagination in relevance order: one per page, same order, nothing twice.
    let seen = all_relevance_pages(&app, "desk lamp", "1").await;
    assert_eq!(seen, expected, "pages of one walk the same order");
    let body = problem(app.search(&[("sort", "relevance")]).await, 422).await;
    assert_eq!(error_fields(&body), ["sort"], "relevance without q");
}

/// Every page of a relevance search, `limit` at a time, as SKUs.
async fn all_relevance_pages(app: &crate::helpers::TestApp, q: &str, limit: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", q.to_owned()), ("limit", limit.to_owned())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = app.search_ok(&query).await;
        seen.extend(skus(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
}

/// Relevance reads a common tier from a window of the newest products and a rare or old one
/// through its index (store::relevance). Seeded so both happen, on the first page and after
/// a cursor: exact, prefix, name-words and description tiers are common among the newest,
/// the misspelt names exist only among the oldest products. Walking every page must give
/// each match once, in tier order, newest first within a tier.
#[tokio::test]
async fn relevance_pages_read_common_and_rare_tiers_in_order() {
    let app = spawn_app().await;
    // g = 1 is the newest product. The tier of each g is known by construction.
    sqlx::query(
        "INSERT INTO products (id, sku, name, description, price_minor, currency, stock, category, created_at)
         SELECT gen_random_uuid(), 'R-' || g,
                CASE WHEN g % 10 = 0 THEN 'Desk lamp'
                     WHEN g % 10 = 1 THEN 'Desk lamp ' || g
                     WHEN g % 10 IN (2, 3) THEN 'Lamp on a desk ' || g
                     WHEN g % 10 = 4 AND g > 2000 THEN 'Desk lamb ' || g
                     WHEN g % 10 = 5 THEN 'Reading light ' || g
                     ELSE 'Coffee mug ' || g END,
                CASE WHEN g % 10 = 5 THEN 'A desk lamp to read by' ELSE 'Stoneware' END,
                100 + g, 'EUR', 5, 'lighting', now() - make_interval(secs => g)
         FROM generate_series(1, 3000) AS g",
    )
    .execute(&app.db.pool)
    .await
    .expect("bulk insert");
    sqlx::query("ANALYZE products").execute(&app.db.pool).await.expect("analyze");

    let tier = |g: u32| match g % 10 {
        0 => Some(4),
        1 => Some(3),
        2 | 3 => Some(2),
        4 if g > 2000 => Some(1),
        5 => Some(0),
        _ => None,
    };
    let mut expected: Vec<(i32, u32)> = (1..=3000).filter_map(|g| tier(g).map(|t| (t, g))).collect();
    expected.sort_by_key(|&(t, g)| (std::cmp::Reverse(t), g));
    let expected: Vec<String> = expected.into_iter().map(|(_, g)| format!("R-{g}")).collect();
    assert_eq!(expected.len(), 1600);

    for limit in ["25", "100"] {
        let seen = all_relevance_pages(&app, "desk lamp", limit).await;
        assert_eq!(seen.len(), expected.len(), "limit {limit}: every match once");
        assert!(
            seen == expected,
            "limit {limit}: tier order, newest first; first difference at {:?}",
            seen.iter().zip(&expected).position(|(a, b)| a != b)
        );
    }
}

/// Typos are corrected against the words of product names, kept current on create and rename.
#[tokio::test]
async fn typo_vocabulary_follows_new_and_renamed_products() {
    let app = spawn_app().await;
    let created = app.seed(with(product_body("SHELF-1"), "name", json!("Walnut bookcase"))).await;
    assert_eq!(skus(&app.search_ok(&[("q", "walnot bookcase")]).await), ["SHELF-1"], "new name's words");
    let id = created["id"].as_str().expect("id");
    let resp = app
        .patch_product(&crate::helpers::token(shopkit::auth::Role::Admin), id, &json!({"name": "Cherry bookcase"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(skus(&app.search_ok(&[("q", "chery bookcase")]).await), ["SHELF-1"], "renamed");
    assert!(skus(&app.search_ok(&[("q", "walnot bookcase")]).await).is_empty(), "the old name no longer matches");
}

/// Search text of any shape is a 200: stop words only, symbols, tsquery operators, search
/// syntax, digits, non-Latin scripts, a word repeated, more words than typos are corrected for.
#[tokio::test]
async fn any_search_text_is_answered() {
    let app = spawn_app().await;
    seed_catalogue(&app).await;
    let long = "lamp ".repeat(12) + "a b c d e f g h i j k";
    let cases = [
        "the",
        "a",
        "!!!",
        "a&b|c",
        "lamp:*",
        "(desk",
        "'",
        "\\",
        "\"desk lamp\" -floor",
        "desk or lamp",
        "-lamp",
        "42",
        "²³",
        "чайник",
        "東京",
        "café crème",
        "lamp lamp lamp",
        &long,
        "%",
        "_",
        "desk%",
    ];
    for q in cases {
        app.search_ok(&[("q", q)]).await;
    }
    // Search syntax is taken literally: no typo correction, the minus excludes.
    assert_eq!(skus(&app.search_ok(&[("q", "lamp -floor")]).await), ["LAMP-1"]);
    assert_eq!(skus(&app.search_ok(&[("q", "\"desk lamp\"")]).await), ["LAMP-1"]);
    // `%` and `_` are plain characters in a name prefix, not LIKE wildcards.
    assert!(skus(&app.search_ok(&[("q", "d_sk")]).await).is_empty());
}
