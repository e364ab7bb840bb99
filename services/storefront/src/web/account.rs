//! Register, log in, log out, profile, delete account. Log-in rotates the session id and
//! merges the guest cart into the account's cart.

use std::net::IpAddr;

use askama::Template;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Form, Query, cookie::CookieJar},
};
use serde::Deserialize;
use serde_json::json;
use shopkit::{auth::Role, client::ClientError, config::Secret};
use uuid::Uuid;

use super::{
    AppState,
    address::shopper_address,
    forms::{LoginForm, ProfileForm, RegisterForm},
    page::{Layout, PageError, local_path, redirect, rejection_detail, render, render_with, require_user},
    seal,
    session::{self, Session},
};
use crate::{
    clients::{TokenBody, User},
    store::sessions::{self as store, LoggedIn},
};

/// The `next` query parameter of the log-in and register pages.
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Layout,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    page: Layout,
    next: String,
    name: String,
    email: String,
    error: Option<String>,
}

/// `GET /login`.
#[handler]
pub async fn login_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = local_path(query.next.as_deref());
    render(&LoginPage { page: Layout::new(state, session, "Log in").await?, next, email: String::new(), error: None })
}

/// `GET /register`.
#[handler]
pub async fn register_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = local_path(query.next.as_deref());
    render(&RegisterPage {
        page: Layout::new(state, session, "Create an account").await?,
        next,
        name: String::new(),
        email: String::new(),
        error: None,
    })
}

/// What a log-in sends: the shopper's e-mail and password, and their address when known.
struct Credentials<'a> {
    email: &'a str,
    password: &'a str,
    address: Option<IpAddr>,
}

/// What a shopper reads after too many failed log-ins: that it is a pause, not a lost account,
/// and when to try again (users' `Retry-After`, rounded up to minutes).
fn throttled_message(retry_after: Option<std::time::Duration>) -> String {
    let minutes = retry_after.map(|wait| wait.as_secs().div_ceil(60).max(1));
    let when = match minutes {
        Some(1) => "in a minute".to_owned(),
        Some(minutes) => format!("in {minutes} minutes"),
        None => "in a few minutes".to_owned(),
    };
    format!(
        "Too many failed log-ins for this account from here, so log-in is paused. Try again {when}; \
         your account and cart are safe."
    )
}

