//! A real NATS server with JetStream for tests: Debian's `nats-server` (`.ci/run` installs it),
//! on a free port, storing in a temporary directory, stopped when the handle drops.

use std::{path::PathBuf, process::Stdio, time::Duration};

/// A running `nats-server -js`.
pub struct NatsServer {
    /// `nats://127.0.0.1:<port>`.
    pub url: String,
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
    /// Starts one and waits until it accepts connections.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let dir = std::env::temp_dir().join(format!("microshop-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("store directory");
        let child = tokio::process::Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        let url = format!("nats://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { url, child, dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not listen on {port}");
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
