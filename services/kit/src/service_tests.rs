//! The shut-down order of [`super::run`]: server first, then background work, then the
//! database. No PostgreSQL is needed: the pool connects lazily and nothing here queries it.

use std::sync::{Arc, Mutex};

use poem::endpoint::make_sync;
use sqlx::migrate::Migrator;

use super::{Opened, Service, ServiceConfig, run};
use crate::{
    config::{CommonConfig, ConfigError},
    db::Database,
};

/// No migrations: the service under test has no schema.
static NO_MIGRATIONS: Migrator = Migrator::DEFAULT;

struct TestConfig {
    common: CommonConfig,
}

impl ServiceConfig for TestConfig {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self { common: CommonConfig::from_env()? })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

fn test_config() -> TestConfig {
    TestConfig {
        common: CommonConfig {
            database_max_connections: 1,
            // Port 1 refuses connections; the background migrations just keep retrying.
            ..CommonConfig::local("postgres://microshop@127.0.0.1:1/none")
        },
    }
}

/// What the service under test saw.
#[derive(Default)]
struct Seen {
    /// The database the kit opened, to check afterwards that it was closed.
    database: Option<Database>,
    /// Whether the server still accepted connections when the background task was told to
    /// stop.
    server_up_when_background_stopped: Option<bool>,
    /// Whether the pool was already closed when the background task was told to stop.
    pool_closed_when_background_stopped: Option<bool>,
}

#[tokio::test]
async fn stops_the_server_then_the_background_work_then_the_database() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let observed = seen.clone();
    let start = move |_: TestConfig, opened: Opened| {
        observed.lock().expect("seen").database = Some(opened.database.clone());
        let database = opened.database.clone();
        opened.background.spawn(move |mut stop| async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
            let server_up = tokio::net::TcpStream::connect(address).await.is_ok();
            let mut seen = observed.lock().expect("seen");
            seen.server_up_when_background_stopped = Some(server_up);
            seen.pool_closed_when_background_stopped = Some(database.pool().is_closed());
        });
        anyhow::Ok(make_sync(|_| "served"))
    };
    let service = Service { name: "kit-test", migrator: &NO_MIGRATIONS, start };
    let url = format!("http://{address}/");
    let (stop_server, server_stopping) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(run(service, test_config(), listener, async {
        let _ = server_stopping.await;
    }));

    let body = reqwest::get(&url).await.expect("request").text().await.expect("body");
    assert_eq!(body, "served");
    assert_eq!(seen.lock().expect("seen").pool_closed_when_background_stopped, None, "background still running");

    stop_server.send(()).expect("server running");
    // Closing the pool waits out the migration attempt's connect (up to the 3 s acquire timeout).
    running.await.expect("run task").expect("run");
    let seen = seen.lock().expect("seen");
    assert_eq!(seen.server_up_when_background_stopped, Some(false), "background stopped after the server");
    assert_eq!(seen.pool_closed_when_background_stopped, Some(false), "background stopped before the database closed");
    assert!(seen.database.as_ref().expect("database opened").pool().is_closed(), "database closed at the end");
}
