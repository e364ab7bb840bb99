//! The service's own PostgreSQL: a lazily connecting pool, migrations run in the background
//! with retries, and a readiness check.
//!
//! A service must start even when its database is not up yet (pods start in any order), so
//! nothing here blocks start-up: the pool connects on first use and [`Database::start_migrations`]
//! keeps trying until the schema is in place. sqlx's migrator takes a PostgreSQL advisory lock,
//! so replicas starting together apply each migration once.
//!
//! Read replica: with `DATABASE_READ_HOST` set, [`Database::read_pool`] connects to that host
//! with everything else taken from `DATABASE_URL` (user, password, port, database, TLS), e.g.
//! CloudNativePG's `<cluster>-ro` Service in front of its streaming replicas, whose server
//! certificate names it. Replicas lag the primary slightly, so only reads that tolerate a
//! moment's staleness use it; readiness does not wait for it (a replica outage must not take
//! writes down with it).
//!
//! TLS: `DATABASE_URL` takes libpq's `sslmode` (`disable`, `prefer` (the default), `require`,
//! `verify-ca`, `verify-full`) and `sslrootcert` (a CA file, e.g. a mounted Secret); sqlx
//! speaks TLS with rustls on the `ring` provider, trusting the system's CA store (the runtime
//! image's ca-certificates) unless `sslrootcert` names a CA.

use std::{str::FromStr, time::Duration};

