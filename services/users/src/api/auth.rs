//! `/auth`: password logins, the client-credentials grant, and the public keys.

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use shopkit::{
    ApiError, FieldErrors,
    auth::{Jwk, Role},
    edge::NON_BLANK_TEXT_PATTERN,
    problem::Refusal,
    rules::TextRule,
};
use subtle::ConstantTimeEq;

use super::{ApiTags, AppState, AuthSettings};
use crate::{
    domain::{account::Email, password::DUMMY_HASH},
    error::UsersError,
    hashing::verify_off_thread,
    store::{login_addresses, refresh_tokens, throttle, users},
};

/// Email and password.
#[derive(Object)]
pub struct LoginBody {
    pub email: String,
    #[oai(write_only)]
    pub password: String,
    /// The IP address of the person logging in, when a microshop service (the storefront) logs
    /// them in on their behalf: honoured only with that service's token in `Authorization`,
    /// ignored otherwise (anyone could write any address here). Failed logins are counted
    /// per account and address, so it keeps one shopper's mistakes, or an attacker's guesses,
    /// from locking out everyone behind the storefront.
    pub client_address: Option<String>,
}

/// A client id: anything but blank (an unknown id is refused like a wrong secret).
pub const CLIENT_ID_RULE: TextRule = TextRule {
    min_chars: Some(1),
    max_chars: None,
    pattern: Some(NON_BLANK_TEXT_PATTERN),
    message: "must not be empty",
};

/// A refresh token: exactly what the log-in (or the last refresh) returned.
pub const REFRESH_TOKEN_RULE: TextRule = TextRule {
    min_chars: Some(43),
    max_chars: Some(43),
    pattern: Some("^[A-Za-z0-9_-]{43}$"),
    message: "must be the refresh_token a log-in or refresh returned",
};

/// A refresh token to exchange or revoke.
#[derive(Object)]
pub struct RefreshBody {
    /// The `refresh_token` of the last log-in or refresh response.
    #[oai(write_only)]
    pub refresh_token: String,
}

/// Client-credentials grant of another microshop service.
#[derive(Object)]
pub struct ClientCredentialsBody {
    /// The client id, e.g. `orders`.
    pub client_id: String,
    #[oai(write_only)]
    pub client_secret: String,
}

/// An access token (RFC 6749 section 5.1 shape).
#[derive(Object)]
pub struct TokenBody {
    /// The JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// For shoppers and staff: exchange it at `/auth/refresh` for a new access token before or
    /// after this one expires. Each refresh token works once; the response carries the next.
    /// Absent for service tokens (a service logs in again with its secret).
    #[oai(skip_serializing_if_is_none)]
    pub refresh_token: Option<String>,
    /// Seconds until `refresh_token` expires unless exchanged.
    #[oai(skip_serializing_if_is_none)]
    pub refresh_expires_in: Option<u64>,
}

/// Response of log-out.
#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// The log-in the token belongs to is over (also when it already was, or never existed).
    #[oai(status = 204)]
    Done,
}

/// The public keys that verify microshop tokens (RFC 7517).
#[derive(Debug, Object)]
pub struct JwkSet {
    /// The keys; match a token's `kid` header against `kid`.
    pub keys: Vec<Jwk>,
}

/// Response of the token endpoints.
#[derive(ApiResponse)]
pub enum TokenResponse {
    /// A token was issued.
    #[oai(status = 200)]
    Ok(Json<TokenBody>),
}

