//! `users`: serve the API, or `users openapi` to print the OpenAPI spec.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", shopkit::server::spec_json(&users::openapi(), &users::api::schema_rules()));
        return Ok(());
    }
    users::serve_from_env().await
}
