-- The order a checkout placed for this cart that is not paid yet. The cart keeps its lines until
-- that order is paid (its lines then leave the cart), so a declined card or a shopper who walks
-- away finds the cart as they left it; checking out again cancels this order (its stock goes
-- back) and places a new one from the cart. Only an account's cart can check out.
ALTER TABLE carts ADD COLUMN checkout_order uuid;
ALTER TABLE carts ADD CONSTRAINT carts_checkout_needs_user CHECK (checkout_order IS NULL OR user_id IS NOT NULL);
