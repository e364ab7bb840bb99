//! JWKS, service tokens, the bootstrap admin, and the spec.

use serde_json::Value;
use shopkit::{
    auth::{Role, TokenVerifier},
    config::Secret,
};
use users::config::BootstrapAdmin;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, ORDERS_SECRET, claims_of, problem, spawn_app};

#[tokio::test]
async fn jwks_publishes_the_key_that_verifies_issued_tokens() {
    let app = spawn_app().await;
    let jwks: Value =
        app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("send").json().await.expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let token = app.admin_token().await;
    let header_kid = {
        use base64::Engine;
        let raw = token.split('.').next().expect("header");
        let header: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).expect("b64"))
                .expect("json");
        header["kid"].clone()
    };
    assert_eq!(header_kid, key["kid"]);
    // An independent verifier built only from the published JWK accepts the token.
    let decoding = jsonwebtoken_from_jwk(key["x"].as_str().expect("x"));
    assert!(decoding.verify(&token).is_ok());
}

/// A verifier built from a JWK's `x`, by wrapping it into SPKI PEM.
fn jsonwebtoken_from_jwk(x: &str) -> TokenVerifier {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(x).expect("x");
    let mut spki = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    spki.extend_from_slice(&raw);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(spki)
    );
    TokenVerifier::from_public_pem(&pem, "microshop-users", "microshop").expect("verifier")
}

#[tokio::test]
async fn client_credentials_give_a_short_lived_service_token() {
    let app = spawn_app().await;
    let resp = app.service_token("orders", ORDERS_SECRET).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["expires_in"], 300);
    let claims = claims_of(body["access_token"].as_str().expect("token"));
    assert_eq!((claims["sub"].as_str(), claims["role"].as_str()), (Some("orders"), Some(Role::Service.as_str())));

    problem(app.service_token("orders", "wrong-secret-0123456789").await, 401).await;
    problem(app.service_token("payments", ORDERS_SECRET).await, 401).await;
    problem(app.service_token("", ORDERS_SECRET).await, 422).await;
}

#[tokio::test]
async fn bootstrap_admin_is_idempotent_and_never_reachable_by_registration() {
    let app = spawn_app().await;
    let admin = BootstrapAdmin { email: ADMIN_EMAIL.into(), password: Secret::new(ADMIN_PASSWORD.into()) };
    let created = users::bootstrap::ensure_admin(&app.database, &admin).await.expect("second run");
    assert!(!created, "already present");
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin'")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(admins, 1);
    let claims = claims_of(&app.admin_token().await);
    assert_eq!(claims["role"], "admin");

    let weak = BootstrapAdmin { email: "root@microshop.test".into(), password: Secret::new("short".into()) };
    assert!(
        users::bootstrap::ensure_admin(&app.database, &weak).await.is_err(),
        "a weak bootstrap password is refused"
    );
}

#[test]
fn committed_openapi_spec_matches_the_code() {
    let unmatched = shopkit::server::unmatched_schema_rules(&users::openapi(), &users::api::schema_rules());
    assert!(unmatched.is_empty(), "schema rules naming nothing in the spec: {unmatched:?}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/users.json");
    shopkit::testing::assert_spec_fresh(
        &shopkit::server::spec_json(&users::openapi(), &users::api::schema_rules()),
        path,
        "users",
    );
}

#[tokio::test]
async fn health_and_docs_are_served() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready", "/docs", "/openapi.json", "/metrics"] {
        assert_eq!(app.client.get(app.url(path)).send().await.expect("send").status(), 200, "{path}");
    }
}

#[tokio::test]
async fn not_ready_until_readiness_gates_open() {
    let db = shopkit::testing::fresh_database("users", &users::MIGRATOR).await;
    let database = shopkit::db::Database::from_pool(db.pool.clone());
    database.migrate(&users::MIGRATOR).await.expect("migrate");
    let gate = database.gate_readiness();
    assert!(!database.is_ready().await, "a closed gate holds readiness back");
    gate.open();
    assert!(database.is_ready().await);
}
