//! JWT authentication shared by every service.
//!
//! The users service signs access tokens with an Ed25519 private key ([`TokenSigner`]); every
//! service verifies them locally with the public key ([`TokenVerifier`]), so no service needs a
//! shared secret or a call to users per request. Handlers take a [`BearerAuth`] argument,
//! which both documents the `bearer` security scheme in the OpenAPI spec and rejects bad
//! tokens with 401 before the handler runs.

mod cache;
mod keys;
mod scheme;

pub use keys::{KeyError, KeyPairPem, generate_key_pair};
pub use scheme::{AuthUser, BearerAuth};

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token holder may do. Registration only ever yields `Customer`; `Admin` comes from
/// the bootstrap account; `Service` is for other microshop services (client credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
pub enum Role {
    /// A shopper acting on their own account and orders.
    Customer,
    /// Staff: manages the catalogue and any account or order.
    Admin,
    /// Another microshop service acting on behalf of a request.
    Service,
}

impl Role {
    /// Database and wire name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }
}

/// The claims of a microshop access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (a UUID) for customers and admins; the client id for services.
    pub sub: String,
    /// What the holder may do.
    pub role: Role,
    /// Issuer: the users service.
    pub iss: String,
    /// Audience: the shop.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique token id, for audit logs.
    pub jti: String,
}

/// Why a token was refused. The caller turns all of them into the same 401: telling the
/// client which check failed helps attackers more than users.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, algorithm, issuer, audience, expiry or shape is wrong.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Clock skew tolerated between services when checking `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// Verifies tokens with the issuer's public key.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    /// Tokens already verified, shared by the clones of this verifier.
    verified: std::sync::Arc<cache::VerifiedTokens>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for an SPKI PEM Ed25519 public key (`JWT_PUBLIC_KEY`).
    pub fn from_public_pem(pem: &str, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let raw = keys::public_key_from_spki_pem(pem)?;
        Ok(Self::from_raw_public_key(&raw, issuer, audience))
    }

    /// A verifier for `JWT_PUBLIC_KEY` with the issuer and audience of the common settings.
    pub fn from_config(public_pem: &str, common: &crate::config::CommonConfig) -> Result<Self, KeyError> {
        Self::from_public_pem(public_pem, &common.jwt_issuer, &common.jwt_audience)
    }

    fn from_raw_public_key(raw: &[u8; 32], issuer: &str, audience: &str) -> Self {
        // Only EdDSA is accepted: `alg: none`, HS256 (key confusion) and others fail here.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        // A token with `nbf` in the future is not valid yet (same leeway as `exp`).
        validation.validate_nbf = true;
        Self { key: DecodingKey::from_ed_der(raw), validation, verified: Default::default() }
    }

    /// The claims of a valid token. A token seen before is answered from the cache until it
    /// expires: an Ed25519 check costs tens of microseconds, and one order carries the same
    /// customer and service tokens through three services.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = chrono::Utc::now().timestamp();
        if let Some(claims) = self.verified.get(token, now) {
            return Ok(claims);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)?.claims;
        self.verified.insert(token, &claims);
        Ok(claims)
    }
}

/// A public key as a JSON Web Key (RFC 8037, `OKP`/`Ed25519`), for `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// Key id, matching the `kid` header of tokens signed with it.
    pub kid: String,
    /// Algorithm: `EdDSA`.
    pub alg: String,
    /// Use: `sig`.
    #[oai(rename = "use")]
    #[serde(rename = "use")]
    pub key_use: String,
}

/// Signs tokens with the issuer's Ed25519 private key. Only the users service has one.
#[derive(Clone)]
pub struct TokenSigner {
    key: EncodingKey,
    key_id: String,
    public_key: [u8; 32],
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A signer for a PKCS#8 PEM Ed25519 private key (`JWT_PRIVATE_KEY`). Without an explicit
    /// key id, one is derived from the public key so it changes exactly when the key does.
    pub fn from_private_pem(pem: &str, key_id: Option<String>, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let der = keys::pem_to_der(pem, "PRIVATE KEY")?;
        let public_key = keys::public_key_of_pkcs8(&der)?;
        Ok(Self {
            key: EncodingKey::from_ed_der(&der),
            key_id: key_id.unwrap_or_else(|| keys::key_id_of(&public_key)),
            public_key,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// The verifier matching this signer.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::from_raw_public_key(&self.public_key, &self.issuer, &self.audience)
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Jwk {
        use base64::Engine;
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.public_key),
            kid: self.key_id.clone(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
        }
    }

    /// Issues a token for `subject` with `role`, valid for `ttl`.
    pub fn sign(&self, subject: &str, role: Role, ttl: Duration) -> Result<(String, Claims), TokenError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        Ok((token, claims))
    }
}
