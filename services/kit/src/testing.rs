//! The integration-test harness (feature `testing`).
//!
//! Each test gets its own database, cloned from a template that holds the service's migrated
//! schema, and its own server on port 0, so tests run in parallel without sharing state.
//!
//! Where the databases live: the server in `DATABASE_URL` when it is set (a role that may
//! `CREATE DATABASE`); otherwise a throwaway PostgreSQL cluster started from the local server
//! binaries (`initdb`, `pg_ctl`; run as the `postgres` user when the tests run as root), which
//! a watchdog process stops and deletes once the test binary exits.

use std::{sync::OnceLock, time::Duration};

use sqlx::{Connection, PgConnection, PgPool, migrate::Migrator, postgres::PgPoolOptions};

use crate::{
    auth::{Role, TokenSigner, generate_key_pair},
    config::{DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER},
    localdb::{LocalCluster, free_port},
};

/// Where to find a PostgreSQL server for tests, resolved once per test binary.
struct TestServer {
    /// URL of the maintenance database, used to create template and test databases.
    admin_url: String,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

const HOW_TO_FIX: &str = "integration tests need PostgreSQL: either set DATABASE_URL to a server \
where this role may CREATE DATABASE (e.g. postgres://postgres@127.0.0.1:5432/postgres), or install \
the PostgreSQL server binaries (Debian: apt-get install postgresql) so initdb and pg_ctl are on PATH \
or under /usr/lib/postgresql/<version>/bin";

fn server() -> &'static TestServer {
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => TestServer { admin_url: url },
        _ => match start_throwaway_cluster() {
            Ok(admin_url) => TestServer { admin_url },
            Err(reason) => panic!("{HOW_TO_FIX}\n(starting a throwaway cluster failed: {reason})"),
        },
    })
}

/// Starts a throwaway cluster in a temporary directory, removed with the cluster when this
/// test process exits, and returns its maintenance URL.
fn start_throwaway_cluster() -> Result<String, String> {
    // Kept past this function (`keep`): the watcher started below removes it once this
    // process is gone. `LocalCluster::start` hands it to the server's user when we are root.
    let dir = tempfile::Builder::new()
        .prefix("microshop-test-pg-")
        .tempdir()
        .map_err(|e| format!("temporary folder: {e}"))?
        .keep();
    let cluster = LocalCluster::start(&dir, free_port()?)?;
    cluster.stop_when_gone(std::process::id(), Some(&dir))?;
    Ok(cluster.admin_url())
}

/// A URL like `base` but for database `name`.
fn url_for(base: &str, name: &str) -> String {
    match base.rsplit_once('/') {
        Some((prefix, rest)) => {
            let query = rest.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
            format!("{prefix}/{name}{query}")
        }
        None => format!("{base}/{name}"),
    }
}

/// A fresh database for one test.
pub struct TestDatabase {
    /// Connection URL of the new database (give it to the service under test).
    pub url: String,
    /// A pool on it, for arranging and asserting directly in SQL.
    pub pool: PgPool,
}

/// Creates a new, migrated database for one test. `label` names the template (one per
/// service); the template is rebuilt whenever the migrations change.
pub async fn fresh_database(label: &str, migrator: &Migrator) -> TestDatabase {
    let admin_url = &server().admin_url;
    let template = template_name(label, migrator);
    let mut admin =
        PgConnection::connect(admin_url).await.unwrap_or_else(|e| panic!("{HOW_TO_FIX}\n(connect failed: {e})"));
    ensure_template(&mut admin, admin_url, &template, migrator).await;
    let name = format!("test_{label}_{}", uuid::Uuid::new_v4().simple());
    // Identifiers cannot be bound parameters; both names are generated here from [a-z0-9_].
    let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
    let mut attempts = 0;
    loop {
        match sqlx::raw_sql(&create).execute(&mut admin).await {
            Ok(_) => break,
            // Another test may be cloning the same template this instant; PostgreSQL refuses
            // concurrent use of a template, so wait a moment and retry.
            Err(e) if attempts < 50 && e.to_string().contains("is being accessed by other users") => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("creating test database: {e}"),
        }
    }
    let _ = admin.close().await;
    let url = url_for(admin_url, &name);
    let pool = PgPoolOptions::new().max_connections(5).connect(&url).await.expect("connect to test database");
    TestDatabase { url, pool }
}

