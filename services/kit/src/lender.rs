//! Connections lent to one statement at a time, without the round trip sqlx adds on return.
//!
//! sqlx (0.8 and 0.9 alike) pings a connection every time it goes back to its pool, to flush
//! whatever a cancelled statement left behind. For a one-statement read that is a second
//! round trip to PostgreSQL for every request: a profile of `GET /products/{id}` under load
//! showed the service spending most of its time in the kernel sending to PostgreSQL and to
//! the client, and one of its three sends per request was that ping.
//!
//! A [`Lender`] keeps connections checked out of the pool between requests and lends them.
//! A [`Loan`] goes back to the lender without a ping only when its holder [`Loan::settle`]d it,
//! which the holder does after its statement completed: the connection is then between
//! statements, with nothing to flush. A loan dropped unsettled (an error, a cancelled request)
//! goes back to the pool the usual way, ping included, and the pool discards it if it is
//! broken. The lender keeps at most `keep` connections, fewer than the pool's maximum, so
//! other users of the pool (writes, readiness) always find one; a connection it has held for
//! [`Lender::RECYCLE_AFTER`] goes back to the pool, which applies its lifetime limits.

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
    since: Instant,
}

/// Lends connections of one pool; see the module's note.
#[derive(Debug)]
pub struct Lender {
    pool: PgPool,
    idle: Mutex<Vec<Held>>,
    keep: usize,
}

impl Lender {
    /// How long a connection stays with the lender before the pool sees it again.
    pub const RECYCLE_AFTER: Duration = Duration::from_secs(60);

    /// A lender over `pool` keeping at most `keep` connections between loans.
    pub fn new(pool: PgPool, keep: usize) -> Self {
        Self { pool, idle: Mutex::new(Vec::new()), keep }
    }

    /// A lender keeping all but two of the pool's connections (at least one), so the rest of
    /// the service can still acquire from the pool while every loan is out.
    pub fn for_pool(pool: PgPool) -> Self {
        let keep = (pool.options().get_max_connections() as usize).saturating_sub(2).max(1);
        Self::new(pool, keep)
    }

    /// A connection: one the lender holds, or a new checkout from the pool.
    pub async fn borrow(&self) -> Result<Loan<'_>, sqlx::Error> {
        let held = self.lock().pop();
        let held = match held {
            Some(held) => held,
            None => Held { conn: self.pool.acquire().await?, since: Instant::now() },
        };
        Ok(Loan { held: Some(held), lender: self, settled: false })
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

/// A lent connection; derefs to the connection.
pub struct Loan<'a> {
    held: Option<Held>,
    lender: &'a Lender,
    settled: bool,
}

impl Loan<'_> {
    /// The statement finished: the connection may go back to the lender without a ping.
    pub fn settle(mut self) {
        self.settled = true;
    }

    /// [`Loan::settle`] if the statements succeeded; any error leaves the connection to the
    /// pool's checks.
    pub fn settle_if_ok<T, E>(self, result: &Result<T, E>) {
        if result.is_ok() {
            self.settle();
        }
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
        let Some(held) = self.held.take() else { return };
        if self.settled && held.since.elapsed() < Lender::RECYCLE_AFTER && !self.lender.pool.is_closed() {
            let mut idle = self.lender.lock();
            if idle.len() < self.lender.keep {
                idle.push(held);
            }
        }
        // Otherwise `held` drops here: back to the pool, which pings it.
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

    #[tokio::test]
    async fn the_lender_keeps_no_more_than_asked_and_leaves_the_pool_usable() {
        let db = fresh_database("lender_keep", &NO_MIGRATIONS).await;
        let lender = Lender::new(db.pool.clone(), 2);
        let loans = futures::future::join_all((0..4).map(|_| lender.borrow())).await;
        for loan in loans {
            loan.expect("borrow").settle();
        }
        assert_eq!(lender.holding(), 2, "two kept, two back to the pool");
        let mut conn = db.pool.acquire().await.expect("the pool still lends");
        sqlx::query("SELECT 1").execute(&mut *conn).await.expect("query");
        drop(conn);
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
}
