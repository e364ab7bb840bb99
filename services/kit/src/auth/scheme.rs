//! The `bearer` security scheme: a poem-openapi extractor that verifies the token.

use std::sync::Arc;

use poem::{Request, http::StatusCode};
use poem_openapi::{SecurityScheme, auth::Bearer};
use uuid::Uuid;

use super::{Role, TokenVerifier};
use crate::problem::ApiError;

/// The authenticated caller, as proven by a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// The token's `sub`: a user id, or a service's client id.
    pub subject: String,
    /// The token's role.
    pub role: Role,
}

impl AuthUser {
    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Ok when the caller's role is one of `allowed`, else 403.
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this operation is not allowed for the `{}` role", self.role.as_str())))
        }
    }

    /// The caller's user id; services have none, and a non-UUID subject is refused (401)
    /// since our issuer never produces one for a person.
    pub fn user_id(&self) -> Result<Uuid, ApiError> {
        match self.role {
            Role::Service => Err(ApiError::forbidden("a service token does not identify a user")),
            _ => {
                Uuid::parse_str(&self.subject).map_err(|_| ApiError::unauthorized("the token subject is not a user id"))
            }
        }
    }
}

/// JWT bearer authentication. Every protected operation takes this argument; the spec shows
/// the scheme, and a missing or invalid token is answered 401 before the handler runs.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "verify_bearer")]
pub struct BearerAuth(pub AuthUser);

/// Checks the token against the [`TokenVerifier`] the server attached to the request.
async fn verify_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthUser> {
    let Some(verifier) = req.data::<Arc<TokenVerifier>>() else {
        // A wiring bug, not the client's fault: fail closed, loudly.
        tracing::error!("no TokenVerifier attached to the request; refusing authentication");
        return Err(poem::Error::from_string("authentication is not configured", StatusCode::INTERNAL_SERVER_ERROR));
    };
    match verifier.verify(&bearer.token) {
        Ok(claims) => Ok(AuthUser { subject: claims.sub, role: claims.role }),
        Err(err) => {
            tracing::debug!(error = %err, "bearer token rejected");
            Err(poem::Error::from_string("the bearer token is invalid or expired", StatusCode::UNAUTHORIZED))
        }
    }
}
