//! The event bus and the mail catcher of `cargo xtask dev`: a NATS server with JetStream (orders
//! publishes its order events there, notifications consumes them) and an SMTP server that keeps
//! every e-mail in a Maildir instead of delivering it. Both are Debian packages (`nats-server`,
//! `python3-aiosmtpd`); without them the shop runs as before, its events kept in the orders
//! outbox, and the banner says what to install.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use super::ports::Ports;

/// The running pair.
pub struct Events {
    /// `nats://127.0.0.1:<port>`.
    pub nats_url: String,
    /// The SMTP catcher's port on 127.0.0.1.
    pub smtp_port: u16,
    /// Where the catcher writes each e-mail, one file per message under `new/`.
    pub maildir: PathBuf,
    nats: Child,
    smtp: Child,
}

/// Why events are off in this run: what to install.
pub fn missing() -> Option<String> {
    let mut missing = Vec::new();
    if nats_binary().is_none() {
        missing.push("nats-server");
    }
    if !aiosmtpd_available() {
        missing.push("python3-aiosmtpd");
    }
    (!missing.is_empty()).then(|| {
        format!(
            "off: install Debian's {} (order events then go to notifications, e-mails to a Maildir)",
            missing.join(" and ")
        )
    })
}

/// `NATS_SERVER`, else Debian's or a local install, else `nats-server` on `PATH`.
fn nats_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("nats-server")).collect::<Vec<_>>())
        .unwrap_or_default();
    ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"]
        .iter()
        .map(PathBuf::from)
        .chain(on_path)
        .find(|p| p.is_file())
}

/// Debian's Python, where `python3-aiosmtpd` installs (another `python3` may come first on `PATH`).
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").is_file() { "/usr/bin/python3" } else { "python3" }
}

fn aiosmtpd_available() -> bool {
    std::process::Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Events {
    /// Starts both on the dev ports `nats` and `smtp`, their logs and data under `dir`; the
    /// JetStream store is kept between runs (events not yet consumed are sent on the next start),
    /// the Maildir too (it is the developer's inbox).
    pub async fn start(dir: &Path, ports: &Ports) -> anyhow::Result<Self> {
        let binary = nats_binary().context("nats-server not found")?;
        let (nats_port, smtp_port) = (ports.of("nats"), ports.of("smtp"));
        let store = dir.join(format!("nats-{nats_port}"));
        let maildir = dir.join(format!("mail-{smtp_port}"));
        std::fs::create_dir_all(&store)?;
        let mut nats = Command::new(&binary);
        nats.args(["-js", "-a", "127.0.0.1", "-p", &nats_port.to_string(), "-sd"]).arg(&store);
        let nats = spawn(nats, &dir.join(format!("nats-{nats_port}.log")), "nats-server")?;
        let mut smtp = Command::new(python());
        smtp.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{smtp_port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir);
        let smtp = spawn(smtp, &dir.join(format!("smtp-{smtp_port}.log")), "the SMTP catcher")?;
        let events = Self { nats_url: format!("nats://127.0.0.1:{nats_port}"), smtp_port, maildir, nats, smtp };
        wait_listening("nats-server", nats_port).await?;
        wait_listening("the SMTP catcher (aiosmtpd)", smtp_port).await?;
        println!("xtask: started nats-server on 127.0.0.1:{nats_port} and an SMTP catcher on 127.0.0.1:{smtp_port}");
        Ok(events)
    }

    /// Stops both (after the services, so nothing is left half-sent).
    pub async fn stop(mut self) {
        for (name, child) in [("nats-server", &mut self.nats), ("the SMTP catcher", &mut self.smtp)] {
            let _ = child.kill().await;
            println!("xtask: {name} stopped");
        }
    }
}

fn spawn(mut cmd: Command, log: &Path, name: &str) -> anyhow::Result<Child> {
    let out = std::fs::File::create(log)?;
    cmd.stdout(Stdio::from(out.try_clone()?)).stderr(Stdio::from(out)).stdin(Stdio::null()).kill_on_drop(true);
    cmd.spawn().with_context(|| format!("starting {name}"))
}

async fn wait_listening(name: &str, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            bail!(
                "{name} does not listen on 127.0.0.1:{port} after 10 s (port taken? see its log in target/xtask-dev)"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
