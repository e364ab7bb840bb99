//! The way out to the SMTP relay, set up once at start-up: the connection's protection
//! (`SMTP_TLS`), the login, the sender. A relay a real shop sends through (a provider's
//! submission port, the company's Postfix) wants TLS and a login; a local catcher wants neither.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use uuid::Uuid;

use crate::{
    config::{Smtp, SmtpTls},
    email::Email,
};

/// How long one e-mail may take, connection included. lettre bounds only the connection
/// attempt; a relay that stops answering mid-dialogue would otherwise hold the consumer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the mailer cannot be set up (the service does not start).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("MAIL_FROM is not a mailbox: {0}")]
    From(String),
    #[error("SMTP_CA_FILE {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("TLS towards {host}: {reason}")]
    Tls { host: String, reason: String },
}

/// Sends e-mails through the relay. Cheap to clone: clones share the transport.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The transport for `smtp`. With TLS, the relay's certificate must chain to the system's
    /// roots or to `SMTP_CA_FILE`, and carry the host name the service connects to.
    pub fn new(smtp: &Smtp) -> Result<Self, SetupError> {
        let from = smtp.from.parse().map_err(|e: lettre::address::AddressError| SetupError::From(e.to_string()))?;
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str()).port(smtp.port);
        let builder = match smtp.tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => builder.tls(Tls::Required(tls_parameters(smtp)?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(tls_parameters(smtp)?)),
        };
        let builder = match &smtp.login {
            Some(login) => {
                builder.credentials(Credentials::new(login.username.clone(), login.password.expose().clone()))
            }
            None => builder,
        };
        Ok(Self { transport: builder.build(), from })
    }

    /// Sends `email`. Its Message-ID is derived from the event, so a copy sent again after a
    /// crash between sending and recording is recognisable as the same message.
    pub async fn send(&self, event_id: Uuid, email: &Email) -> Result<(), String> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{event_id}@microshop.local>")))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Ok(sent) => sent.map(drop).map_err(|e| e.to_string()),
            Err(_) => Err(format!("the relay did not answer within {} s", SEND_TIMEOUT.as_secs())),
        }
    }
}

/// Certificate checks against the system's roots, plus the PEM file `SMTP_CA_FILE` names (a
/// relay signed by the company's own authority).
fn tls_parameters(smtp: &Smtp) -> Result<TlsParameters, SetupError> {
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(path) = &smtp.ca_file {
        let bad = |reason: String| SetupError::CaFile { path: path.display().to_string(), reason };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| SetupError::Tls { host: smtp.host.clone(), reason: e.to_string() })
}
