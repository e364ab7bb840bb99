//! Connections lent to one statement at a time, without the round trip sqlx adds on return.
//!
//! sqlx (0.8 and 0.9 alike) pings a connection every time it goes back to its pool, to flush
//! whatever a cancelled statement left behind. For a one-statement read that is a second
//! round trip to PostgreSQL for every request: a profile of `GET /products/{id}` under load
//! showed the service spending most of its time in the kernel sending to PostgreSQL and to
//! the client, and one of its three sends per request was that ping.
//!
//! A [`Lender`] keeps connections checked out of the pool between requests and lends them, for
//! the span of one call: [`Lender::lend`] runs the caller's statements on a lent connection and
//! then decides where it goes back, so no caller can forget. It goes back to the lender, with
//! no ping, when the statements ran to the end, with an answer or with a refusal that did not
//! come from the database failing ([`StatementError`]): the connection is then between
//! statements, with nothing to flush (a transaction dropped before its commit has queued its
//! ROLLBACK, which the next statement sends first). A database error or a cancelled call (the
//! future dropped mid-statement) sends it back to the pool the usual way, ping included, and the
//! pool discards it if it is broken.
//!
//! Connections the lender holds are checked out as far as the pool knows, so the lender must
//! not take them all: it owns at most `keep` connections at a time, lent or idle (all but two
//! of the pool's), so the rest of the service always has the others; a borrower beyond that
//! waits for a loan to come back. Connections idle with the lender for [`Lender::IDLE_GRACE`]
//! go back to the pool, and so does one it has held for [`Lender::RECYCLE_AFTER`], so the pool
//! applies its lifetime limits.

use std::{
    ops::{Deref, DerefMut},
    sync::Mutex,
    time::{Duration, Instant},
};

use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection};

/// A connection held by the lender, and since when.
#[derive(Debug)]
struct Held {
    conn: PoolConnection<Postgres>,
    /// One of the lender's `keep` places, given up when the connection goes back to the pool.
    _place: tokio::sync::OwnedSemaphorePermit,
    /// When the lender took it from the pool.
    since: Instant,
    /// When it last came back to the lender.
    idle_since: Instant,
}

/// Lends connections of one pool; see the module's note.
#[derive(Debug)]
pub struct Lender {
    pool: PgPool,
    idle: Mutex<Vec<Held>>,
    /// The lender's places: one per connection it owns, lent or idle.
    places: std::sync::Arc<tokio::sync::Semaphore>,
    /// Wakes a borrower waiting for a place when a loan comes back to the lender instead.
    returned: tokio::sync::Notify,
}

impl Lender {
    /// How long a connection stays with the lender before the pool sees it again.
    pub const RECYCLE_AFTER: Duration = Duration::from_secs(60);
    /// How long a connection may sit unused with the lender before it goes back to the pool.
    pub const IDLE_GRACE: Duration = Duration::from_millis(500);

    /// A lender over `pool` keeping at most `keep` connections between loans.
    pub fn new(pool: PgPool, keep: usize) -> Self {
        let places = std::sync::Arc::new(tokio::sync::Semaphore::new(keep));
        Self { pool, idle: Mutex::new(Vec::new()), places, returned: tokio::sync::Notify::new() }
    }

