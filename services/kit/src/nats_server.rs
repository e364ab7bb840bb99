//! A real NATS server with JetStream for tests: Debian's `nats-server` (`.ci/run` installs it),
//! on a free port, storing in a temporary directory, stopped when the handle drops.

use std::{path::PathBuf, process::Stdio, time::Duration};

/// A running `nats-server -js`.
pub struct NatsServer {
    /// `nats://127.0.0.1:<port>` (`nats://<user>:<password>@127.0.0.1:<port>` with a login).
    pub url: String,
    pub port: u16,
    child: tokio::process::Child,
    dir: PathBuf,
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return PathBuf::from(path);
    }
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("nats-server not found: install Debian's nats-server (.ci/run does), or set NATS_SERVER")
        })
}

impl NatsServer {
    /// Starts one and waits until it accepts connections. The server picks its own port (`-p -1`)
    /// and says which in its log: a port found free here and handed over could be taken by a
    /// server of a test running beside this one before this one binds it.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// One that admits only `user` with `password`; [`NatsServer::url`] carries the login.
    pub async fn start_with_login(user: &str, password: &str) -> Self {
        Self::start_with(Some((user, password))).await
    }

    async fn start_with(login: Option<(&str, &str)>) -> Self {
        use tokio::io::{AsyncBufReadExt as _, BufReader};
        let dir = std::env::temp_dir().join(format!("microshop-nats-{}-{}", std::process::id(), uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("store directory");
        let mut child = tokio::process::Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(&dir)
            .args(login.map(|(user, password)| ["--user", user, "--pass", password]).into_iter().flatten())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let listening = tokio::time::timeout(Duration::from_secs(10), async {
            while let Ok(Some(line)) = log.next_line().await {
                if let Some((_, address)) = line.split_once("Listening for client connections on ") {
                    return address.trim().rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok());
                }
            }
            None
        })
        .await;
        let Ok(Some(port)) = listening else { panic!("nats-server did not say where it listens within 10 s") };
        // Keep reading its log, so a full pipe never blocks it.
        tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
        let url = match login {
            Some((user, password)) => format!("nats://{user}:{password}@127.0.0.1:{port}"),
            None => format!("nats://127.0.0.1:{port}"),
        };
        Self { url, port, child, dir }
    }

    /// Stops it now (a crash, as far as clients can tell).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
