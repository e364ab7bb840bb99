//! Connecting to NATS with the login a `NATS_URL` carries, as NATS clients conventionally read it:
//! `nats://user:password@host:4222` (user and password) or `nats://token@host:4222` (a token).
//! async-nats reads the addresses of such a URL but not its login, so it is taken out here and
//! handed over as connect options. The URL is then a secret: [`redacted`] is what logs show.

use async_nats::{ConnectOptions, ServerAddr};

/// How a client logs in, read from the first address of `urls` (comma-separated) that has one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Login {
    None,
    UserPassword(String, String),
    Token(String),
}

/// An address that does not parse is passed over: connecting then fails on it with its reason.
fn login(urls: &str) -> Login {
    for url in urls.split(',').map(str::trim) {
        let Ok(addr) = url.parse::<ServerAddr>() else { continue };
        match (addr.username(), addr.password()) {
            (Some(user), Some(password)) => return Login::UserPassword(decode(user), decode(password)),
            (Some(token), None) => return Login::Token(decode(token)),
            _ => {}
        }
    }
    Login::None
}

/// A URL's user and password are percent-encoded (a `@` or `:` in a password is `%40`, `%3A`).
fn decode(part: &str) -> String {
    percent_encoding::percent_decode_str(part).decode_utf8_lossy().into_owned()
}

/// Connects to the servers of `urls`, logging in as the URL says.
pub async fn connect(urls: &str) -> Result<async_nats::Client, async_nats::ConnectError> {
    let options = match login(urls) {
        Login::None => ConnectOptions::new(),
        Login::UserPassword(user, password) => ConnectOptions::with_user_and_password(user, password),
        Login::Token(token) => ConnectOptions::with_token(token),
    };
    options.connect(urls).await
}

/// `urls` with each login replaced by `***`, for logs.
pub fn redacted(urls: &str) -> String {
    urls.split(',')
        .map(|url| match url.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_comes_from_the_first_address_that_has_one() {
        assert_eq!(login("nats://nats.infra:4222"), Login::None);
        assert_eq!(
            login("nats://a:4222,nats://shop:p%40ss%3Aword@b:4222"),
            Login::UserPassword("shop".into(), "p@ss:word".into())
        );
        assert_eq!(login("tls://s3cr3t-token@nats.infra:4222"), Login::Token("s3cr3t-token".into()));
    }

    #[test]
    fn logs_show_no_login() {
        assert_eq!(redacted("nats://shop:pw@a:4222,nats://b:4222"), "nats://***@a:4222,nats://b:4222");
        assert_eq!(redacted("tls://token@n:4222"), "tls://***@n:4222");
        assert_eq!(redacted("nats://n:4222"), "nats://n:4222");
    }
}