/// Response of the key set.
#[derive(ApiResponse)]
pub enum JwksResponse {
    /// The current public keys.
    #[oai(status = 200)]
    Ok(Json<JwkSet>, #[oai(header = "Cache-Control")] String),
}

shopkit::statuses!(
    /// `login`: wrong credentials, too many failures.
    LoginErrors = [401, 429]
);
shopkit::statuses!(
    /// `issueServiceToken`: wrong credentials, an empty client id, too many failures.
    ServiceTokenErrors = [401, 422, 429]
);
shopkit::statuses!(
    /// `refreshToken`: the refresh token is unknown, expired, revoked or already used; malformed.
    RefreshErrors = [401, 422]
);
shopkit::statuses!(
    /// `logout`: a malformed token.
    LogoutErrors = [422]
);
shopkit::statuses!(
    /// `getJwks`: only the failures any operation may have.
    JwksErrors = []
);

/// Authentication operations.
pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Log in with email and password. Wrong credentials give the same 401 whether or not
    /// the email exists. Repeated failures give 429 with `Retry-After`: for one account from
    /// one address (the owner elsewhere is not locked out), from one address over all
    /// accounts, or for one account from many addresses (except from addresses it has logged
    /// in from before).
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<LoginBody>,
    ) -> Result<TokenResponse, Refusal<LoginErrors>> {
        state.faults.inject_delay(super::TOKEN_DELAY_FLAG).await;
        let settings = &state.auth;
        let address = login_address(req, settings, body.client_address.as_deref())?;
        // An unparseable email cannot match an account: treat it as wrong credentials, so
        // the answer does not tell which emails are well-formed accounts.
        let email = Email::parse(&body.email).ok();
        let account_name = email.as_ref().map(Email::as_str).unwrap_or(body.email.trim()).to_owned();
        let pair_key = format!("login:{account_name}|{address}");
        let address_key = format!("ip:{address}");
        let account_key = format!("email:{account_name}");
        let mut conn = state.pool.acquire().await?;
        let account = match &email {
            Some(email) => users::find_by_email(&mut conn, email).await?,
            None => None,
        };
        let known_address = match &account {
            Some(account) => login_addresses::known(&mut conn, account.id, &address).await?,
            None => false,
        };
        let mut keys = vec![pair_key.clone(), address_key.clone()];
        if !known_address {
            keys.push(account_key.clone());
        }
        if let Some(secs) = throttle::locked_for(&mut conn, &keys).await? {
            shopkit::metrics::business::LOGINS_THROTTLED.add(1, &[]);
            return Err(UsersError::Throttled(secs).into());
        }
        // Verify against a dummy hash when the account is missing, so both cases cost the same.
        let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matches = verify_off_thread(body.0.password, hash).await? && account.is_some();
        let Some(account) = account.filter(|_| matches) else {
            throttle::record_failure(&mut conn, &pair_key, settings.per_account).await?;
            throttle::record_failure(&mut conn, &address_key, settings.per_address).await?;
            throttle::record_failure(&mut conn, &account_key, settings.per_account_everywhere).await?;
            tracing::info!("login failed");
            return Err(UsersError::InvalidCredentials.into());
        };
        throttle::clear(&mut conn, &pair_key).await?;
        login_addresses::remember(&mut conn, account.id, &address).await?;
        let refresh = refresh_tokens::issue(&mut conn, account.id, settings.refresh_token_ttl).await?;
        tracing::info!(user_id = %account.id, "login succeeded");
        Ok(user_tokens(settings, account.id, &account.role, refresh)?)
    }

    /// Exchange a refresh token for a new access token and a new refresh token (the old one
    /// stops working). Presenting a refresh token a second time ends the log-in it came from:
    /// someone else holds a copy.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refreshToken")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        body: Json<RefreshBody>,
    ) -> Result<TokenResponse, Refusal<RefreshErrors>> {
        check_refresh_token(&body.refresh_token)?;
        let settings = &state.auth;
        let mut conn = state.pool.acquire().await?;
        match refresh_tokens::exchange(&mut conn, &body.refresh_token, settings.refresh_token_ttl).await? {
            Ok(rotated) => Ok(user_tokens(settings, rotated.user_id, &rotated.role, rotated.successor)?),
            Err(refusal) => {
                if refusal == refresh_tokens::Refusal::Reused {
                    tracing::warn!("a refresh token was presented again: its log-in is revoked");
                } else {
                    tracing::info!(?refusal, "refresh refused");
                }
                Err(ApiError::unauthorized("the refresh token is expired or no longer valid; log in again").into())
            }
        }
    }

    /// Log out: revoke the refresh token and every token of the same log-in. Access tokens
    /// already issued stay valid until they expire (minutes).
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        body: Json<RefreshBody>,
    ) -> Result<LogoutResponse, Refusal<LogoutErrors>> {
        check_refresh_token(&body.refresh_token)?;
        let mut conn = state.pool.acquire().await?;
        let revoked = refresh_tokens::revoke_family(&mut conn, &body.refresh_token).await?;
        tracing::info!(revoked, "logout");
        Ok(LogoutResponse::Done)
    }

    /// Get a short-lived `service` token with a client id and secret (for other services).
    /// Throttled like logins: repeated wrong secrets for one client id from one address give
    /// 429 there.
    #[oai(path = "/auth/token", method = "post", operation_id = "issueServiceToken")]
    async fn service_token(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<ClientCredentialsBody>,
    ) -> Result<TokenResponse, Refusal<ServiceTokenErrors>> {
        state.faults.inject_delay(super::TOKEN_DELAY_FLAG).await;
        if let Err(message) = CLIENT_ID_RULE.check(&body.client_id) {
            let mut errors = FieldErrors::default();
            errors.add("client_id", message);
            return Err(errors.into());
        }
        let settings = &state.auth;
        // One key per client id and address: guessing from one place locks that place out,
        // never the real service calling from elsewhere (a lock on the client id alone would let
        // anyone stop the shop by failing on purpose).
        let client_key = format!("client:{}@{}", body.client_id.trim(), client_address(req));
        let mut conn = state.pool.acquire().await?;
        if let Some(secs) = throttle::locked_for(&mut conn, std::slice::from_ref(&client_key)).await? {
            shopkit::metrics::business::LOGINS_THROTTLED.add(1, &[]);
            return Err(UsersError::Throttled(secs).into());
        }
        // Compare every configured secret in constant time so timing reveals nothing.
        let mut matched = None;
        for client in &settings.service_clients {
            let secret_ok: bool = client.secret.expose().as_bytes().ct_eq(body.client_secret.as_bytes()).into();
            if secret_ok && client.id == body.client_id {
                matched = Some(client.id.clone());
            }
        }
        let Some(client_id) = matched else {
            throttle::record_failure(&mut conn, &client_key, settings.per_account).await?;
            tracing::warn!(client_id = %body.client_id, "client credentials rejected");
            return Err(ApiError::unauthorized("invalid client credentials").into());
        };
        throttle::clear(&mut conn, &client_key).await?;
        let (token, _) = settings
            .signer
            .sign(&client_id, Role::Service, settings.service_token_ttl)
            .map_err(|e| UsersError::Internal(e.to_string()))?;
        Ok(token_response(token, settings.service_token_ttl.as_secs()))
    }

    /// The public keys that verify tokens, for services and clients that verify locally.
    #[oai(path = "/.well-known/jwks.json", method = "get", operation_id = "getJwks")]
    async fn jwks(&self, state: Data<&AppState>) -> Result<JwksResponse, Refusal<JwksErrors>> {
        Ok(JwksResponse::Ok(Json(JwkSet { keys: vec![state.auth.signer.jwk()] }), "public, max-age=300".to_owned()))
    }
}

