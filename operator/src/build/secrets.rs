//! The Secrets a shop needs, and how their data is completed without ever rewriting a value.
//!
//! [`complete`] takes what a Secret already holds and returns it with only the missing keys added;
//! derived keys (a URI built from a password, a public key from a private key) are derived from
//! the values that exist, so a partially deleted Secret is repaired consistently.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use ring::signature::{Ed25519KeyPair, KeyPair};

use super::{
    Microservice, database,
    labels::{Component, child_meta},
    names,
};
use crate::crd::Shop;
use crate::validate::ValidShop;

/// Keys of a managed database's Secret.
pub const DB_USERNAME: &str = "username";
pub const DB_PASSWORD: &str = "password";
pub const DB_NAME: &str = "database";
/// A `postgres://` URI: the same shape as an external database's Secret.
pub const DB_URI: &str = "uri";
/// Password of the `postgres` superuser, which only the database pod sees: the service logs in
/// as `username`, a role that owns its database and nothing else.
pub const DB_SUPERUSER_PASSWORD: &str = "superuser-password";
/// Keys of the JWT key pair Secret.
pub const JWT_PRIVATE: &str = "private.pem";
pub const JWT_PUBLIC: &str = "public.pem";
/// Keys of the service clients Secret.
pub const ORDERS_CLIENT_ID: &str = "orders-client-id";
pub const ORDERS_CLIENT_SECRET: &str = "orders-client-secret";
/// The storefront's client secret: it logs shoppers in with its service token, so users
/// believes the shopper address it passes on (log-in throttling per shopper address).
pub const STOREFRONT_CLIENT_SECRET: &str = "storefront-client-secret";
/// The notifications service's client secret (client id `notifications`): it reads customers'
/// e-mail addresses from users with its service token.
pub const NOTIFICATIONS_CLIENT_SECRET: &str = "notifications-client-secret";
/// `SERVICE_CLIENTS` of the users service:
/// `orders=<secret>,storefront=<secret>,notifications=<secret>`, derived from the secrets above
/// (so a Secret made before the storefront or notifications had one gains its entry). Every
/// entry is there whether or not its service runs, so switching one on rolls no users pod.
pub const SERVICE_CLIENTS: &str = "service-clients";
/// Key of the bootstrap admin password.
pub const ADMIN_PASSWORD: &str = "password";

/// The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// What a generated Secret holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// Credentials of one managed database (managed mode only).
    Database(Microservice),
    /// The Ed25519 key pair users signs tokens with and every service verifies them with.
    Jwt,
    /// Client credentials of orders, the storefront and notifications at users.
    ServiceClients,
    /// The bootstrap administrator's password.
    Admin,
}

impl SecretKind {
    /// Database credentials and the admin password outlive the Shop like the data they open
    /// (deletion policy `Retain`): no owner reference, so garbage collection leaves them and a
    /// Shop created again finds its data usable (the admin account lives in the users
    /// database). The finalizer deletes them with the claims under `Delete`.
    pub fn lives_with_the_data(self) -> bool {
        matches!(self, Self::Database(_) | Self::Admin)
    }
}

/// One Secret to ensure: its name and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretPlan {
    pub name: String,
    pub kind: SecretKind,
}

/// The Secrets a shop needs, in a stable order.
pub fn secret_plans(valid: ValidShop<'_>) -> Vec<SecretPlan> {
    let shop = valid.shop();
    let mut plans = Vec::new();
    if database::of(shop).generates_credentials() {
        for service in Microservice::enabled(shop) {
            plans.push(SecretPlan { name: names::db_secret(shop, service), kind: SecretKind::Database(service) });
        }
    }
    plans.push(SecretPlan { name: names::jwt_secret(shop), kind: SecretKind::Jwt });
    plans.push(SecretPlan { name: names::clients_secret(shop), kind: SecretKind::ServiceClients });
    plans.push(SecretPlan { name: names::admin_secret(shop), kind: SecretKind::Admin });
    plans
}

