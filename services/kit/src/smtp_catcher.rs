//! A real SMTP server catching mail for tests: Debian's `python3-aiosmtpd` (`.ci/run` installs
//! it) with its Maildir handler, on a free port; the messages are read back from the Maildir.
//! A secured one (TLS and a login, as a provider's relay) runs `smtp_catcher/secured.py`, with a
//! certificate made by Debian's `openssl` command.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

/// A running catcher.
pub struct SmtpCatcher {
    pub host: String,
    pub port: u16,
    /// With [`SmtpCatcher::start_secured`]: the PEM of the authority that signed its
    /// certificate (for `127.0.0.1` and `localhost`), to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    child: tokio::process::Child,
    dir: PathBuf,
}

/// A caught message: its headers (name lower-cased) and body (quoted-printable decoded).
#[derive(Debug, Clone)]
pub struct Caught {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Caught {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// How a secured catcher protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secured {
    /// STARTTLS required before anything else.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

/// A relay that wants TLS and this login.
struct Relay<'a> {
    mode: Secured,
    username: &'a str,
    password: &'a str,
}

/// The script a secured catcher runs (aiosmtpd's command line has no login).
const SECURED_SCRIPT: &str = include_str!("smtp_catcher/secured.py");

impl SmtpCatcher {
    /// Starts a plain one (no TLS, no login) and waits until it accepts connections.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Starts one as a provider's relay is: TLS as `mode` says, with a certificate signed by a
    /// throw-away authority (see [`SmtpCatcher::ca_file`]), and no mail accepted before a login
    /// as `username` with `password`.
    pub async fn start_secured(mode: Secured, username: &str, password: &str) -> Self {
        Self::start_with(Some(Relay { mode, username, password })).await
    }

    /// aiosmtpd cannot pick its own port, so the port is found free here; a test running beside
    /// this one may bind it first, and then this aiosmtpd exits at once: it is started again on
    /// another port.
    async fn start_with(relay: Option<Relay<'_>>) -> Self {
        for _ in 0..5 {
            if let Some(catcher) = Self::try_start(relay.as_ref()).await {
                return catcher;
            }
        }
        panic!("aiosmtpd did not stay up on a free port: is python3-aiosmtpd installed?");
    }

    async fn try_start(relay: Option<&Relay<'_>>) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let dir = std::env::temp_dir().join(format!("microshop-smtp-{}-{port}", std::process::id()));
        let python =
            ["/usr/bin/python3", "python3"].into_iter().find(|p| std::path::Path::new(p).exists()).unwrap_or("python3");
        let mut command = tokio::process::Command::new(python);
        let mut ca_file = None;
        match relay {
            None => {
                command.args([
                    "-m",
                    "aiosmtpd",
                    "-n",
                    "-l",
                    &format!("127.0.0.1:{port}"),
                    "-c",
                    "aiosmtpd.handlers.Mailbox",
                ]);
                command.arg(&dir);
            }
            Some(relay) => {
                let certs = dir.with_extension("certs");
                let (cert, key, ca) = certificates(&certs);
                let mode = match relay.mode {
                    Secured::StartTls => "starttls",
                    Secured::Tls => "tls",
                };
                command.args(["-c", SECURED_SCRIPT, &port.to_string()]).arg(&dir).arg(mode).arg(cert).arg(key);
                command.args([relay.username, relay.password]);
                ca_file = Some(ca);
            }
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd (install Debian's python3-aiosmtpd; .ci/run does)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                // Whoever answered, this aiosmtpd must still be running: it is the one listening.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return matches!(child.try_wait(), Ok(None)).then(|| Self {
                    host: "127.0.0.1".into(),
                    port,
                    ca_file,
                    child,
                    dir,
                });
            }
            if !matches!(child.try_wait(), Ok(None)) {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Every message caught so far.
    pub fn messages(&self) -> Vec<Caught> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else { return Vec::new() };
        entries.filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok()).map(|raw| parse(&raw)).collect()
    }
}

/// A throw-away authority and a server certificate it signed for `127.0.0.1` and `localhost`,
/// made with the `openssl` command in `dir`: (certificate, key, authority) paths. The server's
/// certificate is not itself an authority, as certificate checks insist.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).expect("certificate directory");
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &new_key,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=microshop test authority"],
        ]
        .concat(),
    );
    openssl(
        &[&["req", "-new"][..], &new_key, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]]
            .concat(),
    );
    let extensions =
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n";
    std::fs::write(dir.join("server.ext"), extensions).expect("write server.ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (dir.join("server.pem"), dir.join("server.key"), dir.join("ca.pem"))
}

/// Headers (unfolded) and body of an RFC 5322 message.
fn parse(raw: &str) -> Caught {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let quoted =
        headers.iter().any(|(n, v)| n == "content-transfer-encoding" && v.eq_ignore_ascii_case("quoted-printable"));
    let body = if quoted { decode_quoted_printable(body) } else { body.to_owned() };
    Caught { headers, body }
}

/// RFC 2045 quoted-printable: `=XX` is a byte, `=` at a line's end joins it to the next.
fn decode_quoted_printable(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let (line, soft) = match line.strip_suffix('=') {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let raw = line.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            let hex = (raw[i] == b'=').then(|| raw.get(i + 1..i + 3)).flatten();
            match hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                Some(byte) => {
                    bytes.push(byte);
                    i += 3;
                }
                None => {
                    bytes.push(raw[i]);
                    i += 1;
                }
            }
        }
        if !soft && lines.peek().is_some() {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Drop for SmtpCatcher {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(self.dir.with_extension("certs"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_printable_bodies_are_decoded() {
        let caught = super::parse(
            "Subject: x\nContent-Transfer-Encoding: quoted-printable\n\npaid =E2=82=AC50=\n.00\nlink /orders/ab=\ncd\n",
        );
        assert_eq!(caught.body, "paid €50.00\nlink /orders/abcd\n");
        assert_eq!(super::parse("Subject: y\n\na=3Db\n").body, "a=3Db\n", "only when the header says so");
    }
}