/// Logs in with the users service; on success the browser gets a new session (with the guest
/// cart merged) and goes to `next`, greeted by `notice` (by name when `None`). The refresh
/// token is sealed under the new cookie's key. `Ok(Err(message))` is a refusal to show on the form.
async fn log_in(
    state: &AppState,
    session: &Session,
    cookies: &CookieJar,
    credentials: Credentials<'_>,
    next: &str,
    notice: Option<&str>,
) -> Result<Result<Response, String>, PageError> {
    let Credentials { email, password, address } = credentials;
    let answer = match (&state.backends.login, address) {
        // With the storefront's own token, users counts failures against the shopper's address.
        (Some(client), Some(address)) => {
            let body = json!({"email": email, "password": password, "client_address": address.to_string()});
            client.post("/auth/login", &body, None).await
        }
        _ => state.backends.users.post("/auth/login", &json!({"email": email, "password": password}), None).await,
    };
    let token: TokenBody = match answer {
        Ok(token) => token,
        Err(ClientError::Rejected { status, .. }) if status == 401 => {
            return Ok(Err("Wrong e-mail or password.".into()));
        }
        Err(ClientError::Rejected { status, retry_after, .. }) if status == 429 => {
            return Ok(Err(throttled_message(retry_after)));
        }
        Err(err) => return Ok(Err(rejection_detail(&err).ok_or(PageError::from(err))?)),
    };
    let claims = state.verifier.verify(&token.access_token).map_err(|e| PageError::Internal(e.to_string()))?;
    let user_id = Uuid::parse_str(&claims.sub).map_err(|e| PageError::Internal(e.to_string()))?;
    let secret = Secret::new(token.access_token);
    let me: User = state.backends.as_user(&secret).users.get("/users/me").await?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(chrono::Utc::now);
    let role = if claims.role == Role::Admin { "admin" } else { "customer" };
    let value = session::random_token().map_err(|_| PageError::Internal("random generator failed".into()))?;
    let csrf = session::random_token().map_err(|_| PageError::Internal("random generator failed".into()))?;
    let ttl = chrono::Duration::from_std(session::SESSION_TTL).unwrap_or(chrono::Duration::days(7));
    let refresh_sealed = match token.refresh_token.as_deref().map(|refresh| seal::seal(&value, refresh)) {
        Some(Ok(sealed)) => Some(sealed),
        Some(Err(err)) => return Err(PageError::Internal(err.to_string())),
        None => None,
    };
    let account = LoggedIn {
        user_id,
        name: &me.name,
        role,
        access_token: secret.expose(),
        expires_at,
        refresh_sealed: refresh_sealed.as_deref(),
    };
    let mut conn = state.pool.acquire().await?;
    let new_hash = session::hash_id(&value);
    store::log_in(&mut conn, &session.id_hash, &new_hash, &csrf, &account, ttl).await?;
    let welcome = format!("Welcome, {}!", me.name);
    store::set_flash(&mut conn, &new_hash, notice.unwrap_or(&welcome)).await?;
    tracing::info!(user_id = %user_id, "shopper logged in");
    // Replaces a cookie the session layer may have added for this request: one Set-Cookie.
    cookies.add(session::cookie(&value, state.secure_cookies));
    Ok(Ok(redirect(next)))
}

/// `POST /login`.
#[handler]
pub async fn login(
    req: &Request,
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    cookies: &CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = local_path(Some(&form.next));
    let address = shopper_address(req, state.trusted_proxy_hops);
    let credentials = Credentials { email: form.email.trim(), password: &form.password, address };
    match log_in(state, session, cookies, credentials, &next, None).await? {
        Ok(response) => Ok(response),
        Err(error) => render_with(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                page: Layout::new(state, session, "Log in").await?,
                next,
                email: form.email,
                error: Some(error),
            },
        ),
    }
}

/// `POST /register`: creates a customer account and logs it in.
#[handler]
pub async fn register(
    req: &Request,
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    cookies: &CookieJar,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let next = local_path(Some(&form.next));
    let body = json!({"name": form.name.trim(), "email": form.email.trim(), "password": form.password});
    let created: Result<User, ClientError> = state.backends.users.post("/users", &body, None).await;
    let address = shopper_address(req, state.trusted_proxy_hops);
    let credentials = Credentials { email: form.email.trim(), password: &form.password, address };
    let error = match created {
        Ok(_) => match log_in(state, session, cookies, credentials, &next, None).await? {
            Ok(response) => return Ok(response),
            Err(error) => error,
        },
        Err(ClientError::Rejected { status, .. }) if status == 409 => {
            "An account with this e-mail already exists. Log in instead?".to_owned()
        }
        Err(err) => rejection_detail(&err).ok_or(PageError::from(err))?,
    };
    render_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &RegisterPage {
            page: Layout::new(state, session, "Create an account").await?,
            next,
            name: form.name,
            email: form.email,
            error: Some(error),
        },
    )
}

/// `POST /logout`: ends the session and revokes its refresh token at users; the account's cart
/// stays with the account.
#[handler]
pub async fn logout(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    cookies: &CookieJar,
) -> Result<Response, PageError> {
    if let Some(refresh) = session.user.as_ref().and_then(|user| user.refresh_token.as_ref()) {
        let body = json!({"refresh_token": refresh.expose()});
        // The session row goes either way; a token users did not hear about expires on its own.
        if let Err(err) = state.backends.users.post::<_, ()>("/auth/logout", &body, None).await {
            tracing::warn!(error = %err, "log-out: the refresh token was not revoked");
        }
    }
    let mut conn = state.pool.acquire().await?;
    store::delete(&mut conn, &session.id_hash).await?;
    let mut expired = session::cookie("", state.secure_cookies);
    expired.make_removal();
    cookies.add(expired);
    Ok(redirect("/"))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Layout,
    user: User,
    error: Option<String>,
}