fn token_response(access_token: String, expires_in: u64) -> TokenResponse {
    TokenResponse::Ok(Json(TokenBody {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in,
        refresh_token: None,
        refresh_expires_in: None,
    }))
}

/// The access token and refresh token of a shopper or staff member.
fn user_tokens(
    settings: &AuthSettings,
    user_id: uuid::Uuid,
    role: &str,
    refresh: refresh_tokens::Issued,
) -> Result<TokenResponse, UsersError> {
    let role = if role == "admin" { Role::Admin } else { Role::Customer };
    let (access_token, _) = settings
        .signer
        .sign(&user_id.to_string(), role, settings.access_token_ttl)
        .map_err(|e| UsersError::Internal(e.to_string()))?;
    // Whole seconds left, rounded up: a token issued now reads as the full lifetime.
    let left_ms = (refresh.expires_at - chrono::Utc::now()).num_milliseconds().max(0);
    let refresh_expires_in = u64::try_from((left_ms + 999) / 1000).unwrap_or_default();
    Ok(TokenResponse::Ok(Json(TokenBody {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: settings.access_token_ttl.as_secs(),
        refresh_token: Some(refresh.token),
        refresh_expires_in: Some(refresh_expires_in),
    })))
}

/// 422 for a string that cannot be a refresh token.
fn check_refresh_token(raw: &str) -> Result<(), UsersError> {
    REFRESH_TOKEN_RULE.check(raw).map_err(|message| {
        let mut errors = FieldErrors::default();
        errors.add("refresh_token", message);
        UsersError::Invalid(errors)
    })
}

/// The address a log-in is counted against: `claimed` when the caller proves with a service
/// token that it is a microshop service logging someone in on their behalf, else the peer's
/// address. A claimed address must be an IP address (422 otherwise); a claim without a valid
/// service token is ignored, so nobody picks a fresh throttle key per request by writing one.
fn login_address(req: &Request, settings: &AuthSettings, claimed: Option<&str>) -> Result<String, UsersError> {
    let Some(claimed) = claimed else { return Ok(client_address(req)) };
    let Ok(ip) = claimed.trim().parse::<std::net::IpAddr>() else {
        let mut errors = FieldErrors::default();
        errors.add("client_address", "must be an IPv4 or IPv6 address");
        return Err(UsersError::Invalid(errors));
    };
    let bearer = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let trusted =
        bearer.and_then(|token| settings.verifier.verify(token).ok()).is_some_and(|c| c.role == Role::Service);
    if trusted {
        Ok(ip.to_string())
    } else {
        tracing::warn!("a client address was claimed without a service token; counting the peer's");
        Ok(client_address(req))
    }
}

/// The client's IP address as seen by this process (proxies are not trusted: a forged
/// `X-Forwarded-For` must not let an attacker pick a fresh throttle key per request).
fn client_address(req: &Request) -> String {
    req.remote_addr().as_socket_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".to_owned())
}
