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
#[derive(Debug, Clone)]
pub struct CartLine {
    pub product_id: Uuid,
    /// Units, 1-99.
    pub quantity: i32,
}

// Every statement on "the owner's cart" takes the owner as $1 (a guest's session hash) or $2
// (an account), the other one NULL, and filters carts `c` with
// `(($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2))`,
// written out in each statement so that `query!` checks it.

fn owner_binds(owner: &CartOwner) -> (Option<&[u8]>, Option<Uuid>) {
    match owner {
        CartOwner::Session(hash) => (Some(hash.as_slice()), None),
        CartOwner::User(id) => (None, Some(*id)),
    }
}

/// The owner's cart id, creating the cart when there is none.
async fn ensure_cart(conn: &mut PgConnection, owner: &CartOwner) -> Result<Uuid, sqlx::Error> {
    match owner {
        CartOwner::Session(session) => {
            sqlx::query_scalar!(
                "INSERT INTO carts (id, session_id) VALUES ($1, $2)
             ON CONFLICT (session_id) DO UPDATE SET updated_at = now() RETURNING id",
                Uuid::now_v7(),
                session
            )
            .fetch_one(conn)
            .await
        }
        CartOwner::User(user) => {
            sqlx::query_scalar!(
                "INSERT INTO carts (id, user_id) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET updated_at = now() RETURNING id",
                Uuid::now_v7(),
                user
            )
            .fetch_one(conn)
            .await
        }
    }
}

/// The lines, oldest first.
pub async fn lines(conn: &mut PgConnection, owner: &CartOwner) -> Result<Vec<CartLine>, sqlx::Error> {
    shopkit::dbop::traced("SELECT cart_items", async move {
        let (session, user) = owner_binds(owner);
        sqlx::query_as!(
            CartLine,
            "SELECT i.product_id, i.quantity FROM cart_items i JOIN carts c ON c.id = i.cart_id
         WHERE (($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2))
         ORDER BY i.added_at, i.product_id",
            session,
            user
        )
        .fetch_all(conn)
        .await
    })
    .await
}

/// Units in the cart, for the header.
pub async fn unit_count(conn: &mut PgConnection, owner: &CartOwner) -> Result<i64, sqlx::Error> {
    shopkit::dbop::traced("SELECT cart_items", async move {
        let (session, user) = owner_binds(owner);
        sqlx::query_scalar!(
        r#"SELECT coalesce(sum(i.quantity), 0)::bigint AS "units!" FROM cart_items i JOIN carts c ON c.id = i.cart_id
         WHERE (($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2))"#,
        session,
        user
    )
    .fetch_one(conn)
    .await
    })
    .await
}

/// Adds `quantity` units (capped at 99 per product).
pub async fn add(
    conn: &mut PgConnection,
    owner: &CartOwner,
    product_id: Uuid,
    quantity: i32,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("INSERT cart_items", async move {
        let cart = ensure_cart(conn, owner).await?;
        sqlx::query!(
            "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)
         ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)",
            cart,
            product_id,
            quantity
        )
        .execute(conn)
        .await
        .map(|_| ())
    })
    .await
}

/// Sets a line's quantity (the line must exist).
pub async fn set_quantity(
    conn: &mut PgConnection,
    owner: &CartOwner,
    product_id: Uuid,
    quantity: i32,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE cart_items", async move {
    let (session, user) = owner_binds(owner);
    sqlx::query!(
        "UPDATE cart_items i SET quantity = $4 FROM carts c
         WHERE c.id = i.cart_id AND (($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2)) AND i.product_id = $3",
        session,
        user,
        product_id,
        quantity
    )
    .execute(conn)
    .await
    .map(|_| ())
    })
    .await
}

/// Removes a line.
pub async fn remove(conn: &mut PgConnection, owner: &CartOwner, product_id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE cart_items", async move {
    let (session, user) = owner_binds(owner);
    sqlx::query!(
        "DELETE FROM cart_items i USING carts c
         WHERE c.id = i.cart_id AND (($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2)) AND i.product_id = $3",
        session,
        user,
        product_id
    )
    .execute(conn)
    .await
    .map(|_| ())
    })
    .await
}