/// A new, empty database (no migrations), for tests of start-up and migration behaviour.
pub async fn empty_database(label: &str) -> String {
    let admin_url = &server().admin_url;
    let mut admin =
        PgConnection::connect(admin_url).await.unwrap_or_else(|e| panic!("{HOW_TO_FIX}\n(connect failed: {e})"));
    let name = format!("empty_{label}_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await.expect("create empty database");
    let _ = admin.close().await;
    url_for(admin_url, &name)
}

fn template_name(label: &str, migrator: &Migrator) -> String {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for migration in migrator.iter() {
        digest.update(&migration.version.to_le_bytes());
        digest.update(&migration.checksum);
    }
    let hash = digest.finish();
    let hex: String = hash.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("tmpl_{label}_{hex}")
}

/// Creates and migrates the template once, under an advisory lock so parallel tests (and
/// parallel test binaries sharing a `DATABASE_URL` server) build it only once.
async fn ensure_template(admin: &mut PgConnection, admin_url: &str, template: &str, migrator: &Migrator) {
    let lock_key = format!("microshop-template-{template}");
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(&lock_key)
        .execute(&mut *admin)
        .await
        .expect("advisory lock");
    let state: Option<bool> = sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
        .bind(template)
        .fetch_optional(&mut *admin)
        .await
        .expect("look up template");
    if state != Some(true) {
        if state.is_some() {
            // A half-built template from an interrupted run.
            sqlx::raw_sql(&format!("DROP DATABASE \"{template}\""))
                .execute(&mut *admin)
                .await
                .expect("drop stale template");
        }
        sqlx::raw_sql(&format!("CREATE DATABASE \"{template}\"")).execute(&mut *admin).await.expect("create template");
        let mut conn = PgConnection::connect(&url_for(admin_url, template)).await.expect("connect to template");
        migrator.run(&mut conn).await.expect("migrate template");
        conn.close().await.expect("close template connection");
        sqlx::raw_sql(&format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true"))
            .execute(&mut *admin)
            .await
            .expect("mark template");
    }
    sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
        .bind(&lock_key)
        .execute(&mut *admin)
        .await
        .expect("advisory unlock");
}

/// A running server under test.
pub struct TestServerHandle {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServerHandle {
    /// Stops the server gracefully and waits for it (to test shutdown or a dependency going away).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Serves `app` on 127.0.0.1 port 0 in the background.
pub async fn spawn_server<E: poem::Endpoint + 'static>(app: E) -> TestServerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let port = listener.local_addr().expect("local addr").port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(crate::server::serve(listener, app, async move {
        let _ = rx.await;
    }));
    TestServerHandle { base_url: format!("http://127.0.0.1:{port}"), shutdown: Some(tx), task: Some(task) }
}

/// A key pair generated once per test binary, with a signer that mints real tokens.
pub struct TestKeys {
    /// SPKI PEM public key, for services' `JWT_PUBLIC_KEY`.
    pub public_pem: String,
    /// PKCS#8 PEM private key, for the users service's `JWT_PRIVATE_KEY`.
    pub private_pem: String,
    /// Signs tokens with the private key and the default issuer and audience.
    pub signer: TokenSigner,
}

impl TestKeys {
    /// The shared test keys.
    pub fn get() -> &'static TestKeys {
        static KEYS: OnceLock<TestKeys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let pair = generate_key_pair().expect("generate test key pair");
            let signer =
                TokenSigner::from_private_pem(&pair.private_pem, None, DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE)
                    .expect("test signer");
            TestKeys { public_pem: pair.public_pem, private_pem: pair.private_pem, signer }
        })
    }

    /// A valid token for `subject` with `role`, valid for 10 minutes.
    pub fn token(&self, subject: &str, role: Role) -> String {
        self.signer.sign(subject, role, Duration::from_secs(600)).expect("sign test token").0
    }
}

/// The bootstrap admin of every test shop: one identity for all harnesses, so a test that
/// logs in as admin reads the same everywhere.
pub const ADMIN_EMAIL: &str = "admin@microshop.test";
/// [`ADMIN_EMAIL`]'s password.
pub const ADMIN_PASSWORD: &str = "admin password for tests";

