//! `/users/me/addresses`: the caller's saved delivery addresses (customers and staff alike).

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use shopkit::{
    ApiError, FieldErrors,
    address::{Address, RawAddress},
    auth::{BearerAuth, Role},
    problem::Refusal,
};
use uuid::Uuid;

use super::{ApiTags, AppState};
use crate::{
    error::UsersError,
    store::addresses::{self, AddressRow},
};

/// An address to save: the fields of an order's delivery address.
#[derive(Debug, Object)]
pub struct NewAddressBody {
    /// Who receives parcels there, 1-100 characters.
    pub recipient: String,
    /// Street and number, 1-200 characters.
    pub line1: String,
    /// Flat, building, floor: optional, up to 200 characters.
    #[oai(default)]
    pub line2: String,
    /// 1-20 characters.
    pub postal_code: String,
    /// 1-100 characters.
    pub city: String,
    /// ISO 3166-1 alpha-2 code, e.g. `FR`.
    pub country: String,
}

/// A saved address.
#[derive(Debug, Object)]
pub struct SavedAddress {
    pub id: Uuid,
    pub recipient: String,
    pub line1: String,
    pub line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    /// Last saved or used.
    pub last_used_at: DateTime<Utc>,
}

impl From<AddressRow> for SavedAddress {
    fn from(row: AddressRow) -> Self {
        Self {
            id: row.id,
            recipient: row.recipient,
            line1: row.line1,
            line2: row.line2,
            postal_code: row.postal_code,
            city: row.city,
            country: row.country,
            last_used_at: row.last_used_at,
        }
    }
}

/// The caller's addresses.
#[derive(Debug, Object)]
pub struct AddressList {
    /// Most recently used first; at most ten.
    pub items: Vec<SavedAddress>,
}

/// Response of the address list.
#[derive(ApiResponse)]
pub enum AddressListResponse {
    /// The addresses (possibly none).
    #[oai(status = 200)]
    Ok(Json<AddressList>),
}

/// Response of saving an address.
#[derive(ApiResponse)]
pub enum SaveAddressResponse {
    /// Saved (or, already saved, marked as just used).
    #[oai(status = 200)]
    Ok(Json<SavedAddress>),
}

/// Response of forgetting an address.
#[derive(ApiResponse)]
pub enum DeleteAddressResponse {
    /// Forgotten.
    #[oai(status = 204)]
    Deleted,
}

shopkit::statuses!(
    /// `listMyAddresses`: a service token.
    ListAddressesErrors = [403]
);
shopkit::statuses!(
    /// `saveMyAddress`: a service token, invalid fields.
    SaveAddressErrors = [403, 422]
);
shopkit::statuses!(
    /// `deleteMyAddress`: a service token, no such address of the caller's.
    DeleteAddressErrors = [403, 404]
);

/// Address operations.
pub struct AddressesApi;

/// The account id of a shopper's or staff member's token (a service has no addresses).
fn account(auth: &BearerAuth) -> Result<Uuid, ApiError> {
    auth.0.require(&[Role::Customer, Role::Admin])?;
    auth.0.user_id()
}

#[OpenApi(tag = "ApiTags::Users")]
impl AddressesApi {
    /// The caller's saved delivery addresses, most recently used first.
    #[oai(path = "/users/me/addresses", method = "get", operation_id = "listMyAddresses")]
    async fn list(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
    ) -> Result<AddressListResponse, Refusal<ListAddressesErrors>> {
        let user_id = account(&auth)?;
        let mut conn = state.pool.acquire().await?;
        let items = addresses::list(&mut conn, user_id).await?.into_iter().map(SavedAddress::from).collect();
        Ok(AddressListResponse::Ok(Json(AddressList { items })))
    }

    /// Save a delivery address (the storefront does at each checkout). Saving one already saved
    /// marks it used; an account keeps its ten most recently used.
    #[oai(path = "/users/me/addresses", method = "post", operation_id = "saveMyAddress")]
    async fn save(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        body: Json<NewAddressBody>,
    ) -> Result<SaveAddressResponse, Refusal<SaveAddressErrors>> {
        let user_id = account(&auth)?;
        let raw = RawAddress {
            recipient: &body.recipient,
            line1: &body.line1,
            line2: &body.line2,
            postal_code: &body.postal_code,
            city: &body.city,
            country: &body.country,
        };
        let mut errors = FieldErrors::default();
        let Some(address) = Address::parse(&raw, "", &mut errors) else {
            return Err(UsersError::Invalid(errors).into());
        };
        let mut conn = state.pool.acquire().await?;
        let saved = addresses::save(&mut conn, user_id, &address).await?;
        Ok(SaveAddressResponse::Ok(Json(saved.into())))
    }

    /// Forget one of the caller's addresses.
    #[oai(path = "/users/me/addresses/:id", method = "delete", operation_id = "deleteMyAddress")]
    async fn delete(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<DeleteAddressResponse, Refusal<DeleteAddressErrors>> {
        let user_id = account(&auth)?;
        let mut conn = state.pool.acquire().await?;
        if addresses::delete(&mut conn, user_id, id.0).await? {
            Ok(DeleteAddressResponse::Deleted)
        } else {
            Err(UsersError::NotFound.into())
        }
    }
}
