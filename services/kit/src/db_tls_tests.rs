//! TLS to PostgreSQL, against a real local server with a certificate from a throwaway CA
//! (made with the `openssl` command): `sslmode` and `sslrootcert` in `DATABASE_URL` are
//! honoured: `verify-full` checks the CA and the host name, `verify-ca` the CA (and, with
//! sqlx 0.8.6, the name too: see its case), `require` encrypts without checking, `disable`
//! does not encrypt.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::Database;
use crate::config::Secret;
use crate::localdb::{LocalCluster, free_port};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, and a server certificate it signed for `localhost` only.
fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca =
        vec!["req", "-x509", "-days", "2", "-subj", "/CN=microshop test CA", "-keyout", "ca.key", "-out", "ca.crt"];
    ca.extend(ec);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"];
    csr.extend(ec);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write ext.cnf");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ],
    );
    // PostgreSQL refuses a key readable by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).expect("chmod key");
    }
}

/// Whether a fresh pool from `url` runs a query, and whether that connection is encrypted.
async fn connect(url: &str) -> Result<bool, String> {
    let database = Database::connect_lazy(&Secret::new(url.to_string()), 1).map_err(|e| e.to_string())?;
    let ssl = sqlx::query_scalar::<_, bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(database.pool())
        .await
        .map_err(|e| e.to_string());
    database.close().await;
    ssl
}

#[tokio::test]
async fn sslmode_and_sslrootcert_are_honoured() {
    // Readable by all: the server's user reaches its cluster and certificates inside.
    let folder = tempfile::Builder::new()
        .prefix("microshop-pgtls-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir()
        .expect("temp dir");
    let dir = folder.path().to_path_buf();
    make_certificates(&dir);
    let port = free_port().expect("port");
    let cluster = LocalCluster::start(&dir.join("pg"), port).expect("cluster starts");
    // The key must belong to the server's user: the cluster directory is chowned to it.
    for file in ["server.crt", "server.key"] {
        std::fs::copy(dir.join(file), dir.join("pg").join(file)).expect("copy");
    }
    if Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n")) {
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.join("pg/server.crt"))
            .arg(dir.join("pg/server.key"))
            .status();
        assert!(status.is_ok_and(|s| s.success()), "chown the key to postgres");
    }
    let admin = Database::connect_lazy(&Secret::new(cluster.admin_url()), 1).expect("admin pool");
    for statement in [
        format!("ALTER SYSTEM SET ssl_cert_file = '{}'", dir.join("pg/server.crt").display()),
        format!("ALTER SYSTEM SET ssl_key_file = '{}'", dir.join("pg/server.key").display()),
        "ALTER SYSTEM SET ssl = on".to_string(),
        "SELECT pg_reload_conf()".to_string(),
    ] {
        sqlx::query(&statement).execute(admin.pool()).await.expect("configure TLS");
    }
    admin.close().await;
    let base = |host: &str| format!("postgres://postgres@{host}:{port}/postgres");
    let ca = dir.join("ca.crt").display().to_string();
    // The reload is a signal: wait until the server speaks TLS.
    let mut up = false;
    for _ in 0..50 {
        if connect(&format!("{}?sslmode=require", base("127.0.0.1"))).await == Ok(true) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cases = [
        (
            "verify-full, our CA, the certificate's name",
            format!("{}?sslmode=verify-full&sslrootcert={ca}", base("localhost")),
            Some(true),
        ),
        (
            "verify-full, our CA, another name",
            format!("{}?sslmode=verify-full&sslrootcert={ca}", base("127.0.0.1")),
            None,
        ),
        // libpq's verify-ca would accept this; sqlx 0.8.6 with rustls >= 0.23.24 still checks the
        // name (transact-rs/sqlx#3793, fixed upstream after 0.8.6): stricter, never weaker.
        ("verify-ca, our CA, another name", format!("{}?sslmode=verify-ca&sslrootcert={ca}", base("127.0.0.1")), None),
        (
            "verify-ca, our CA, the certificate's name",
            format!("{}?sslmode=verify-ca&sslrootcert={ca}", base("localhost")),
            Some(true),
        ),
        ("verify-full without our CA", format!("{}?sslmode=verify-full", base("localhost")), None),
        ("require: encrypted, not verified", format!("{}?sslmode=require", base("127.0.0.1")), Some(true)),
        ("disable: not encrypted", format!("{}?sslmode=disable", base("127.0.0.1")), Some(false)),
    ];
    let mut results = Vec::new();
    for (what, url, _) in &cases {
        results.push((*what, connect(url).await));
    }
    let _ = cluster.stop();
    drop(folder);
    assert!(up, "the server enabled TLS after the reload");
    for ((what, _, expected), (_, got)) in cases.iter().zip(results) {
        match expected {
            Some(ssl) => assert_eq!(got.as_ref().ok(), Some(ssl), "{what}: {got:?}"),
            None => assert!(got.is_err(), "{what}: must be refused, got {got:?}"),
        }
    }
}