/// Empties the cart (the account is deleted).
pub async fn clear(conn: &mut PgConnection, owner: &CartOwner) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE carts", async move {
    let (session, user) = owner_binds(owner);
    sqlx::query!("DELETE FROM carts c WHERE (($1::bytea IS NOT NULL AND c.session_id = $1) OR ($2::uuid IS NOT NULL AND c.user_id = $2))", session, user)
        .execute(conn)
        .await
        .map(|_| ())
    })
    .await
}

/// Moves a guest session's lines into the user's cart (quantities add up, capped at 99), then
/// drops the guest cart.
pub async fn merge_guest_cart(conn: &mut PgConnection, session: &[u8], user_id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("INSERT cart_items DELETE carts", async move {
        let guest = sqlx::query_scalar!("SELECT id FROM carts WHERE session_id = $1", session)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(guest) = guest else { return Ok(()) };
        let cart = ensure_cart(conn, &CartOwner::User(user_id)).await?;
        sqlx::query!(
            "INSERT INTO cart_items (cart_id, product_id, quantity, added_at)
         SELECT $2, product_id, quantity, added_at FROM cart_items WHERE cart_id = $1
         ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)",
            guest,
            cart
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!("DELETE FROM carts WHERE id = $1", guest).execute(conn).await.map(|_| ())
    })
    .await
}

/// The order the last checkout of `user_id`'s cart placed and that is not paid yet, if any.
pub async fn checkout_order(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    shopkit::dbop::traced("SELECT carts", async move {
        let found = sqlx::query_scalar!("SELECT checkout_order FROM carts WHERE user_id = $1", user_id)
            .fetch_optional(conn)
            .await?;
        Ok(found.flatten())
    })
    .await
}

/// Records (or, with `None`, forgets) the order a checkout of `user_id`'s cart placed.
pub async fn set_checkout_order(
    conn: &mut PgConnection,
    user_id: Uuid,
    order_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE carts", async move {
        sqlx::query!("UPDATE carts SET checkout_order = $2 WHERE user_id = $1", user_id, order_id)
            .execute(conn)
            .await
            .map(|_| ())
    })
    .await
}

/// The order `order_id` was paid: if it is the one `user_id`'s cart checked out, the quantities it
/// bought leave the cart (lines added since stay) and the cart forgets the order. One
/// transaction, so a line is never taken out twice. Returns whether the cart had that order.
pub async fn settle(
    conn: &mut PgConnection,
    user_id: Uuid,
    order_id: Uuid,
    bought: &[(Uuid, i32)],
) -> Result<bool, sqlx::Error> {
    shopkit::dbop::traced("UPDATE carts DELETE cart_items UPDATE cart_items", async move {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let cart = sqlx::query_scalar!(
            "UPDATE carts SET checkout_order = NULL, updated_at = now()
             WHERE user_id = $1 AND checkout_order = $2 RETURNING id",
            user_id,
            order_id
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(cart) = cart else { return Ok(false) };
        let products: Vec<Uuid> = bought.iter().map(|(id, _)| *id).collect();
        let quantities: Vec<i32> = bought.iter().map(|(_, q)| *q).collect();
        sqlx::query!(
            "DELETE FROM cart_items i USING unnest($2::uuid[], $3::int4[]) AS b(product_id, quantity)
             WHERE i.cart_id = $1 AND i.product_id = b.product_id AND i.quantity <= b.quantity",
            cart,
            &products,
            &quantities
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE cart_items i SET quantity = i.quantity - b.quantity
             FROM unnest($2::uuid[], $3::int4[]) AS b(product_id, quantity)
             WHERE i.cart_id = $1 AND i.product_id = b.product_id",
            cart,
            &products,
            &quantities
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    })
    .await
}
