//! `/orders`: place, read, list, change, pay, cancel, delete.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use shopkit::{FieldErrors, auth::BearerAuth, problem::Refusal, types::IdempotencyKey};
use uuid::Uuid;

use super::{
    ApiTags,
    wire::{ItemBody, NewOrderBody, Order, OrderPage, OrderPatchBody, PayBody, Status, TargetStatus, delivery_request},
};
use crate::{
    domain::{listing::ListRequest, status::OrderEvent},
    error::OrdersError,
    saga::{Orders, create::Placed},
};

/// Response of `POST /orders`.
#[derive(ApiResponse)]
pub enum PlaceResponse {
    /// The order was placed (or, for a replayed `Idempotency-Key`, had been placed): `pending`.
    #[oai(status = 201)]
    Created(Json<Order>, #[oai(header = "Location")] String),
}

/// Response of reads and changes of one order.
#[derive(ApiResponse)]
pub enum OrderResponse {
    /// The order.
    #[oai(status = 200)]
    Ok(Json<Order>),
}

/// Response of the list.
#[derive(ApiResponse)]
pub enum ListResponse {
    /// A page of orders.
    #[oai(status = 200)]
    Ok(Json<OrderPage>),
}

/// Response of delete.
#[derive(ApiResponse)]
pub enum DeleteResponse {
    /// The order is gone.
    #[oai(status = 204)]
    Deleted,
}

fn raw_items(items: &[ItemBody]) -> Vec<(Uuid, i64)> {
    items.iter().map(|i| (i.product_id, i.quantity)).collect()
}

shopkit::statuses!(
    /// `placeOrder`: the account is gone, ordering for someone else, a shortage, invalid or unknown items.
    PlaceErrors = [401, 403, 409, 422]
);
shopkit::statuses!(
    /// `getOrder`: no such order visible to the caller.
    GetOrderErrors = [404]
);
shopkit::statuses!(
    /// `listOrders`: a customer asking for another's orders, invalid filters or cursor.
    ListErrors = [403, 422]
);
shopkit::statuses!(
    /// `updateOrder`: not an admin for a status change, no such order, an illegal move or a shortage, invalid items.
    UpdateOrderErrors = [403, 404, 409, 422]
);
shopkit::statuses!(
    /// `payOrder`: the card was declined, no such order, not payable now or another payment in flight, invalid card or a reused key.
    PayErrors = [402, 404, 409, 422]
);
shopkit::statuses!(
    /// `cancelOrder`: no such order, not cancellable now.
    CancelErrors = [404, 409]
);
shopkit::statuses!(
    /// `deleteOrder`: no such order, a paid order.
    DeleteOrderErrors = [404, 409]
);

/// Order operations.
pub struct OrdersApi;

#[OpenApi(tag = "ApiTags::Orders")]
impl OrdersApi {
    /// Place an order: checks the customer, reserves every item's stock (all or nothing) and
    /// snapshots names and prices. With an `Idempotency-Key`, a retry returns the same order.
    #[oai(path = "/orders", method = "post", operation_id = "placeOrder")]
    async fn place(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        /// Makes retries safe: the same key and body return the first result.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<IdempotencyKey>>,
        body: Json<NewOrderBody>,
    ) -> Result<PlaceResponse, Refusal<PlaceErrors>> {
        let key = idempotency_key.0.as_ref().map(IdempotencyKey::as_str);
        let delivery = body.delivery.as_ref().map(delivery_request).transpose().map_err(OrdersError::from)?;
        let placed = orders.place(&auth.0, body.user_id, &raw_items(&body.items), delivery, key).await?;
        let order = match placed {
            Placed::New(o) | Placed::Replayed(o) => Order::from(o),
        };
        let location = format!("/orders/{}", order.id);
        Ok(PlaceResponse::Created(Json(order), location))
    }

    /// An order (its owner or an admin; anyone else gets 404).
    #[oai(path = "/orders/:id", method = "get", operation_id = "getOrder")]
    async fn get(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        id: Path<Uuid>,
    ) -> Result<OrderResponse, Refusal<GetOrderErrors>> {
        let order = orders.get(&auth.0, id.0).await?;
        Ok(OrderResponse::Ok(Json(order.into())))
    }

