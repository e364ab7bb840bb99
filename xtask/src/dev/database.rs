//! The databases of `cargo xtask dev`: a private cluster under `target/`, or the server in
//! `DATABASE_URL`; one database per service, created if missing.

use std::path::Path;

use anyhow::Context;
use shopkit::localdb::LocalCluster;
use sqlx::{Connection, PgConnection};

/// Where the service databases live.
pub struct DevDatabase {
    admin_url: String,
    cluster: Option<LocalCluster>,
}

impl DevDatabase {
    /// Starts (or reuses) the databases; a private cluster listens on `port` (55432 unless
    /// moved, so a developer can `psql -p 55432` into it). Its data lives under `dir`, per port,
    /// so two runs side by side do not share a data directory.
    pub async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let data = if port == super::ports::default_of("postgres") {
            dir.join("postgres")
        } else {
            dir.join(format!("postgres-{port}"))
        };
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => {
                println!("xtask: using the PostgreSQL server in DATABASE_URL");
                let db = Self { admin_url: url, cluster: None };
                db.create_databases().await?;
                Ok(db)
            }
            _ => Self::start_private(&data, port).await,
        }
    }

    /// Starts (or reuses) a private cluster with its data in `dir` on `port`, whatever
    /// `DATABASE_URL` says (`cargo xtask bench` needs the server to itself and its log file).
    pub async fn start_private(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let cluster = LocalCluster::start(dir, port).map_err(|e| {
            anyhow::anyhow!("{e}\nInstall the PostgreSQL server binaries (initdb, pg_ctl) or set DATABASE_URL")
        })?;
        cluster.stop_when_gone(std::process::id(), None).map_err(|e| anyhow::anyhow!(e))?;
        println!("xtask: PostgreSQL on 127.0.0.1:{port}, data in {}", dir.display());
        let db = Self { admin_url: cluster.admin_url(), cluster: Some(cluster) };
        db.create_databases().await?;
        Ok(db)
    }

    /// The URL of the maintenance database (superuser).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    async fn create_databases(&self) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect(&self.admin_url).await.context("connecting to PostgreSQL")?;
        for name in super::SERVICES {
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
            if !exists {
                // The names are the fixed service names above, never input.
                sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
            }
        }
        conn.close().await?;
        Ok(())
    }

    /// The URL of a service's database.
    pub fn url_for(&self, service: &str) -> String {
        match self.admin_url.rsplit_once('/') {
            Some((prefix, rest)) => {
                let query = rest.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
                format!("{prefix}/{service}{query}")
            }
            None => format!("{}/{service}", self.admin_url),
        }
    }

    /// Stops the private cluster, if this run started one.
    pub fn stop(&self) {
        if let Some(cluster) = &self.cluster {
            match cluster.stop() {
                Ok(()) => println!("xtask: PostgreSQL stopped"),
                Err(e) => eprintln!("xtask: stopping PostgreSQL failed: {e}"),
            }
        }
    }
}
