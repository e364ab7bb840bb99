//! Carts: a guest's belongs to their session, a shopper's to their account.

use sqlx::PgConnection;
use uuid::Uuid;

/// Whose cart.
#[derive(Debug, Clone)]
pub enum CartOwner {
    /// A guest, by session.
    Session(Vec<u8>),
    /// A logged-in account.
    User(Uuid),
}

/// One line: a product and how many.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartLine {
    pub product_id: Uuid,
    /// Units, 1-99.
    pub quantity: i32,
}

const OWNER_FILTER: &str =
    "(($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2))";

fn owner_binds(owner: &CartOwner) -> (Option<&[u8]>, Option<Uuid>) {
    match owner {
        CartOwner::Session(hash) => (Some(hash.as_slice()), None),
        CartOwner::User(id) => (None, Some(*id)),
    }
}

/// The owner's cart id, creating the cart when there is none.
async fn ensure_cart(conn: &mut PgConnection, owner: &CartOwner) -> Result<Uuid, sqlx::Error> {
    let (session, user) = owner_binds(owner);
    let conflict = if session.is_some() { "(session_id)" } else { "(user_id)" };
    sqlx::query_scalar(&format!(
        "INSERT INTO carts (id, session_id, user_id) VALUES ($3, $1, $2)
         ON CONFLICT {conflict} DO UPDATE SET updated_at = now() RETURNING id"
    ))
    .bind(session)
    .bind(user)
    .bind(Uuid::now_v7())
    .fetch_one(conn)
    .await
}

/// The lines, oldest first.
pub async fn lines(conn: &mut PgConnection, owner: &CartOwner) -> Result<Vec<CartLine>, sqlx::Error> {
    let (session, user) = owner_binds(owner);
    sqlx::query_as(&format!(
        "SELECT i.product_id, i.quantity FROM cart_items i JOIN carts c ON c.id = i.cart_id
         WHERE {OWNER_FILTER} ORDER BY i.added_at, i.product_id"
    ))
    .bind(session)
    .bind(user)
    .fetch_all(conn)
    .await
}

/// Units in the cart, for the header.
pub async fn unit_count(conn: &mut PgConnection, owner: &CartOwner) -> Result<i64, sqlx::Error> {
    let (session, user) = owner_binds(owner);
    sqlx::query_scalar(&format!(
        "SELECT coalesce(sum(i.quantity), 0)::bigint FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE {OWNER_FILTER}"
    ))
    .bind(session)
    .bind(user)
    .fetch_one(conn)
    .await
}

/// Adds `quantity` units (capped at 99 per product).
pub async fn add(
    conn: &mut PgConnection,
    owner: &CartOwner,
    product_id: Uuid,
    quantity: i32,
) -> Result<(), sqlx::Error> {
    let cart = ensure_cart(conn, owner).await?;
    sqlx::query(
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)
         ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)",
    )
    .bind(cart)
    .bind(product_id)
    .bind(quantity)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Sets a line's quantity (the line must exist).
pub async fn set_quantity(
    conn: &mut PgConnection,
    owner: &CartOwner,
    product_id: Uuid,
    quantity: i32,
) -> Result<(), sqlx::Error> {
    let (session, user) = owner_binds(owner);
    sqlx::query(&format!(
        "UPDATE cart_items i SET quantity = $4 FROM carts c WHERE c.id = i.cart_id AND {OWNER_FILTER} AND i.product_id = $3"
    ))
    .bind(session)
    .bind(user)
    .bind(product_id)
    .bind(quantity)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Removes a line.
pub async fn remove(conn: &mut PgConnection, owner: &CartOwner, product_id: Uuid) -> Result<(), sqlx::Error> {
    let (session, user) = owner_binds(owner);
    sqlx::query(&format!(
        "DELETE FROM cart_items i USING carts c WHERE c.id = i.cart_id AND {OWNER_FILTER} AND i.product_id = $3"
    ))
    .bind(session)
    .bind(user)
    .bind(product_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Empties the cart (after the order was placed).
pub async fn clear(conn: &mut PgConnection, owner: &CartOwner) -> Result<(), sqlx::Error> {
    let (session, user) = owner_binds(owner);
    sqlx::query(&format!("DELETE FROM carts c WHERE {OWNER_FILTER}"))
        .bind(session)
        .bind(user)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Moves a guest session's lines into the user's cart (quantities add up, capped at 99), then
/// drops the guest cart.
pub async fn merge_guest_cart(conn: &mut PgConnection, session: &[u8], user_id: Uuid) -> Result<(), sqlx::Error> {
    let guest: Option<Uuid> = sqlx::query_scalar("SELECT id FROM carts WHERE session_id = $1")
        .bind(session)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(guest) = guest else { return Ok(()) };
    let cart = ensure_cart(conn, &CartOwner::User(user_id)).await?;
    sqlx::query(
        "INSERT INTO cart_items (cart_id, product_id, quantity, added_at)
         SELECT $2, product_id, quantity, added_at FROM cart_items WHERE cart_id = $1
         ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)",
    )
    .bind(guest)
    .bind(cart)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM carts WHERE id = $1").bind(guest).execute(conn).await.map(|_| ())
}
