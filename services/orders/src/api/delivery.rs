//! `/delivery/options`: where the shop delivers, how, and at what price, for the checkout form.

use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Query, payload::Json};
use shopkit::{FieldErrors, problem::Refusal};

use super::{
    ApiTags,
    wire::{CountryOption, DeliveryOptions, MethodOption},
};
use crate::{error::OrdersError, saga::Orders, store::deliveries};

/// Response of the delivery options.
#[derive(ApiResponse)]
pub enum OptionsResponse {
    /// The countries and methods (none when the shop ships nothing in that currency).
    #[oai(status = 200)]
    Ok(Json<DeliveryOptions>),
}

shopkit::statuses!(
    /// `getDeliveryOptions`: a currency that is not three capital letters.
    OptionsErrors = [422]
);

/// Delivery operations.
pub struct DeliveryApi;

#[OpenApi(tag = "ApiTags::Delivery")]
impl DeliveryApi {
    /// Every country the shop delivers to for orders in `currency`, with each method's price
    /// and delivery time, and the country's VAT rate. Public: the checkout shows it before an
    /// order exists. An order's own shipping is priced when it is placed (free from
    /// `free_from` of items).
    #[oai(path = "/delivery/options", method = "get", operation_id = "getDeliveryOptions")]
    async fn options(
        &self,
        orders: Data<&Orders>,
        /// ISO 4217 code of the order's prices, e.g. `EUR`.
        currency: Query<String>,
    ) -> Result<OptionsResponse, Refusal<OptionsErrors>> {
        let currency = currency.0;
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            let mut errors = FieldErrors::default();
            errors.add("currency", "must be an ISO 4217 code in capitals, e.g. EUR");
            return Err(OrdersError::from(errors).into());
        }
        let mut conn = orders.pool.acquire().await.map_err(OrdersError::from)?;
        let rows = deliveries::options(&mut conn, &currency).await.map_err(OrdersError::from)?;
        let mut countries: Vec<CountryOption> = Vec::new();
        for row in rows {
            let method = MethodOption {
                method: row.method,
                price: row.price_minor,
                free_from: row.free_from_minor,
                days_min: row.days_min,
                days_max: row.days_max,
            };
            match countries.last_mut() {
                Some(last) if last.country == row.country => last.methods.push(method),
                _ => countries.push(CountryOption {
                    country: row.country,
                    name: row.country_name,
                    vat_rate_basis_points: row.vat_basis_points,
                    methods: vec![method],
                }),
            }
        }
        Ok(OptionsResponse::Ok(Json(DeliveryOptions { countries })))
    }
}
