//! `/emails`: the latest e-mails sent, for staff and for checking a dev setup.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, payload::Json};
use shopkit::{
    auth::{BearerAuth, Role},
    problem::Refusal,
};
use uuid::Uuid;

use crate::store;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub pool: sqlx::PgPool,
}

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// E-mails sent to customers.
    Emails,
}

/// An e-mail sent for an order event.
#[derive(Debug, Object)]
pub struct SentEmail {
    /// The event it answered (one e-mail per event at most).
    pub event_id: Uuid,
    pub order_id: Uuid,
    /// `OrderPaid`, `OrderShipped` or `OrderCancelled`.
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

/// The latest e-mails.
#[derive(Debug, Object)]
pub struct EmailList {
    /// Newest first, at most 50.
    pub items: Vec<SentEmail>,
}

/// Response of the e-mail list.
#[derive(ApiResponse)]
pub enum EmailListResponse {
    /// The e-mails.
    #[oai(status = 200)]
    Ok(Json<EmailList>),
}

shopkit::statuses!(
    /// `listEmails`: not an admin.
    ListEmailsErrors = [403]
);

/// E-mail operations.
pub struct EmailsApi;

#[OpenApi(tag = "ApiTags::Emails")]
impl EmailsApi {
    /// The latest e-mails sent to customers (admin).
    #[oai(path = "/emails", method = "get", operation_id = "listEmails")]
    async fn list(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
    ) -> Result<EmailListResponse, Refusal<ListEmailsErrors>> {
        auth.0.require(&[Role::Admin])?;
        let mut conn = state.pool.acquire().await?;
        let items = store::recent(&mut conn, 50)
            .await?
            .into_iter()
            .filter_map(|r| {
                Some(SentEmail {
                    event_id: r.event_id,
                    order_id: r.order_id,
                    kind: r.kind,
                    recipient: r.recipient?,
                    subject: r.subject?,
                    body: r.body?,
                    sent_at: r.handled_at,
                })
            })
            .collect();
        Ok(EmailListResponse::Ok(Json(EmailList { items })))
    }
}