/// The keys a Secret of this kind has once complete.
pub fn keys_of(kind: SecretKind) -> &'static [&'static str] {
    match kind {
        SecretKind::Database(_) => &[DB_USERNAME, DB_PASSWORD, DB_NAME, DB_URI, DB_SUPERUSER_PASSWORD],
        SecretKind::Jwt => &[JWT_PRIVATE, JWT_PUBLIC],
        SecretKind::ServiceClients => &[
            ORDERS_CLIENT_ID,
            ORDERS_CLIENT_SECRET,
            STOREFRONT_CLIENT_SECRET,
            NOTIFICATIONS_CLIENT_SECRET,
            SERVICE_CLIENTS,
        ],
        SecretKind::Admin => &[ADMIN_PASSWORD],
    }
}

/// Where new secret values come from: the CSPRNG in the controller, placeholders in `render`.
pub trait SecretSource {
    /// A random password, safe inside a URI and in `id=secret,...` lists.
    fn password(&self) -> Result<String, SecretError>;
    /// A new Ed25519 key pair: (PKCS#8 PEM, SPKI PEM).
    fn key_pair(&self) -> Result<(String, String), SecretError>;
    /// The SPKI PEM of an existing PKCS#8 PEM private key.
    fn public_of(&self, private_pem: &str) -> Result<String, SecretError>;
}

/// Failures while completing a Secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// An existing value cannot be used to derive a missing one.
    #[error("existing key {key} is unusable: {reason}")]
    Unusable { key: &'static str, reason: &'static str },
}

/// Secret values from the operating system's CSPRNG (`ring::rand::SystemRandom`).
pub struct SystemSource(ring::rand::SystemRandom);

impl Default for SystemSource {
    fn default() -> Self {
        Self(ring::rand::SystemRandom::new())
    }
}

impl SecretSource for SystemSource {
    fn password(&self) -> Result<String, SecretError> {
        let mut bytes = [0u8; 24];
        ring::rand::SecureRandom::fill(&self.0, &mut bytes).map_err(|_| SecretError::Random)?;
        // base64url without padding: no '=', ',', '@', ':' or '/', so it fits URIs and client lists.
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    fn key_pair(&self) -> Result<(String, String), SecretError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&self.0).map_err(|_| SecretError::Random)?;
        let private_pem = shopcore::pem::encode(pkcs8.as_ref(), "PRIVATE KEY");
        let public_pem = self.public_of(&private_pem)?;
        Ok((private_pem, public_pem))
    }

    fn public_of(&self, private_pem: &str) -> Result<String, SecretError> {
        let unusable = |reason| SecretError::Unusable { key: JWT_PRIVATE, reason };
        let der = shopcore::pem::decode(private_pem, "PRIVATE KEY").ok_or_else(|| unusable("not a PEM PRIVATE KEY"))?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| unusable("not Ed25519 PKCS#8"))?;
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        Ok(shopcore::pem::encode(&spki, "PUBLIC KEY"))
    }
}

/// Placeholder values for `render`: shows the shape of every Secret without generating secrets.
pub struct PlaceholderSource;

impl SecretSource for PlaceholderSource {
    fn password(&self) -> Result<String, SecretError> {
        Ok("GENERATED-BY-OPERATOR".into())
    }

    fn key_pair(&self) -> Result<(String, String), SecretError> {
        Ok((
            "-----BEGIN PRIVATE KEY-----\nGENERATED-BY-OPERATOR\n-----END PRIVATE KEY-----\n".into(),
            "-----BEGIN PUBLIC KEY-----\nGENERATED-BY-OPERATOR\n-----END PUBLIC KEY-----\n".into(),
        ))
    }

    fn public_of(&self, _private_pem: &str) -> Result<String, SecretError> {
        Ok("-----BEGIN PUBLIC KEY-----\nGENERATED-BY-OPERATOR\n-----END PUBLIC KEY-----\n".into())
    }
}