    /// A lender keeping all but two of the pool's connections (at least one), with a task
    /// (when a Tokio runtime runs) that gives back connections left idle for
    /// [`Lender::IDLE_GRACE`].
    pub fn for_pool(pool: PgPool) -> std::sync::Arc<Self> {
        let keep = (pool.options().get_max_connections() as usize).saturating_sub(2).max(1);
        let lender = std::sync::Arc::new(Self::new(pool, keep));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = std::sync::Arc::downgrade(&lender);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(Self::IDLE_GRACE);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(lender) = weak.upgrade() else { return };
                    lender.release_idle(Self::IDLE_GRACE);
                }
            });
        }
        lender
    }

    /// Runs `statements` on a lent connection and hands the connection back: to the lender
    /// when they ran to the end and any error is not a database failure
    /// ([`StatementError::is_database_failure`]), to the pool's checks otherwise (see the
    /// module's note). Waiting for a connection is bounded by the pool's acquire timeout.
    pub async fn lend<T, E>(&self, statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<sqlx::Error> + StatementError,
    {
        let mut loan = self.borrow().await?;
        let result = statements(&mut loan).await;
        if !matches!(&result, Err(error) if error.is_database_failure()) {
            loan.settled = true;
        }
        result
    }

    /// A connection: one the lender holds, or a new checkout from the pool while the lender
    /// owns fewer than `keep`, or the first loan that comes back; within the pool's acquire
    /// timeout, like a checkout from the pool.
    async fn borrow(&self) -> Result<Loan<'_>, sqlx::Error> {
        // The common case, an idle connection, needs no deadline (and no timer).
        if let Some(held) = self.lock().pop() {
            return Ok(self.loan(held));
        }
        let timeout = self.pool.options().get_acquire_timeout();
        tokio::time::timeout(timeout, self.borrow_without_deadline()).await.map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    fn loan(&self, held: Held) -> Loan<'_> {
        Loan { held: Some(held), lender: self, settled: false }
    }

    async fn borrow_without_deadline(&self) -> Result<Loan<'_>, sqlx::Error> {
        loop {
            if let Some(held) = self.lock().pop() {
                return Ok(self.loan(held));
            }
            tokio::select! {
                place = self.places.clone().acquire_owned() => {
                    let Ok(place) = place else { return Err(sqlx::Error::PoolClosed) };
                    let conn = self.pool.acquire().await?;
                    let now = Instant::now();
                    return Ok(self.loan(Held { conn, _place: place, since: now, idle_since: now }));
                }
                () = self.returned.notified() => {}
            }
        }
    }

    /// Gives back to the pool the connections unused for `grace` or longer.
    pub fn release_idle(&self, grace: Duration) {
        self.lock().retain(|held| held.idle_since.elapsed() < grace);
    }

    /// Connections the lender holds now.
    pub fn holding(&self) -> usize {
        self.lock().len()
    }

    /// Gives every held connection back to the pool (before the pool is closed, which waits
    /// for checked-out connections).
    pub fn release_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Held>> {
        // A panic while holding this lock cannot leave the list inconsistent (push or pop).
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether an error a lent connection's statements ended with leaves the connection in an
/// unknown state. Each service's error type says which of its variants are database failures;
/// the rest (not found, a refused change) are answers the statements completed with.
pub trait StatementError {
    /// True when the database (or the connection to it) failed while the statements ran.
    fn is_database_failure(&self) -> bool;
}

impl StatementError for sqlx::Error {
    fn is_database_failure(&self) -> bool {
        true
    }
}

/// A lent connection, inside [`Lender::lend`]; derefs to the connection. Dropped unsettled,
/// it goes back to the pool.
struct Loan<'a> {
    held: Option<Held>,
    lender: &'a Lender,
    settled: bool,
}

impl Loan<'_> {
    /// The statements finished: the connection may go back to the lender without a ping.
    #[cfg(all(test, feature = "testing"))]
    fn settle(mut self) {
        self.settled = true;
    }
}

impl Deref for Loan<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        // `held` is only taken in `drop`.
        self.held.as_ref().map(|h| &*h.conn).expect("a loan holds its connection until dropped")
    }
}