/// A verifier for tokens minted with [`TestKeys`], as every service under test uses.
pub fn test_verifier() -> crate::auth::TokenVerifier {
    crate::auth::TokenVerifier::from_public_pem(&TestKeys::get().public_pem, DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE)
        .expect("test verifier")
}

/// One service under test: its fresh, migrated database and its server on port 0.
pub struct TestService {
    /// The test's own database.
    pub db: TestDatabase,
    /// The same database as the service sees it (migrated, ready).
    pub database: crate::db::Database,
    /// The running server; dropping it shuts the server down.
    pub server: TestServerHandle,
}

/// Starts a service: a fresh database from the `label` template of `migrator`, then the
/// endpoint `build` makes of it, served on 127.0.0.1 port 0.
pub async fn spawn_service<E, F>(label: &str, migrator: &Migrator, build: F) -> TestService
where
    E: poem::Endpoint + 'static,
    F: FnOnce(crate::db::Database, crate::auth::TokenVerifier) -> E,
{
    let db = fresh_database(label, migrator).await;
    let database = crate::db::Database::from_pool(db.pool.clone());
    database.migrate(migrator).await.expect("migrations (already applied in the template)");
    let server = spawn_server(build(database.clone(), test_verifier())).await;
    TestService { db, database, server }
}

/// Reads an error body, asserting the status, the `application/problem+json` media type and
/// the RFC 9457 members every microshop problem has.
pub async fn assert_problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status(), status, "status");
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("application/problem+json"), "content type was {content_type}");
    let body: serde_json::Value = resp.json().await.expect("problem json");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("https://")), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}

/// The `field` of every entry of a problem's `errors`.
pub fn error_fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Fails when the committed spec at `path` differs from `generated`; with `UPDATE_OPENAPI` set
/// it rewrites the file first. `service` names the binary whose `openapi` command prints it.
pub fn assert_spec_fresh(generated: &str, path: &str, service: &str) {
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, format!("{generated}\n")).expect("write spec");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        committed.trim_end(),
        generated.trim_end(),
        "{path} is stale: run `cargo run -p {service} -- openapi > docs/openapi/{service}.json`"
    );
}

/// A fault-flag file for a service under test, in a folder of its own (removed on drop):
/// tests switch flags on and off while the service runs, as an operator edits the ConfigMap.
pub struct FaultFile {
    dir: tempfile::TempDir,
    /// The flag file, to hand to [`crate::faults::Faults::watch`].
    pub path: std::path::PathBuf,
}

impl FaultFile {
    /// A flag file with no flag on.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("microshop-faults-").tempdir().expect("fault flag folder");
        let file = Self { path: dir.path().join("flags.json"), dir };
        file.set(&[]);
        file
    }

    /// Replaces the flags: each `(name, value)` becomes an enabled flagd flag whose default
    /// variant is `value`. Written to a temporary file and renamed, like a ConfigMap update,
    /// so the service never reads half a file.
    pub fn set(&self, flags: &[(&str, serde_json::Value)]) {
        let flags: serde_json::Map<String, serde_json::Value> = flags
            .iter()
            .map(|(name, value)| {
                let flag = serde_json::json!({
                    "state": "ENABLED",
                    "variants": {"on": value, "off": serde_json::Value::Null},
                    "defaultVariant": "on",
                });
                ((*name).to_owned(), flag)
            })
            .collect();
        let staged = self.dir.path().join("flags.json.new");
        std::fs::write(&staged, serde_json::json!({ "flags": flags }).to_string()).expect("write flags");
        std::fs::rename(&staged, &self.path).expect("swap flags");
    }

    /// The flags the service follows.
    pub fn faults(&self) -> crate::faults::Faults {
        crate::faults::Faults::watch(&self.path).expect("fault flags load")
    }
}

impl Default for FaultFile {
    fn default() -> Self {
        Self::new()
    }
}

/// Polls `check` every 100 ms until it returns true, for at most `within`; panics with
/// `what` otherwise. For behaviour that must change "within N seconds", without fixed sleeps.
pub async fn eventually<F, Fut>(within: std::time::Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::url_for;

    #[test]
    fn url_for_swaps_only_the_database_name() {
        assert_eq!(url_for("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
        assert_eq!(url_for("postgres://u@h/db?sslmode=disable", "t1"), "postgres://u@h/t1?sslmode=disable");
    }
}
