//! `/payments`: charge a card, read payments, refund.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use shopkit::{
    FieldErrors,
    auth::{BearerAuth, Role},
    problem::Refusal,
    types::{Currency, IdempotencyKey},
};
use shopwire::ChargeBody;
use uuid::Uuid;

use super::{ApiTags, AppState};
use crate::{
    domain::{
        card::{RawCard, parse_card},
        charge::{AMOUNT_RULE, PaymentStatus, network_decision},
    },
    error::PaymentsError,
    simulation,
    store::payments::{self, NewPayment, PaymentRow},
};

/// Where a payment stands.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum PaymentState {
    /// The card was charged the amount.
    Succeeded,
    /// Refused by the card network; nothing was taken.
    Declined,
    /// Charged, then given back in full.
    Refunded,
}

/// A payment.
#[derive(Debug, Object)]
pub struct Payment {
    pub id: Uuid,
    pub order_id: Uuid,
    /// Amount in minor units.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub status: PaymentState,
    /// Why the card was declined: `card_declined`, `insufficient_funds` or `expired_card`.
    #[oai(nullable)]
    pub decline_code: Option<String>,
    /// Recognised from the number: `visa`, `mastercard`, `amex` or `unknown`.
    pub card_brand: String,
    /// The only digits of the card number that are kept.
    pub card_last4: String,
    pub created_at: DateTime<Utc>,
    /// Null unless the payment was refunded.
    #[oai(nullable)]
    pub refunded_at: Option<DateTime<Utc>>,
}

impl From<PaymentRow> for Payment {
    fn from(row: PaymentRow) -> Self {
        let status = match PaymentStatus::from_db(&row.status) {
            Some(PaymentStatus::Succeeded) => PaymentState::Succeeded,
            Some(PaymentStatus::Refunded) => PaymentState::Refunded,
            _ => PaymentState::Declined,
        };
        Self {
            id: row.id,
            order_id: row.order_id,
            amount: row.amount_minor,
            currency: row.currency,
            status,
            decline_code: row.decline_code,
            card_brand: row.card_brand,
            card_last4: row.card_last4,
            created_at: row.created_at,
            refunded_at: row.refunded_at,
        }
    }
}

/// Response of a charge.
#[derive(ApiResponse)]
pub enum ChargeResponse {
    /// The payment was processed: look at `status` (`succeeded` or `declined`).
    #[oai(status = 201)]
    Created(Json<Payment>),
    /// A replay of an earlier request with the same `Idempotency-Key`: its first result.
    #[oai(status = 200)]
    Replayed(Json<Payment>),
}

/// Response of reads and refunds.
#[derive(ApiResponse)]
pub enum PaymentResponse {
    /// The payment.
    #[oai(status = 200)]
    Ok(Json<Payment>),
}

/// Response of the list.
#[derive(ApiResponse)]
pub enum PaymentListResponse {
    /// The payments of the order, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<Payment>>),
}

shopkit::statuses!(
    /// `createPayment`: not a service or admin, an invalid card or amount, a reused key.
    ChargeErrors = [403, 422]
);
shopkit::statuses!(
    /// `getPayment`: not a service or admin, no such payment.
    GetPaymentErrors = [403, 404]
);
shopkit::statuses!(
    /// `listPayments`: not a service or admin.
    ListPaymentsErrors = [403]
);
shopkit::statuses!(
    /// `refundPayment`: not a service or admin, no such payment, a declined payment.
    RefundErrors = [403, 404, 409]
);

/// Payment operations.
pub struct PaymentsApi;