impl DerefMut for Loan<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.held.as_mut().map(|h| &mut *h.conn).expect("a loan holds its connection until dropped")
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        let Some(mut held) = self.held.take() else { return };
        if self.settled && held.since.elapsed() < Lender::RECYCLE_AFTER && !self.lender.pool.is_closed() {
            held.idle_since = Instant::now();
            self.lender.lock().push(held);
            self.lender.returned.notify_one();
        }
        // Otherwise `held` drops here: back to the pool, which pings it, and its place frees.
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::testing::fresh_database;

    static NO_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

    async fn backend_pid(conn: &mut PgConnection) -> i32 {
        sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(conn).await.expect("pid")
    }

    #[tokio::test]
    async fn a_settled_loan_is_lent_again_and_an_unsettled_one_goes_back_to_the_pool() {
        let db = fresh_database("lender", &NO_MIGRATIONS).await;
        let lender = Lender::new(db.pool.clone(), 1);

        let mut loan = lender.borrow().await.expect("borrow");
        let first = backend_pid(&mut loan).await;
        loan.settle();
        assert_eq!(lender.holding(), 1, "settled: kept");
        let mut loan = lender.borrow().await.expect("borrow");
        assert_eq!(backend_pid(&mut loan).await, first, "the same connection is lent again");
        assert_eq!(lender.holding(), 0);

        // A statement interrupted half-way leaves the connection to the pool's checks.
        drop(loan);
        assert_eq!(lender.holding(), 0, "unsettled: not kept");
    }

    /// A service error: a refusal the statements completed with, or the database failing.
    #[derive(Debug)]
    enum Outcome {
        Refused,
        Database(sqlx::Error),
    }

    impl From<sqlx::Error> for Outcome {
        fn from(error: sqlx::Error) -> Self {
            Self::Database(error)
        }
    }

    impl StatementError for Outcome {
        fn is_database_failure(&self) -> bool {
            matches!(self, Self::Database(_))
        }
    }

    #[tokio::test]
    async fn lend_keeps_the_connection_after_an_answer_or_a_refusal_but_not_after_a_failure_or_a_cancel() {
        let db = fresh_database("lender_lend", &NO_MIGRATIONS).await;
        let lender = Lender::new(db.pool.clone(), 1);

        let pid = lender.lend(async |conn| Ok::<_, sqlx::Error>(backend_pid(conn).await)).await.expect("answer");
        assert_eq!(lender.holding(), 1, "an answer: kept");

        let refused = lender
            .lend(async |conn| {
                assert_eq!(backend_pid(conn).await, pid, "the same connection is lent again");
                Err::<(), _>(Outcome::Refused)
            })
            .await;
        assert!(matches!(refused, Err(Outcome::Refused)), "{refused:?}");
        assert_eq!(lender.holding(), 1, "a refusal: kept");

        let failed = lender
            .lend(async |conn| {
                sqlx::query("SELECT * FROM no_such_table").execute(conn).await.map_err(Outcome::Database)
            })
            .await;
        let Err(Outcome::Database(error)) = failed else { panic!("expected a database failure: {failed:?}") };
        assert!(error.to_string().contains("no_such_table"), "{error}");
        assert_eq!(lender.holding(), 0, "a database failure: back to the pool");

        let cancelled = tokio::time::timeout(
            Duration::from_millis(200),
            lender.lend(async |conn| sqlx::query("SELECT pg_sleep(1)").execute(conn).await.map(|_| ())),
        )
        .await;
        assert!(cancelled.is_err(), "the call was cut short");
        assert_eq!(lender.holding(), 0, "cancelled mid-statement: back to the pool");
    }

    #[tokio::test]
    async fn the_lender_keeps_no_more_than_asked_and_leaves_the_pool_usable() {
        let db = fresh_database("lender_keep", &NO_MIGRATIONS).await;
        let lender = Lender::new(db.pool.clone(), 2);
        let (first, second) = (lender.borrow().await.expect("first"), lender.borrow().await.expect("second"));
        let third = tokio::time::timeout(Duration::from_millis(300), lender.borrow()).await;
        assert!(third.is_err(), "a third loan waits while two are out");
        let mut conn = db.pool.acquire().await.expect("the pool still lends to others");
        sqlx::query("SELECT 1").execute(&mut *conn).await.expect("query");
        drop(conn);
        first.settle();
        second.settle();
        assert_eq!(lender.holding(), 2, "both kept");
        lender.release_all();
        assert_eq!(lender.holding(), 0);
    }

    #[tokio::test]
    async fn the_database_closes_while_its_lender_holds_connections() {
        let db = fresh_database("lender_close", &NO_MIGRATIONS).await;
        let database = crate::db::Database::from_pool(db.pool.clone());
        let mut loan = database.read_lender().borrow().await.expect("borrow");
        sqlx::query("SELECT 1").execute(&mut *loan).await.expect("query");
        loan.settle();
        assert_eq!(database.read_lender().holding(), 1);
        tokio::time::timeout(Duration::from_secs(10), database.close()).await.expect("close does not wait forever");
        assert!(db.pool.is_closed());
        assert_eq!(database.read_lender().holding(), 0);
    }

    #[tokio::test]
    async fn the_lender_owns_no_more_than_its_places_and_a_borrower_waits_for_a_loan() {
        let db = fresh_database("lender_wait", &NO_MIGRATIONS).await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(20))
            .connect(&db.url)
            .await
            .expect("pool");
        let lender = std::sync::Arc::new(Lender::new(pool.clone(), 1));
        let first = lender.borrow().await.expect("first");
        let waiting = tokio::spawn({
            let lender = lender.clone();
            async move {
                let started = Instant::now();
                lender.borrow().await.expect("borrow").settle();
                started.elapsed()
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut other_user = pool.acquire().await.expect("the pool keeps a connection for others");
        sqlx::query("SELECT 1").execute(&mut *other_user).await.expect("query");
        first.settle();
        let waited = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("not stuck").expect("task");
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
        assert_eq!(lender.holding(), 1);
    }

    #[tokio::test]
    async fn idle_connections_go_back_to_the_pool() {
        let db = fresh_database("lender_idle", &NO_MIGRATIONS).await;
        let lender = Lender::new(db.pool.clone(), 2);
        lender.borrow().await.expect("borrow").settle();
        lender.release_idle(Duration::from_secs(60));
        assert_eq!(lender.holding(), 1, "not idle long enough");
        lender.release_idle(Duration::ZERO);
        assert_eq!(lender.holding(), 0);
    }
}
