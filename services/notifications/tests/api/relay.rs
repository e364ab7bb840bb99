//! The way out through a relay as providers run them: TLS (STARTTLS or from the first byte),
//! the certificate checked, a login required. Real aiosmtpd servers, real TLS.

use notifications::{
    config::{DEFAULT_FROM, Smtp, SmtpLogin, SmtpTls},
    email::Email,
    mailer::Mailer,
};
use shopkit::{
    config::Secret,
    smtp_catcher::{Secured, SmtpCatcher},
};
use uuid::Uuid;

const USER: &str = "shop-mailer";
const PASSWORD: &str = "relay password 42";

fn smtp(catcher: &SmtpCatcher, tls: SmtpTls, password: &str, trust_its_authority: bool) -> Smtp {
    Smtp {
        host: catcher.host.clone(),
        port: catcher.port,
        from: DEFAULT_FROM.into(),
        tls,
        login: Some(SmtpLogin { username: USER.into(), password: Secret::new(password.into()) }),
        ca_file: if trust_its_authority { catcher.ca_file.clone() } else { None },
    }
}

fn email() -> Email {
    Email { to: "ada@example.com".into(), subject: "Order #1234-5678 confirmed".into(), body: "Thank you.\n".into() }
}

#[tokio::test]
async fn mail_goes_out_over_starttls_and_over_tls_with_a_login() {
    for (mode, tls) in [(Secured::StartTls, SmtpTls::StartTls), (Secured::Tls, SmtpTls::Tls)] {
        let catcher = SmtpCatcher::start_secured(mode, USER, PASSWORD).await;
        let mailer = Mailer::new(&smtp(&catcher, tls, PASSWORD, true)).expect("mailer");
        let event = Uuid::now_v7();
        mailer.send(event, &email()).await.unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let mail = catcher.messages();
        assert_eq!(mail.len(), 1, "{mode:?}");
        assert_eq!(mail[0].header("message-id"), Some(format!("<{event}@microshop.local>").as_str()));
        assert_eq!(mail[0].header("subject"), Some("Order #1234-5678 confirmed"));
    }
}

#[tokio::test]
async fn a_wrong_password_an_unknown_authority_or_a_relay_without_tls_send_nothing() {
    let catcher = SmtpCatcher::start_secured(Secured::StartTls, USER, PASSWORD).await;
    let wrong = Mailer::new(&smtp(&catcher, SmtpTls::StartTls, "guessed", true)).expect("mailer");
    let refused = wrong.send(Uuid::now_v7(), &email()).await.expect_err("a wrong password is refused");
    assert!(refused.contains("535") || refused.to_lowercase().contains("auth"), "{refused}");

    // Only the system's authorities: the throw-away one that signed the relay's certificate is
    // not among them, so the connection stops before the login is sent.
    let untrusted = Mailer::new(&smtp(&catcher, SmtpTls::StartTls, PASSWORD, false)).expect("mailer");
    let refused = untrusted.send(Uuid::now_v7(), &email()).await.expect_err("an unknown authority is refused");
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    assert!(catcher.messages().is_empty());

    // A relay that offers no STARTTLS (an attacker in the middle may strip it) is not spoken to
    // in clear when STARTTLS is required.
    let plain = SmtpCatcher::start().await;
    let stripped = Mailer::new(&smtp(&plain, SmtpTls::StartTls, PASSWORD, false)).expect("mailer");
    stripped.send(Uuid::now_v7(), &email()).await.expect_err("no STARTTLS, no mail");
    assert!(plain.messages().is_empty());
}