#[OpenApi(tag = "ApiTags::Payments")]
impl PaymentsApi {
    /// Charge a card (service or admin). `Idempotency-Key` is required: a replay returns the
    /// first result and never charges twice; the same key with another request is 422.
    #[oai(path = "/payments", method = "post", operation_id = "createPayment")]
    async fn charge(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        /// A unique key per payment attempt, e.g. a UUID.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: Json<ChargeBody>,
    ) -> Result<ChargeResponse, Refusal<ChargeErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let body = body.0;
        let key = idempotency_key.0;
        let mut errors = FieldErrors::default();
        errors.check("amount", AMOUNT_RULE.check(body.amount));
        let currency = errors.check("currency", Currency::parse(&body.currency));
        let raw = RawCard {
            number: &body.card.number,
            exp_month: body.card.exp_month,
            exp_year: body.card.exp_year,
            cvc: &body.card.cvc,
        };
        let card = match parse_card(raw, Utc::now().date_naive()) {
            Ok(card) => Some(card),
            Err(card_errors) => {
                for e in card_errors.into_vec() {
                    errors.add(e.field, e.message);
                }
                None
            }
        };
        let (Some(currency), Some(card), true) = (currency, card, errors.is_empty()) else {
            return Err(errors.into());
        };
        let currency = currency.as_str();
        let request_hash = simulation::request_hash(&[
            &body.order_id.to_string(),
            &body.amount.to_string(),
            currency,
            card.brand.as_str(),
            card.last4(),
            &body.card.exp_month.to_string(),
            &body.card.exp_year.to_string(),
        ]);
        let mut conn = state.pool.acquire().await?;
        if let Some(existing) = payments::find_by_key(&mut conn, key.as_str(), &request_hash).await? {
            tracing::info!(payment_id = %existing.id, "idempotent replay");
            return Ok(ChargeResponse::Replayed(Json(existing.into())));
        }
        simulation::process(&state.simulation, &state.faults)
            .await
            .map_err(|_: simulation::ProcessorError| PaymentsError::ProcessorUnavailable)?;
        let decision = network_decision(&card);
        let row = payments::insert(
            &mut conn,
            &NewPayment {
                idempotency_key: key.as_str(),
                request_hash: &request_hash,
                order_id: body.order_id,
                amount_minor: body.amount,
                currency,
                status: if decision.is_ok() { PaymentStatus::Succeeded } else { PaymentStatus::Declined },
                decline_code: decision.err().map(|d| d.as_str()),
                card_brand: card.brand.as_str(),
                card_last4: card.last4(),
            },
        )
        .await?;
        tracing::info!(payment_id = %row.id, order_id = %row.order_id, status = %row.status, "charge processed");
        if let Some(code) = &row.decline_code {
            shopkit::metrics::business::count_with_reason(&shopkit::metrics::business::PAYMENTS_DECLINED, code);
        }
        Ok(ChargeResponse::Created(Json(row.into())))
    }

    /// A payment (service or admin).
    #[oai(path = "/payments/:id", method = "get", operation_id = "getPayment")]
    async fn get(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<PaymentResponse, Refusal<GetPaymentErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let mut conn = state.pool.acquire().await?;
        Ok(PaymentResponse::Ok(Json(payments::get(&mut conn, id.0).await?.into())))
    }

    /// The payments of an order (service or admin).
    #[oai(path = "/payments", method = "get", operation_id = "listPayments")]
    async fn list(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        order_id: Query<Uuid>,
    ) -> Result<PaymentListResponse, Refusal<ListPaymentsErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let mut conn = state.pool.acquire().await?;
        let rows = payments::list_for_order(&mut conn, order_id.0).await?;
        Ok(PaymentListResponse::Ok(Json(rows.into_iter().map(Payment::from).collect())))
    }

    /// Refund a succeeded payment in full (service or admin). Refunding again returns the
    /// refunded payment unchanged; a declined payment cannot be refunded (409).
    #[oai(path = "/payments/:id/refund", method = "post", operation_id = "refundPayment")]
    async fn refund(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<PaymentResponse, Refusal<RefundErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let mut tx = state.pool.begin().await?;
        let row = payments::refund(&mut tx, id.0).await?;
        tx.commit().await?;
        tracing::info!(payment_id = %row.id, "refund processed");
        Ok(PaymentResponse::Ok(Json(row.into())))
    }
}
