//! `/reservations/{order_id}`: stock held for an order, all or nothing.

use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};
use shopkit::{
    auth::{BearerAuth, Role},
    problem::Refusal,
};
use uuid::Uuid;

use super::{ApiTags, AppState};
use crate::{
    domain::reservation::ReservationLines,
    store::reservations::{self, ReservationStatus},
};

/// One product and how many units of it to hold.
#[derive(Debug, Object)]
pub struct ReservationLineBody {
    pub product_id: Uuid,
    /// Units to hold, 1-10000.
    pub quantity: i64,
}

/// The complete set of lines the order should hold.
#[derive(Debug, Object)]
pub struct ReservationBody {
    /// Each product at most once.
    pub lines: Vec<ReservationLineBody>,
}

/// Whether a reservation holds stock.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ReservationState {
    /// Holds its lines' units.
    Active,
    /// Gave its units back; it cannot hold stock again.
    Released,
}

/// A held line, with the product's current name and price for the order's snapshot.
#[derive(Debug, Object)]
pub struct ReservedLine {
    pub product_id: Uuid,
    pub quantity: i32,
    /// Product name at the time of the call.
    pub name: String,
    /// Unit price at the time of the call, minor units.
    pub unit_price: i64,
    /// ISO 4217 code of `unit_price`.
    pub currency: String,
}

/// The stock an order holds.
#[derive(Debug, Object)]
pub struct Reservation {
    pub order_id: Uuid,
    pub status: ReservationState,
    /// Held lines (empty once released).
    pub lines: Vec<ReservedLine>,
}

impl From<reservations::Reservation> for Reservation {
    fn from(r: reservations::Reservation) -> Self {
        Self {
            order_id: r.order_id,
            status: match r.status {
                ReservationStatus::Active => ReservationState::Active,
                ReservationStatus::Released => ReservationState::Released,
            },
            lines: r
                .lines
                .into_iter()
                .map(|l| ReservedLine {
                    product_id: l.product_id,
                    quantity: l.quantity,
                    name: l.name,
                    unit_price: l.price_minor,
                    currency: l.currency,
                })
                .collect(),
        }
    }
}

/// Response of reserve and get.
#[derive(ApiResponse)]
pub enum ReservationResponse {
    /// The reservation as it now stands.
    #[oai(status = 200)]
    Ok(Json<Reservation>),
}

/// Response of release.
#[derive(ApiResponse)]
pub enum ReleaseResponse {
    /// Every unit is back on sale (or was never held).
    #[oai(status = 204)]
    Released,
}

shopkit::statuses!(
    /// `reserveStock`: not a service or admin, a shortage or a released reservation, invalid or unknown lines.
    ReserveErrors = [403, 409, 422]
);
shopkit::statuses!(
    /// `releaseStock`: not a service or admin.
    ReleaseErrors = [403]
);
shopkit::statuses!(
    /// `getReservation`: not a service or admin, no reservation.
    GetReservationErrors = [403, 404]
);

/// Stock reservation operations.
pub struct ReservationsApi;

#[OpenApi(tag = "ApiTags::Reservations")]
impl ReservationsApi {
    /// Make the order hold exactly these lines (service or admin). Creates the reservation or
    /// adjusts it; all or nothing: on a shortage (409) or unknown product (422) no unit moves.
    /// Repeating the same call changes nothing.
    #[oai(path = "/reservations/:order_id", method = "put", operation_id = "reserveStock")]
    async fn reserve(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        order_id: Path<Uuid>,
        body: Json<ReservationBody>,
    ) -> Result<ReservationResponse, Refusal<ReserveErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let requested: Vec<(Uuid, i64)> = body.0.lines.iter().map(|l| (l.product_id, l.quantity)).collect();
        let lines = ReservationLines::parse(&requested)?;
        let line_index = |id: Uuid| requested.iter().position(|(p, _)| *p == id);
        let reservation = state
            .primary
            .lend(async |conn| {
                let mut tx = sqlx::Connection::begin(conn).await?;
                let reservation = reservations::reserve(&mut tx, order_id.0, &lines).await?;
                tx.commit().await?;
                Ok::<_, crate::error::ProductsError>(reservation)
            })
            .await
            .map_err(|err| err.into_api_error(line_index))?;
        tracing::info!(order_id = %order_id.0, lines = reservation.lines.len(), "stock reserved");
        Ok(ReservationResponse::Ok(Json(reservation.into())))
    }

    /// Give back every unit the order holds (service or admin). Idempotent; releasing an
    /// order that never reserved blocks any later reservation for it.
    #[oai(path = "/reservations/:order_id", method = "delete", operation_id = "releaseStock")]
    async fn release(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        order_id: Path<Uuid>,
    ) -> Result<ReleaseResponse, Refusal<ReleaseErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let mut tx = state.pool.begin().await?;
        reservations::release(&mut tx, order_id.0).await?;
        tx.commit().await?;
        tracing::info!(order_id = %order_id.0, "stock released");
        Ok(ReleaseResponse::Released)
    }

    /// The stock an order holds (service or admin).
    #[oai(path = "/reservations/:order_id", method = "get", operation_id = "getReservation")]
    async fn get(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        order_id: Path<Uuid>,
    ) -> Result<ReservationResponse, Refusal<GetReservationErrors>> {
        auth.0.require(&[Role::Service, Role::Admin])?;
        let mut conn = state.pool.acquire().await?;
        let reservation = reservations::get(&mut conn, order_id.0).await?;
        Ok(ReservationResponse::Ok(Json(reservation.into())))
    }
}