/// A Secret's data after completion, and the keys that were added or re-derived (empty:
/// nothing to write).
#[derive(Debug, PartialEq, Eq)]
pub struct Completed {
    pub data: BTreeMap<String, String>,
    pub added: Vec<String>,
}

/// Completes `existing` for `kind`: every generated key keeps its value; missing keys are
/// generated. A database's `uri` is always derived from its username, password and database,
/// so deleting `password` rotates the password *and* the URI the services use.
pub fn complete(
    shop: &Shop,
    kind: SecretKind,
    existing: &BTreeMap<String, String>,
    source: &dyn SecretSource,
) -> Result<Completed, SecretError> {
    let mut data = existing.clone();
    match kind {
        SecretKind::Database(service) => {
            fill(&mut data, DB_USERNAME, || Ok(service.name().to_string()))?;
            fill(&mut data, DB_NAME, || Ok(service.name().to_string()))?;
            fill(&mut data, DB_PASSWORD, || source.password())?;
            fill(&mut data, DB_SUPERUSER_PASSWORD, || source.password())?;
            let uri = format!(
                "postgres://{}:{}@{}:5432/{}",
                data[DB_USERNAME],
                data[DB_PASSWORD],
                names::db(shop, service),
                data[DB_NAME]
            );
            data.insert(DB_URI.into(), uri);
        }
        SecretKind::Jwt => {
            if !data.contains_key(JWT_PRIVATE) {
                // A public key without its private key is useless: replace both halves together.
                let (private_pem, public_pem) = source.key_pair()?;
                data.insert(JWT_PRIVATE.into(), private_pem);
                data.insert(JWT_PUBLIC.into(), public_pem);
            }
            let private_pem = data[JWT_PRIVATE].clone();
            fill(&mut data, JWT_PUBLIC, || source.public_of(&private_pem))?;
        }
        SecretKind::ServiceClients => {
            fill(&mut data, ORDERS_CLIENT_ID, || Ok(Microservice::Orders.name().to_string()))?;
            fill(&mut data, ORDERS_CLIENT_SECRET, || source.password())?;
            fill(&mut data, STOREFRONT_CLIENT_SECRET, || source.password())?;
            fill(&mut data, NOTIFICATIONS_CLIENT_SECRET, || source.password())?;
            let entries = format!(
                "{}={},{}={},{}={}",
                data[ORDERS_CLIENT_ID],
                data[ORDERS_CLIENT_SECRET],
                Microservice::Storefront.name(),
                data[STOREFRONT_CLIENT_SECRET],
                Microservice::Notifications.name(),
                data[NOTIFICATIONS_CLIENT_SECRET]
            );
            data.insert(SERVICE_CLIENTS.into(), entries);
        }
        SecretKind::Admin => {
            fill(&mut data, ADMIN_PASSWORD, || source.password())?;
        }
    }
    let added = data.iter().filter(|(k, v)| existing.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
    Ok(Completed { data, added })
}

fn fill(
    data: &mut BTreeMap<String, String>,
    key: &str,
    make: impl FnOnce() -> Result<String, SecretError>,
) -> Result<(), SecretError> {
    if !data.contains_key(key) {
        data.insert(key.to_string(), make()?);
    }
    Ok(())
}

/// The Secret object to apply for a plan with completed data.
pub fn secret(shop: &Shop, plan: &SecretPlan, data: &BTreeMap<String, String>) -> Secret {
    let component = match plan.kind {
        SecretKind::Database(service) => Component::Database(service),
        _ => Component::Secrets,
    };
    let mut metadata = child_meta(shop, plan.name.clone(), component);
    if plan.kind.lives_with_the_data() {
        metadata.owner_references = None;
    }
    Secret {
        metadata,
        type_: Some("Opaque".into()),
        data: Some(data.iter().map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes()))).collect()),
        ..Secret::default()
    }
}

