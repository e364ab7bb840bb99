//! Attacks from issue 10, each a case: control characters, oversized bodies and headers,
//! wrong methods, bad path parameters, missing or not-yet-valid tokens, free products.

use base64::Engine;
use serde_json::{Value, json};
use shopkit::{auth::Role, testing::TestKeys};

use crate::helpers::{error_fields, problem, product_body, spawn_app, token, with};

#[tokio::test]
async fn control_characters_are_refused_at_the_edge_in_every_string() {
    let app = spawn_app().await;
    let admin = token(Role::Admin);
    let body = problem(app.search(&[("q", "a\u{0}b")]).await, 400).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("`q`")), "{body}");
    problem(app.search(&[("category", "lighting\u{1b}")]).await, 400).await;

    let cases = [
        (with(product_body("NUL-1"), "name", json!("Desk\u{0}lamp")), "name"),
        (with(product_body("NUL-2"), "description", json!("bell\u{7}")), "description"),
        (with(product_body("NUL-3"), "sku", json!("NUL-3\u{0}")), "sku"),
    ];
    for (body, field) in cases {
        let refused = problem(app.create_product(Some(&admin), &body).await, 422).await;
        assert_eq!(error_fields(&refused), [field], "{body}");
    }
    let created = app.seed(with(product_body("TEXT-1"), "description", json!("two\nlines\tand a tab"))).await;
    let id = created["id"].as_str().expect("id");
    let refused = problem(app.patch_product(&admin, id, &json!({"name": "x\u{0}"})).await, 422).await;
    assert_eq!(error_fields(&refused), ["name"]);
    // A non-string where a string is due is not quietly turned into one ("false").
    let refused =
        problem(app.create_product(Some(&admin), &with(product_body("BOOL-1"), "sku", json!(false))).await, 422).await;
    assert_eq!(error_fields(&refused), ["sku"]);
    // A property the service does not read is ignored, whatever it holds.
    let ignored = with(product_body("EXTRA-1"), "note\u{0}", json!("\u{0}"));
    assert_eq!(app.create_product(Some(&admin), &ignored).await.status(), 201);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_without_being_read_whole() {
    let app = spawn_app().await;
    let huge = with(product_body("BIG-1"), "description", json!("x".repeat(200 * 1024)));
    let resp = app.create_product(Some(&token(Role::Admin)), &huge).await;
    problem(resp, 413).await;
    // Chunked, no Content-Length: cut off at the limit while reading.
    let status_line = raw_chunked_post(&app.base, "/products", 100, 1024).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
}

/// Sends a GET of `/products` with an `x-padding` header of `padding` over a raw socket
/// (reqwest gives up on a reply that comes before its request is sent) and returns the reply.
async fn raw_get_reply(base: &str, padding: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!("GET /products HTTP/1.1\r\nhost: {addr}\r\nx-padding: {padding}\r\n\r\n");
    // The server may answer and close before everything is sent.
    let _ = stream.write_all(head.as_bytes()).await;
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    String::from_utf8_lossy(&reply).into_owned()
}

/// Sends `chunks` chunks of `size` spaces as a chunked POST over a raw socket and returns the
/// response's status line (reqwest here has no streaming bodies).
async fn raw_chunked_post(base: &str, path: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before everything is sent.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = vec![0u8; 512];
    let n = stream.read(&mut response).await.expect("read");
    String::from_utf8_lossy(&response[..n]).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn methods_headers_and_parameters_are_answered_precisely() {
    let app = spawn_app().await;
    let resp = app.client.put(app.url("/openapi.json")).send().await.expect("send");
    assert_eq!(resp.headers()["allow"], "GET");
    problem(resp, 405).await;
    let resp = app.client.put(app.url("/products")).send().await.expect("send");
    assert_eq!(resp.headers()["allow"], "GET, POST");
    problem(resp, 405).await;
    let resp = app.client.post(app.url(&format!("/products/{}", uuid::Uuid::new_v4()))).send().await.expect("send");
    assert_eq!(resp.headers()["allow"], "DELETE, GET, PATCH");
    problem(resp, 405).await;

    let resp = app.client.get(app.url("/products")).header("x-padding", "p".repeat(20 * 1024)).send().await;
    problem(resp.expect("send"), 431).await;
    // Beyond hyper's read buffer (about 400 KB), hyper refuses the head itself: still a problem.
    let reply = raw_get_reply(&app.base, &"p".repeat(600 * 1024)).await;
    assert!(reply.starts_with("HTTP/1.1 431 ") && reply.contains("application/problem+json"), "{reply}");
    assert!(reply.ends_with('}') && reply.contains("\"status\":431"), "{reply}");

    let body = problem(app.get_product("not-a-uuid").await, 400).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("`id`") && !d.contains("param0")), "{body}");

    let resp = app.create_product(None, &product_body("ANON-1")).await;
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let body = problem(resp, 401).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("Authorization header")), "{body}");
}

/// A token signed with the real key whose `nbf` is later than now plus the leeway.
fn token_not_before(nbf_in_secs: i64) -> String {
    let keys = TestKeys::get();
    let pem_body: String = keys.private_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(pem_body).expect("pem");
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).expect("key");
    let now = chrono::Utc::now().timestamp();
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = json!({"sub": uuid::Uuid::new_v4().to_string(), "role": "admin", "iss": "microshop-users",
        "aud": "microshop", "exp": now + 3600, "iat": now, "nbf": now + nbf_in_secs, "jti": "nbf"});
    let input = format!("{}.{}", enc(&json!({"alg": "EdDSA", "typ": "JWT"})), enc(&claims));
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.sign(input.as_bytes()).as_ref());
    format!("{input}.{signature}")
}

#[tokio::test]
async fn a_token_is_not_accepted_before_its_nbf() {
    let app = spawn_app().await;
    let cases = [(600, 401, "ten minutes early"), (10, 201, "within the 30 s leeway"), (-10, 201, "already valid")];
    for (i, (nbf, status, message)) in cases.into_iter().enumerate() {
        let resp = app.create_product(Some(&token_not_before(nbf)), &product_body(&format!("NBF-{i}"))).await;
        assert_eq!(resp.status(), status, "{message}");
    }
}

#[tokio::test]
async fn a_product_is_never_free() {
    let app = spawn_app().await;
    let admin = token(Role::Admin);
    let refused =
        problem(app.create_product(Some(&admin), &with(product_body("FREE-1"), "price", json!(0))).await, 422).await;
    assert_eq!(error_fields(&refused), ["price"]);
    let created = app.seed(product_body("PAID-1")).await;
    let id = created["id"].as_str().expect("id");
    let refused = problem(app.patch_product(&admin, id, &json!({"price": 0})).await, 422).await;
    assert_eq!(error_fields(&refused), ["price"]);
    // The database holds the rule too.
    let direct =
        sqlx::query("UPDATE products SET price_minor = 0 WHERE id = $1::uuid").bind(id).execute(&app.db.pool).await;
    assert!(direct.is_err(), "CHECK (price_minor >= 1)");
    // A price filter may still start at 0.
    assert_eq!(app.search_ok(&[("min_price", "0")]).await["items"].as_array().map(Vec::len), Some(1));
}
