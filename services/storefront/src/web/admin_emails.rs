//! `GET /admin/emails`: the latest e-mails the notifications service sent to customers, so
//! staff can see what a customer was told (and a developer that the event bus works). The
//! list comes from notifications with the admin's own token.

use askama::Template;
use chrono::{DateTime, Utc};
use poem::{Response, handler, web::Data};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    AppState,
    orders::short_id,
    page::{Layout, PageError, render, require_admin},
    session::Session,
};

/// One e-mail as notifications lists it.
#[derive(Debug, Deserialize)]
struct SentEmail {
    order_id: Uuid,
    recipient: String,
    subject: String,
    body: String,
    sent_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct EmailList {
    items: Vec<SentEmail>,
}

/// An e-mail as the page shows it.
struct EmailView {
    order_id: Uuid,
    order_number: String,
    recipient: String,
    subject: String,
    body: String,
    sent: String,
}

#[derive(Template)]
#[template(path = "admin/emails.html")]
struct EmailsPage {
    page: Layout,
    /// `None`: this storefront has no notifications service configured.
    emails: Option<Vec<EmailView>>,
}

/// `GET /admin/emails`.
#[handler]
pub async fn emails(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    let admin = require_admin(session, "/admin/emails")?;
    let backends = state.backends.as_user(&admin.token);
    let emails = match &backends.notifications {
        None => None,
        Some(client) => {
            let list: EmailList = client.get("/emails").await?;
            Some(
                list.items
                    .into_iter()
                    .map(|e| EmailView {
                        order_id: e.order_id,
                        order_number: short_id(e.order_id),
                        recipient: e.recipient,
                        subject: e.subject,
                        body: e.body,
                        sent: e.sent_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    })
                    .collect(),
            )
        }
    };
    render(&EmailsPage { page: Layout::new(state, session, "E-mails").await?, emails })
}