/// `GET /account`: profile and account deletion.
#[handler]
pub async fn profile_page(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    let user = require_user(session, "/account")?;
    let me: User = state.backends.as_user(&user.token).users.get("/users/me").await?;
    render(&AccountPage { page: Layout::new(state, session, "Your account").await?, user: me, error: None })
}

/// `POST /account`: change name, e-mail or password (the last two need the current password).
/// A new password ends every log-in of the account at users, so this browser logs in again
/// with it (a fresh session) and stays in.
#[handler]
pub async fn update_profile(
    req: &Request,
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    cookies: &CookieJar,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    let user = require_user(session, "/account")?;
    let users = state.backends.as_user(&user.token).users;
    let me: User = users.get("/users/me").await?;
    let mut changes = serde_json::Map::new();
    if !form.name.trim().is_empty() && form.name.trim() != me.name {
        changes.insert("name".into(), json!(form.name.trim()));
    }
    if !form.email.trim().is_empty() && !form.email.trim().eq_ignore_ascii_case(&me.email) {
        changes.insert("email".into(), json!(form.email.trim()));
    }
    if !form.password.is_empty() {
        changes.insert("password".into(), json!(form.password));
    }
    if !form.current_password.is_empty() {
        changes.insert("current_password".into(), json!(form.current_password));
    }
    let result: Result<User, ClientError> = users.patch("/users/me", &changes).await;
    match result {
        Ok(updated) if !form.password.is_empty() => {
            let notice = "Your password was changed; any other device is logged out.";
            let address = shopper_address(req, state.trusted_proxy_hops);
            let credentials = Credentials { email: &updated.email, password: &form.password, address };
            match log_in(state, session, cookies, credentials, "/account", Some(notice)).await? {
                Ok(response) => Ok(response),
                // Users refused the new password right after accepting it (a throttle): the
                // session ends here rather than lingering on revoked tokens.
                Err(error) => {
                    tracing::warn!(error, "log-in with the new password failed");
                    let mut conn = state.pool.acquire().await?;
                    store::end_login(
                        &mut conn,
                        &session.id_hash,
                        Some("Your password was changed. Please log in again."),
                    )
                    .await?;
                    Ok(redirect("/login?next=/account"))
                }
            }
        }
        Ok(updated) => {
            let mut conn = state.pool.acquire().await?;
            store::set_user_name(&mut conn, user.id, &updated.name).await?;
            store::set_flash(&mut conn, &session.id_hash, "Your account was updated.").await?;
            Ok(redirect("/account"))
        }
        Err(err) => {
            let error = rejection_detail(&err).ok_or(PageError::from(err))?;
            render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AccountPage { page: Layout::new(state, session, "Your account").await?, user: me, error: Some(error) },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "goodbye.html")]
struct GoodbyePage {
    page: Layout,
}

/// `POST /account/delete`: deletes the account and its personal data, and every session of it.
#[handler]
pub async fn delete_account(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
) -> Result<Response, PageError> {
    let user = require_user(session, "/account")?;
    state.backends.as_user(&user.token).users.delete("/users/me").await?;
    let mut conn = state.pool.acquire().await?;
    crate::store::carts::clear(&mut conn, &session.cart_owner()).await?;
    store::delete_for_user(&mut conn, user.id).await?;
    let mut guest = session.clone();
    guest.user = None;
    guest.flash = None;
    let mut layout = Layout::new(state, &guest, "Account deleted").await?;
    layout.user_name = None;
    render(&GoodbyePage { page: layout })
}