/// The string data of an existing Secret; values that are not UTF-8 are treated as absent
/// (none of ours ever are) and so are reported rather than silently kept.
pub fn string_data(secret: &Secret) -> (BTreeMap<String, String>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut not_utf8 = Vec::new();
    for (key, value) in secret.data.iter().flatten() {
        match String::from_utf8(value.0.clone()) {
            Ok(text) => {
                out.insert(key.clone(), text);
            }
            Err(_) => not_utf8.push(key.clone()),
        }
    }
    (out, not_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::{shop, valid};

    fn completed(kind: SecretKind, existing: &[(&str, &str)]) -> Completed {
        let existing = existing.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        complete(&shop("demo"), kind, &existing, &SystemSource::default()).expect("complete")
    }

    #[test]
    fn new_secrets_get_every_key() {
        let kinds =
            [SecretKind::Database(Microservice::Users), SecretKind::Jwt, SecretKind::ServiceClients, SecretKind::Admin];
        for kind in kinds {
            let done = completed(kind, &[]);
            let keys: Vec<&str> = done.data.keys().map(String::as_str).collect();
            let mut expected = keys_of(kind).to_vec();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{kind:?}");
            assert_eq!(done.added.len(), expected.len(), "{kind:?} reports every key as added");
        }
    }

    #[test]
    fn existing_values_are_never_rewritten_and_derived_keys_follow_them() {
        let done = completed(SecretKind::Database(Microservice::Orders), &[(DB_PASSWORD, "keep-me")]);
        assert_eq!(done.data[DB_PASSWORD], "keep-me");
        assert_eq!(done.data[DB_URI], "postgres://orders:keep-me@demo-orders-db:5432/orders");
        assert_eq!(done.added, vec![DB_NAME, DB_SUPERUSER_PASSWORD, DB_URI, DB_USERNAME]);
        assert_ne!(done.data[DB_SUPERUSER_PASSWORD], done.data[DB_PASSWORD], "two roles, two passwords");

        let done = completed(SecretKind::ServiceClients, &[(ORDERS_CLIENT_SECRET, "s3cr3t")]);
        let storefront = &done.data[STOREFRONT_CLIENT_SECRET];
        let notifications = &done.data[NOTIFICATIONS_CLIENT_SECRET];
        assert_ne!(storefront, notifications, "each client has its own secret");
        assert_eq!(
            done.data[SERVICE_CLIENTS],
            format!("orders=s3cr3t,storefront={storefront},notifications={notifications}")
        );
        // A Secret written before the storefront had a client secret gains it, and the entry.
        let old = completed(
            SecretKind::ServiceClients,
            &[(ORDERS_CLIENT_ID, "orders"), (ORDERS_CLIENT_SECRET, "s3cr3t"), (SERVICE_CLIENTS, "orders=s3cr3t")],
        );
        assert!(old.data[SERVICE_CLIENTS].starts_with("orders=s3cr3t,storefront="), "{}", old.data[SERVICE_CLIENTS]);
        assert_eq!(old.added, vec![NOTIFICATIONS_CLIENT_SECRET, SERVICE_CLIENTS, STOREFRONT_CLIENT_SECRET]);
        // One written before notifications had one keeps the other secrets and gains its entry.
        let before_notifications = completed(
            SecretKind::ServiceClients,
            &[
                (ORDERS_CLIENT_ID, "orders"),
                (ORDERS_CLIENT_SECRET, "s3cr3t"),
                (STOREFRONT_CLIENT_SECRET, "shop-s3cr3t"),
                (SERVICE_CLIENTS, "orders=s3cr3t,storefront=shop-s3cr3t"),
            ],
        );
        let added = &before_notifications.data[NOTIFICATIONS_CLIENT_SECRET];
        assert_eq!(
            before_notifications.data[SERVICE_CLIENTS],
            format!("orders=s3cr3t,storefront=shop-s3cr3t,notifications={added}")
        );
        assert_eq!(before_notifications.added, vec![NOTIFICATIONS_CLIENT_SECRET, SERVICE_CLIENTS]);

        let full = completed(SecretKind::Admin, &[(ADMIN_PASSWORD, "pw")]);
        assert!(full.added.is_empty(), "a complete Secret needs no write");
        assert_eq!(full.data[ADMIN_PASSWORD], "pw");
    }

    #[test]
    fn passwords_are_random_and_uri_safe() {
        let source = SystemSource::default();
        let a = source.password().expect("password");
        let b = source.password().expect("password");
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
    }

    #[test]
    fn jwt_pair_is_pkcs8_and_spki_of_the_same_key() {
        let done = completed(SecretKind::Jwt, &[]);
        let private = &done.data[JWT_PRIVATE];
        let public = &done.data[JWT_PUBLIC];
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{private}");
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{public}");
        assert!(private.lines().all(|l| l.len() <= 64), "PEM lines are at most 64 characters");
        let spki = shopcore::pem::decode(public, "PUBLIC KEY").expect("spki der");
        assert_eq!(spki.len(), 44);
        assert!(spki.starts_with(&ED25519_SPKI_PREFIX));

        // The public half is derived again from a kept private key.
        let repaired = completed(SecretKind::Jwt, &[(JWT_PRIVATE, private)]);
        assert_eq!(&repaired.data[JWT_PUBLIC], public);
        assert_eq!(repaired.added, vec![JWT_PUBLIC]);
    }

    #[test]
    fn openssl_v1_private_keys_are_accepted() {
        // `openssl genpkey -algorithm ed25519` and its `openssl pkey -pubout`.
        let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINqurwOwqF9zaVXszSk1RfBqZzFNJL07MOIpWJfVMCXX\n-----END PRIVATE KEY-----\n";
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAoH8f796yftl1W0qqB2819WD7eahHiMyz9KRQ9nKUAlo=\n-----END PUBLIC KEY-----\n";
        assert_eq!(SystemSource::default().public_of(private).expect("derive"), public);
    }

    #[test]
    fn garbage_private_key_is_an_error_not_a_panic() {
        let existing = BTreeMap::from([(JWT_PRIVATE.to_string(), "nonsense".to_string())]);
        let result = complete(&shop("demo"), SecretKind::Jwt, &existing, &SystemSource::default());
        assert!(matches!(result, Err(SecretError::Unusable { key: JWT_PRIVATE, .. })), "{result:?}");
    }

    #[test]
    fn credentials_of_the_data_are_not_garbage_collected_with_the_shop() {
        let s = shop("demo");
        for plan in secret_plans(valid(&s)) {
            let data = complete(&s, plan.kind, &BTreeMap::new(), &PlaceholderSource).expect("complete").data;
            let owned = secret(&s, &plan, &data).metadata.owner_references.is_some();
            let with_data = matches!(plan.kind, SecretKind::Database(_) | SecretKind::Admin);
            assert_eq!(owned, !with_data, "{}: owned only when it is not a credential of the data", plan.name);
        }
    }

    #[test]
    fn a_new_password_re_derives_the_uri() {
        let stale = "postgres://orders:old@demo-orders-db:5432/orders";
        let done = completed(
            SecretKind::Database(Microservice::Orders),
            &[(DB_USERNAME, "orders"), (DB_NAME, "orders"), (DB_URI, stale), (DB_SUPERUSER_PASSWORD, "su")],
        );
        assert_ne!(done.data[DB_PASSWORD], "old");
        assert_eq!(
            done.data[DB_URI],
            format!("postgres://orders:{}@demo-orders-db:5432/orders", done.data[DB_PASSWORD])
        );
        assert_eq!(done.added, vec![DB_PASSWORD, DB_URI], "the password is new and the URI follows it");
    }

    #[test]
    fn external_mode_generates_no_database_secrets() {
        let external = crate::build::tests::external_shop("demo");
        let kinds: Vec<SecretKind> = secret_plans(valid(&external)).into_iter().map(|p| p.kind).collect();
        assert_eq!(kinds, vec![SecretKind::Jwt, SecretKind::ServiceClients, SecretKind::Admin]);
        assert_eq!(
            secret_plans(valid(&shop("demo"))).len(),
            8,
            "five databases (with the storefront's) and three more"
        );
    }
}