use sqlx::{
    PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::sync::watch;

use crate::config::{ConfigError, Secret};

/// How long a request waits for a pooled connection before the service answers 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Upper bound of the wait between two migration attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);
/// Connections are replaced after this long, so a connection that went bad unnoticed (the
/// pool no longer pings before handing one out) or a server-side memory build-up does not
/// live forever.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Idle connections are closed after this long, giving PostgreSQL its backends back.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A pool plus whether migrations have completed.
#[derive(Clone, Debug)]
pub struct Database {
    pool: PgPool,
    /// The pool for reads that may lag: a replica's, or `pool` itself.
    reads: PgPool,
    /// Lends `pool` connections without sqlx's return ping (see [`crate::lender`]).
    lender: std::sync::Arc<crate::lender::Lender>,
    /// Lends `reads` connections: `lender` itself without a replica, so the two never hold
    /// more of one pool than one lender may.
    read_lender: std::sync::Arc<crate::lender::Lender>,
    migrated: watch::Receiver<bool>,
    migrated_tx: std::sync::Arc<watch::Sender<bool>>,
    /// Start-up work besides migrations that readiness waits for (see [`Database::gate_readiness`]).
    gates_open: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    gates: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Keeps the service not-ready until [`ReadinessGate::open`] is called.
#[derive(Debug)]
pub struct ReadinessGate {
    opened: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ReadinessGate {
    /// The work this gate waited for is done.
    pub fn open(self) {
        self.opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Database {
    /// Builds the pool without connecting.
    ///
    /// The pool does not ping a connection before handing it out (`test_before_acquire`):
    /// that ping was a full round trip before every statement, a third of the round trips of
    /// a simple read. A connection that died while idle fails its next statement instead,
    /// which the request reports as a 503 like any database error, and is then discarded;
    /// `max_lifetime` and `idle_timeout` keep connections from growing old or stale. (sqlx
    /// 0.8 still pings once when a connection goes back to the pool; that happens after
    /// the response, off the request's path.)
    pub fn connect_lazy(url: &Secret<String>, max_connections: u32) -> Result<Self, ConfigError> {
        Self::connect_lazy_with_replica(url, None, max_connections)
    }

    /// [`Database::connect_lazy`], with reads that may lag sent to `read_host` (see the
    /// module's note); each pool may open `max_connections`.
    pub fn connect_lazy_with_replica(
        url: &Secret<String>,
        read_host: Option<&str>,
        max_connections: u32,
    ) -> Result<Self, ConfigError> {
        let options = PgConnectOptions::from_str(url.expose())
            .map_err(|e| ConfigError::Invalid { name: "DATABASE_URL", reason: e.to_string() })?;
        crate::dbop::set_target(options.get_database().unwrap_or_default(), options.get_host(), options.get_port());
        let pool = lazy_pool(options.clone(), max_connections);
        let reads = match read_host {
            Some(host) => lazy_pool(options.host(host), max_connections),
            None => pool.clone(),
        };
        let database = Self::from_pool(pool);
        // Without a replica both pools are one, and so is the lender: two lenders could each
        // keep most of the same pool and leave the other none.
        let read_lender =
            if read_host.is_some() { crate::lender::Lender::for_pool(reads.clone()) } else { database.lender.clone() };
        Ok(Self { read_lender, reads, ..database })
    }

    /// The service's database as a service starts it: the pool from `DATABASE_URL` (connecting
    /// on first use) and its migrations running in the background.
    pub fn open(common: &crate::config::CommonConfig, migrator: &'static Migrator) -> Result<Self, ConfigError> {
        let database = Self::connect_lazy_with_replica(
            &common.database_url,
            common.database_read_host.as_deref(),
            common.database_max_connections,
        )?;
        database.start_migrations(migrator);
        Ok(database)
    }

    /// Closes the pool once the server has drained, so PostgreSQL sees clean disconnects.
    /// A pool is marked closed when its close is first polled and then waits for its
    /// connections, so the lender lets go of its own only after both are marked: they go
    /// back to a closed pool, which closes them.
    pub async fn close(&self) {
        tokio::join!(self.pool.close(), self.reads.close(), async {
            self.lender.release_all();
            self.read_lender.release_all();
        });
    }

    /// Wraps an existing pool (tests), not yet marked migrated.
    pub fn from_pool(pool: PgPool) -> Self {
        let (tx, rx) = watch::channel(false);
        let lender = crate::lender::Lender::for_pool(pool.clone());
        Self {
            read_lender: lender.clone(),
            lender,
            reads: pool.clone(),
            pool,
            migrated: rx,
            migrated_tx: std::sync::Arc::new(tx),
            gates_open: Default::default(),
            gates: Default::default(),
        }
    }

    /// The connection pool (the primary).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool for reads that tolerate a replica's lag: the replica's when
    /// `DATABASE_READ_HOST` is set, otherwise the primary's.
    pub fn read_pool(&self) -> &PgPool {
        &self.reads
    }

    /// The lender of [`Database::pool`]'s connections (see [`crate::lender`]).
    pub fn lender(&self) -> &std::sync::Arc<crate::lender::Lender> {
        &self.lender
    }

    /// The lender of [`Database::read_pool`]'s connections (see [`crate::lender`]).
    pub fn read_lender(&self) -> &std::sync::Arc<crate::lender::Lender> {
        &self.read_lender
    }

    /// Runs the migrations once, now.
    pub async fn migrate(&self, migrator: &Migrator) -> Result<(), sqlx::migrate::MigrateError> {
        migrator.run(&self.pool).await?;
        self.migrated_tx.send_replace(true);
        Ok(())
    }

    /// Keeps trying to run the migrations in the background (exponential backoff up to 10 s)
    /// until they succeed. The service reports not-ready meanwhile.
    pub fn start_migrations(&self, migrator: &'static Migrator) -> tokio::task::JoinHandle<()> {
        let db = self.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(250);
            loop {
                match db.migrate(migrator).await {
                    Ok(()) => {
                        tracing::info!("database migrations applied");
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "database not ready, retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(MAX_RETRY_DELAY);
                    }
                }
            }
        })
    }

    /// Resolves once migrations have been applied (for start-up tasks that need the schema).
    pub async fn wait_until_migrated(&self) {
        let mut rx = self.migrated.clone();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = rx.wait_for(|done| *done).await;
    }

    /// Holds readiness back until the returned gate is opened: for start-up work that clients
    /// depend on, such as the users service creating its bootstrap admin.
    pub fn gate_readiness(&self) -> ReadinessGate {
        self.gates.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ReadinessGate { opened: self.gates_open.clone() }
    }

    /// Ready means: migrations done, every readiness gate opened, and the database answers a
    /// trivial query right now.
    pub async fn is_ready(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        if !*self.migrated.borrow() || self.gates_open.load(SeqCst) < self.gates.load(SeqCst) {
            return false;
        }
        let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&self.pool);
        matches!(tokio::time::timeout(ACQUIRE_TIMEOUT, ping).await, Ok(Ok(1)))
    }
}

/// A pool that connects on first use, without pinging connections it hands out.
fn lazy_pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .max_lifetime(MAX_LIFETIME)
        .idle_timeout(IDLE_TIMEOUT)
        .connect_lazy_with(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_read_pool_changes_only_the_host() {
        let url = Secret::new("postgres://shop:pw@db-rw:6543/products?sslmode=verify-full".to_string());
        let db = Database::connect_lazy_with_replica(&url, Some("db-ro"), 4).expect("valid url");
        let (primary, reads) = (db.pool().connect_options(), db.read_pool().connect_options());
        assert_eq!((primary.get_host(), reads.get_host()), ("db-rw", "db-ro"));
        assert_eq!(reads.get_port(), 6543);
        assert_eq!(reads.get_username(), "shop");
        assert_eq!(reads.get_database(), Some("products"));
        assert!(matches!(reads.get_ssl_mode(), sqlx::postgres::PgSslMode::VerifyFull), "TLS settings kept");
        let single = Database::connect_lazy(&url, 4).expect("valid url");
        assert_eq!(single.read_pool().connect_options().get_host(), "db-rw", "no replica: reads use the primary");
        assert!(std::sync::Arc::ptr_eq(single.lender(), single.read_lender()), "one pool, one lender");
        assert!(!std::sync::Arc::ptr_eq(db.lender(), db.read_lender()), "a replica has its own lender");
    }
}

#[cfg(all(test, feature = "localdb"))]
#[path = "db_tls_tests.rs"]
mod tls_tests;