    /// The caller's orders, newest first; admins see everyone's and may filter by user.
    #[oai(path = "/orders", method = "get", operation_id = "listOrders")]
    // poem-openapi takes each query parameter as an argument: the list has six.
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        /// Admins: only this customer's orders.
        user_id: Query<Option<Uuid>>,
        /// Only orders in this status.
        status: Query<Option<Status>>,
        /// Only the order with this number: the last eight hex digits of its id, as pages show
        /// it (`1A2B3C4D`, any case).
        number: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// A numbered page (from 1) instead of a cursor: the answer carries `total` and no
        /// `next_cursor`. For staff screens; walking every order is a cursor's job.
        page: Query<Option<u32>>,
        /// Page size, 1-100 (default 20).
        limit: Query<Option<u32>>,
    ) -> Result<ListResponse, Refusal<ListErrors>> {
        let request = ListRequest {
            status: status.0.map(Into::into),
            number: number.0.as_deref(),
            cursor: cursor.0.as_deref(),
            page: page.0,
            limit: limit.0,
        };
        let page = orders.list(&auth.0, user_id.0, request).await?;
        let items = page.orders.into_iter().map(Order::from).collect();
        let next_cursor = page.next.map(|c| c.encode());
        Ok(ListResponse::Ok(Json(OrderPage { items, next_cursor, total: page.total })))
    }

    /// Change a pending order's items (the reservation is adjusted all or nothing), or move a
    /// paid order to `shipped` and a shipped one to `delivered` (admin). Illegal moves: 409.
    #[oai(path = "/orders/:id", method = "patch", operation_id = "updateOrder")]
    async fn update(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        id: Path<Uuid>,
        body: Json<OrderPatchBody>,
    ) -> Result<OrderResponse, Refusal<UpdateOrderErrors>> {
        let order = match (&body.items, body.status) {
            (Some(items), None) => orders.edit_items(&auth.0, id.0, &raw_items(items)).await?,
            (None, Some(target)) => {
                let event = match target {
                    TargetStatus::Shipped => OrderEvent::Ship,
                    TargetStatus::Delivered => OrderEvent::Deliver,
                };
                orders.advance(&auth.0, id.0, event).await?
            }
            _ => {
                let mut errors = FieldErrors::default();
                errors.add("items", "give either `items` or `status`, not both or neither");
                return Err(OrdersError::from(errors).into());
            }
        };
        Ok(OrderResponse::Ok(Json(order.into())))
    }

    /// Pay a pending order by card. A decline answers 402 with the reason and the order stays
    /// pending (pay again with a new `Idempotency-Key`). The same key never charges twice.
    #[oai(path = "/orders/:id/pay", method = "post", operation_id = "payOrder")]
    async fn pay(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        id: Path<Uuid>,
        /// One key per payment attempt; a retry with the same key returns the same outcome.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: Json<PayBody>,
    ) -> Result<OrderResponse, Refusal<PayErrors>> {
        let order = orders.pay(&auth.0, id.0, &body.0.card, &idempotency_key.0).await?;
        Ok(OrderResponse::Ok(Json(order.into())))
    }

    /// Cancel a pending order (its stock is released) or a paid one (refunded, then released).
    #[oai(path = "/orders/:id/cancel", method = "post", operation_id = "cancelOrder")]
    async fn cancel(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        id: Path<Uuid>,
    ) -> Result<OrderResponse, Refusal<CancelErrors>> {
        Ok(OrderResponse::Ok(Json(orders.cancel(&auth.0, id.0).await?.into())))
    }

    /// Delete a pending (its stock is released first) or cancelled order. A paid order cannot
    /// be deleted: cancel it first (409).
    #[oai(path = "/orders/:id", method = "delete", operation_id = "deleteOrder")]
    async fn delete(
        &self,
        auth: BearerAuth,
        orders: Data<&Orders>,
        id: Path<Uuid>,
    ) -> Result<DeleteResponse, Refusal<DeleteOrderErrors>> {
        orders.delete(&auth.0, id.0).await?;
        Ok(DeleteResponse::Deleted)
    }
}
