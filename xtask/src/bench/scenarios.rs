//! The catalogue, the bench customer and the four scenarios, each as one HTTP request that
//! wrk repeats and the bench sends once (warm-up, then once more to capture its SQL).

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

/// The id of seeded product `n`: fixed, so a scenario names the same rows on every run.
pub fn product_id(n: u32) -> String {
    format!("00000000-0000-7000-8000-{n:012x}")
}

/// Adds products `from..=to` straight into the products database (the API would take
/// minutes for 100k rows), then refreshes the planner statistics.
pub async fn seed_products(products_url: &str, from: u32, to: u32) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(products_url).await.context("connecting to the products database")?;
    sqlx::query(
        "INSERT INTO products (id, sku, name, description, price_minor, currency, stock, category, created_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
                'BENCH-' || n,
                (ARRAY['Desk lamp','Oak table','Steel chair','Wool rug','Glass vase','Linen sheet','Copper kettle','Cotton towel'])[1 + n % 8] || ' ' || n,
                'Bench product ' || n || ', ' || (ARRAY['bright','sturdy','soft','elegant','compact'])[1 + n % 5] || ' and made to last.',
                100 + (n * 7919) % 100000, 'EUR', 100000000,
                (ARRAY['lighting','furniture','textiles','kitchen'])[1 + n % 4],
                now() - make_interval(secs => n)
         FROM generate_series($1::int, $2::int) AS n",
    )
    .bind(i32::try_from(from)?)
    .bind(i32::try_from(to)?)
    .execute(&mut conn)
    .await
    .context("seeding products")?;
    sqlx::raw_sql("ANALYZE products").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// The customer every authenticated scenario acts as.
pub struct Customer {
    /// Login email.
    pub email: String,
    /// Login password.
    pub password: String,
    /// User id.
    pub id: String,
    /// Access token.
    pub token: String,
}

/// Registers the bench customer and logs it in.
pub async fn customer(client: &reqwest::Client, users: &str) -> anyhow::Result<Customer> {
    let (email, password) = ("bench@microshop.local".to_owned(), "bench-password-4711".to_owned());
    let created = client
        .post(format!("{users}/users"))
        .json(&json!({"email": email, "password": password, "name": "Bench Customer"}))
        .send()
        .await?;
    if !created.status().is_success() {
        bail!("registering the bench customer: {} {}", created.status(), created.text().await.unwrap_or_default());
    }
    let id = created.json::<Value>().await?["id"].as_str().context("registration answered no id")?.to_owned();
    let login = client.post(format!("{users}/auth/login")).json(&json!({"email": email, "password": password}));
    let body: Value = login.send().await?.error_for_status()?.json().await?;
    let token = body["access_token"].as_str().context("login answered no token")?.to_owned();
    Ok(Customer { email, password, id, token })
}

/// One request, repeated.
pub struct Scenario {
    /// Short name (`get`, `search`, `order`, `login`).
    pub name: &'static str,
    /// The service it measures (its memory is reported).
    pub service: &'static str,
    /// Full URL.
    pub url: String,
    /// JSON body of a POST; GET when absent.
    pub body: Option<Value>,
    /// Bearer token to send.
    pub token: Option<String>,
    /// Whether each request carries a new `Idempotency-Key`.
    pub idempotency_key: bool,
    /// Ids that exist before the scenario (kept as they are in the pgbench replay).
    pub known_ids: Vec<String>,
}

impl Scenario {
    /// Sends the request once (with `key` as its idempotency key when it takes one).
    pub async fn send_once(&self, client: &reqwest::Client, key: &str) -> anyhow::Result<()> {
        let mut request = match &self.body {
            Some(body) => client.post(&self.url).json(body),
            None => client.get(&self.url),
        };
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if self.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            bail!("{} answered {}: {}", self.name, response.status(), response.text().await.unwrap_or_default());
        }
        Ok(())
    }

    /// The wrk Lua script: method, body, headers, a new idempotency key per request (thread
    /// number and counter, prefixed with `run` so runs never collide), and the p95 at the end.
    pub fn write_lua(&self, path: &Path, run: &str) -> anyhow::Result<()> {
        let mut lua = String::new();
        if let Some(body) = &self.body {
            lua.push_str(&format!("wrk.method = \"POST\"\nwrk.body = [[{body}]]\n"));
            lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        }
        if let Some(token) = &self.token {
            lua.push_str(&format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"));
        }
        if self.idempotency_key {
            lua.push_str(&format!(
                "local threads = 0\nfunction setup(thread) threads = threads + 1; thread:set(\"tid\", threads) end\n\
                 local counter = 0\nfunction request()\n  counter = counter + 1\n  \
                 wrk.headers[\"Idempotency-Key\"] = \"{run}-\" .. tostring(tid) .. \"-\" .. tostring(counter)\n  \
                 return wrk.format()\nend\n"
            ));
        }
        // wrk's --latency prints no 95th percentile; this hook does (microseconds).
        lua.push_str("function done(summary, latency, requests) io.write(string.format(\"p95_us %d\\n\", latency:percentile(95))) end\n");
        std::fs::write(path, lua)?;
        Ok(())
    }
}

/// The scenarios for a catalogue, against the services on `base(service)`.
pub fn all(base: &dyn Fn(&str) -> String, customer: &Customer) -> Vec<Scenario> {
    let (first, second) = (product_id(1), product_id(2));
    vec![
        Scenario {
            name: "get",
            service: "products",
            url: format!("{}/products/{}", base("products"), product_id(42)),
            body: None,
            token: None,
            idempotency_key: false,
            known_ids: vec![product_id(42)],
        },
        Scenario {
            name: "search",
            service: "products",
            url: format!("{}/products?q=lamp&limit=20", base("products")),
            body: None,
            token: None,
            idempotency_key: false,
            known_ids: Vec::new(),
        },
        Scenario {
            name: "order",
            service: "orders",
            url: format!("{}/orders", base("orders")),
            body: Some(json!({"items": [{"product_id": first, "quantity": 1}, {"product_id": second, "quantity": 2}]})),
            token: Some(customer.token.clone()),
            idempotency_key: true,
            known_ids: vec![first.clone(), second.clone(), customer.id.clone()],
        },
        Scenario {
            name: "login",
            service: "users",
            url: format!("{}/auth/login", base("users")),
            body: Some(json!({"email": customer.email, "password": customer.password})),
            token: None,
            idempotency_key: false,
            known_ids: vec![customer.id.clone()],
        },
    ]
}
