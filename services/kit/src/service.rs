//! A service's life from start to stop, the same for every microshop service: read the
//! config, bind `LISTEN_ADDR`, open the database (its migrations run in the background and
//! the service answers not-ready until they are done), build the endpoint, serve until
//! SIGINT/SIGTERM, stop the work that ran beside the server, close the database.
//!
//! A service says only what is its own, as a [`Service`]: its name, its migrations, and how
//! it builds its endpoint from its config and the [`Opened`] parts. [`serve_from_env`] and
//! [`run`] do the rest, so the start-up and shut-down order is written once and cannot drift
//! apart between services.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use poem::Endpoint;
use sqlx::migrate::Migrator;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    config::{CommonConfig, ConfigError},
    db::Database,
};

/// A service's settings, read from the environment once at start.
pub trait ServiceConfig: Sized {
    /// Reads the settings. A missing or malformed variable is an error, so a misconfigured
    /// pod fails at start instead of on its first request.
    fn from_env() -> Result<Self, ConfigError>;

    /// The settings every service has: listen address, database, logs, token issuer and
    /// audience.
    fn common(&self) -> &CommonConfig;
}

/// What one service has that the others do not.
pub struct Service<F> {
    /// The name in logs and traces; also the name of the service's crate, whose spans are
    /// exported beside the kit's (see [`crate::telemetry::init`]).
    pub name: &'static str,
    /// The migrations of the service's own database.
    pub migrator: &'static Migrator,
    /// Builds the service's endpoint from its config and the parts the kit opened for it:
    /// a function `(Config, Opened) -> anyhow::Result<impl Endpoint>`.
    pub start: F,
}

/// What the kit has opened for a service by the time the service builds its endpoint.
pub struct Opened {
    /// The service's database. Its migrations may still be running.
    pub database: Database,
    /// Where the service starts work that runs beside its server.
    pub background: Background,
}

/// Work a service runs beside its server, such as a sweeper. It is told to stop once the
/// server has drained and is waited for before the database closes, so it never runs
/// against a closed pool.
#[derive(Debug)]
pub struct Background {
    stop: watch::Receiver<bool>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Background {
    /// Spawns `task`, handing it a receiver that turns `true` at shutdown; the task should
    /// return soon after it does.
    pub fn spawn<F, Fut>(&self, task: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task(self.stop.clone()));
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).push(handle);
    }
}

/// The kit's side of a [`Background`]: tells its tasks to stop and waits for them.
struct BackgroundStop {
    stop: watch::Sender<bool>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl BackgroundStop {
    fn new() -> (Self, Background) {
        let (stop, stopping) = watch::channel(false);
        let tasks = Arc::default();
        (Self { stop, tasks: Arc::clone(&tasks) }, Background { stop: stopping, tasks })
    }

    async fn stop(self) {
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            // A task that panicked has stopped too; tokio has already reported the panic.
            let _ = task.await;
        }
    }
}

/// Runs `service` on `listener` until `shutdown` resolves: opens its database (migrations
/// start in the background before serving begins), builds its endpoint, serves, and once
/// the server has drained stops its background work and closes the database. Taking the
/// listener from the caller lets tests bind port 0.
pub async fn run<C, F, E>(
    service: Service<F>,
    config: C,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    C: ServiceConfig,
    F: FnOnce(C, Opened) -> anyhow::Result<E>,
    E: Endpoint + 'static,
{
    let database = Database::open(config.common(), service.migrator)?;
    let (background_stop, background) = BackgroundStop::new();
    let app = (service.start)(config, Opened { database: database.clone(), background })?;
    crate::server::serve(listener, app, shutdown).await?;
    background_stop.stop().await;
    database.close().await;
    Ok(())
}

/// The process of `service`: reads its config from the environment, then [`run`]s it under
/// [`crate::server::run_process`] (telemetry, `LISTEN_ADDR`) until SIGINT/SIGTERM.
pub async fn serve_from_env<C, F, E>(service: Service<F>) -> anyhow::Result<()>
where
    C: ServiceConfig,
    F: FnOnce(C, Opened) -> anyhow::Result<E>,
    E: Endpoint + 'static,
{
    let config = C::from_env()?;
    let common = config.common().clone();
    crate::server::run_process(service.name, &common, |listener, shutdown| run(service, config, listener, shutdown))
        .await
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
