//! What every service serves: spec, docs, health, metrics, problem bodies, token checks.

use std::time::Duration;

use serde_json::{Value, json};
use shopkit::{
    auth::{Role, TokenSigner, generate_key_pair},
    config::{DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER},
    testing::TestKeys,
};

use crate::helpers::{problem, product_body, spawn_app, token};

#[test]
fn committed_openapi_spec_matches_the_code() {
    let unmatched = shopkit::server::unmatched_schema_rules(&products::openapi(), &products::api::schema_rules());
    assert!(unmatched.is_empty(), "schema rules naming nothing in the spec: {unmatched:?}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/products.json");
    shopkit::testing::assert_spec_fresh(
        &shopkit::server::spec_json(&products::openapi(), &products::api::schema_rules()),
        path,
        "products",
    );
}

#[tokio::test]
async fn spec_docs_health_and_metrics_are_served() {
    let app = spawn_app().await;
    let spec: Value = app.client.get(app.url("/openapi.json")).send().await.expect("spec").json().await.expect("json");
    assert!(spec["paths"]["/products/{id}"]["get"].is_object(), "spec lists operations");
    let errors = &spec["paths"]["/products"]["post"]["responses"];
    for status in ["401", "403", "409", "422"] {
        assert!(errors[status]["content"]["application/problem+json"].is_object(), "createProduct documents {status}");
    }
    let docs = app.client.get(app.url("/docs")).send().await.expect("docs");
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.expect("html").contains("swagger"), "docs UI");
    assert_eq!(app.client.get(app.url("/health/live")).send().await.expect("live").status(), 200);
    assert_eq!(app.client.get(app.url("/health/ready")).send().await.expect("ready").status(), 200);

    app.get_product(&uuid::Uuid::new_v4().to_string()).await;
    let response = app.client.get(app.url("/metrics")).send().await.expect("metrics");
    assert!(response.headers()["content-type"].to_str().expect("ct").starts_with("application/openmetrics-text"));
    let metrics = response.text().await.expect("text");
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics ends with EOF: {metrics}");

    // The semantic conventions' HTTP server histogram, its stable attributes as labels; the
    // route is the template, and a 404 is no server error (no `error_type`).
    // (The process's metrics are shared by every test of this binary: look for this request's series.)
    let not_found = series(
        &metrics,
        "http_server_request_duration_seconds_count",
        &[r#"http_route="/products/{id}""#, r#"http_request_method="GET""#, r#"http_response_status_code="404""#],
    );
    let line = not_found.first().expect("the 404 was measured");
    assert!(line.contains(r#"url_scheme="http""#), "{line}");
    assert!(!line.contains("error_type"), "{line}");
    assert!(metrics.contains("# TYPE http_server_request_duration_seconds histogram"), "{metrics}");
    assert!(!series(&metrics, "http_server_request_duration_seconds_bucket", &[r#"le="+Inf""#]).is_empty());

    // The database histogram: the operation, its summary, the database and where it runs.
    let lookup =
        series(&metrics, "db_client_operation_duration_seconds_count", &[r#"db_query_summary="SELECT products""#]);
    let line = lookup.first().expect("a SELECT products operation was measured");
    for label in [
        r#"db_system_name="postgresql""#,
        r#"db_operation_name="SELECT""#,
        "db_namespace=\"",
        "server_address=\"",
        "server_port=\"",
    ] {
        assert!(line.contains(label), "{label} in {line}");
    }
    // The resource: who produced the metrics, and which version.
    let target = series(&metrics, "target_info", &[]);
    assert!(target.iter().any(|l| l.contains("service_version=\"")), "{target:?}");
}

/// The sample lines of `name` whose labels contain every one of `labels`.
fn series<'a>(metrics: &'a str, name: &str, labels: &[&str]) -> Vec<&'a str> {
    metrics
        .lines()
        .filter(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' ')))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .collect()
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problem_bodies() {
    let app = spawn_app().await;
    problem(app.client.get(app.url("/nope")).send().await.expect("send"), 404).await;
    problem(app.client.put(app.url("/products")).send().await.expect("send"), 405).await;
}

#[tokio::test]
async fn not_ready_while_the_database_is_unreachable() {
    let database = shopkit::db::Database::connect_lazy(
        &shopkit::config::Secret::new("postgres://nobody@127.0.0.1:1/none".into()),
        1,
    )
    .expect("lazy pool");
    let verifier = shopkit::testing::test_verifier();
    database.start_migrations(&products::MIGRATOR);
    let server = shopkit::testing::spawn_server(products::app(database, verifier)).await;
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{}/health/live", server.base_url)).send().await.expect("live").status(), 200);
    problem(client.get(format!("{}/health/ready", server.base_url)).send().await.expect("ready"), 503).await;
    let started = std::time::Instant::now();
    let resp = client.get(format!("{}/products/{}", server.base_url, uuid::Uuid::new_v4())).send().await.expect("get");
    problem(resp, 503).await;
    assert!(started.elapsed() < Duration::from_secs(5), "fails fast: {:?}", started.elapsed());
}

/// Builds an unsigned or differently signed token by hand, as an attacker would.
fn forged(header: Value, claims: Value, signature: &str) -> String {
    use base64::Engine;
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{}", enc(&header), enc(&claims), signature)
}

#[tokio::test]
async fn every_bad_token_is_rejected_with_401() {
    let app = spawn_app().await;
    let keys = TestKeys::get();
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str, aud: &str, exp: i64| json!({"sub": uuid::Uuid::new_v4().to_string(), "role": "admin", "iss": iss, "aud": aud, "exp": exp, "iat": now, "jti": "x"});
    let other_key = generate_key_pair().expect("keys");
    let other_signer =
        TokenSigner::from_private_pem(&other_key.private_pem, None, DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE)
            .expect("signer");
    let wrong_issuer =
        TokenSigner::from_private_pem(&keys.private_pem, None, "someone-else", DEFAULT_JWT_AUDIENCE).expect("signer");
    let wrong_audience =
        TokenSigner::from_private_pem(&keys.private_pem, None, DEFAULT_JWT_ISSUER, "another-shop").expect("signer");
    let valid = token(Role::Admin);
    let (valid_head, valid_rest) = valid.split_once('.').expect("jwt");
    let tampered_claims = {
        let parts: Vec<&str> = valid.split('.').collect();
        forged(
            json!({"alg": "EdDSA", "typ": "JWT"}),
            claims(DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE, now + 600),
            parts[2],
        )
    };
    let hs256 = {
        // Key confusion: an HMAC "signed" with the public key as the secret.
        use ring::hmac;
        let header_claims = forged(
            json!({"alg": "HS256", "typ": "JWT"}),
            claims(DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE, now + 600),
            "",
        );
        let signing_input = header_claims.trim_end_matches('.');
        let key = hmac::Key::new(hmac::HMAC_SHA256, keys.public_pem.as_bytes());
        use base64::Engine;
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(hmac::sign(&key, signing_input.as_bytes()).as_ref());
        format!("{signing_input}.{sig}")
    };
    let cases = [
        (
            forged(
                json!({"alg": "none", "typ": "JWT"}),
                claims(DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE, now + 600),
                "",
            ),
            "alg none",
        ),
        (hs256, "HS256 with the public key as secret"),
        (other_signer.sign("x", Role::Admin, Duration::from_secs(600)).expect("sign").0, "signed by another key"),
        (tampered_claims, "claims changed after signing"),
        (wrong_issuer.sign("x", Role::Admin, Duration::from_secs(600)).expect("sign").0, "wrong issuer"),
        (wrong_audience.sign("x", Role::Admin, Duration::from_secs(600)).expect("sign").0, "wrong audience"),
        (
            keys.signer.sign("x", Role::Admin, Duration::from_secs(0)).map(|(t, _)| t).expect("sign"),
            "fresh token but for the leeway",
        ),
        ("not.a.jwt".to_owned(), "garbage"),
        (format!("{valid_head}x.{valid_rest}"), "corrupted header"),
    ];
    // The zero-lifetime token is within the 30 s leeway, so it must pass: it proves the
    // others fail for the reason named, not because every token fails.
    for (bad, reason) in cases {
        let resp = app.create_product(Some(&bad), &product_body("JWT-1")).await;
        if reason.starts_with("fresh token") {
            assert_eq!(resp.status(), 201, "{reason}");
            continue;
        }
        let body = problem(resp, 401).await;
        assert!(body["detail"].as_str().is_some(), "{reason}");
    }
    let expired = {
        let claims = claims(DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE, now - 120);
        jsonwebtoken_free_sign(&keys.signer, claims)
    };
    problem(app.create_product(Some(&expired), &product_body("JWT-2")).await, 401).await;
}

/// Signs arbitrary claims with the test key: the kit's signer only issues fresh tokens, so an
/// expired one is produced by signing the raw JSON with ring directly.
fn jsonwebtoken_free_sign(signer: &TokenSigner, claims: Value) -> String {
    use base64::Engine;
    let kid = signer.jwk().kid;
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": kid});
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let signing_input = format!("{}.{}", enc(&header), enc(&claims));
    let der = {
        let pem = &TestKeys::get().private_pem;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(body).expect("der")
    };
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).expect("pair");
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.sign(signing_input.as_bytes()).as_ref());
    format!("{signing_input}.{sig}")
}

/// Replicas starting together all run their migrations; the advisory lock makes exactly one
/// apply them and the others find them done.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn replicas_migrating_at_once_all_succeed() {
    let url = shopkit::testing::empty_database("products").await;
    let replicas = (0..3).map(|_| {
        let url = url.clone();
        async move {
            let database = shopkit::db::Database::connect_lazy(&shopkit::config::Secret::new(url), 2).expect("pool");
            database.migrate(&products::MIGRATOR).await
        }
    });
    for result in futures::future::join_all(replicas).await {
        result.expect("every replica's migration run succeeds");
    }
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&pool).await.expect("count");
    assert_eq!(applied, products::MIGRATOR.iter().count() as i64, "each migration applied once");
}
