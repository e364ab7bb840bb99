-- The catalogue. Rows are soft-deleted (deleted_at) so that reservations and the order
-- snapshots other services keep still point at a real product; live-row indexes are partial.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
    id            uuid PRIMARY KEY,
    sku           text        NOT NULL CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{1,63}$'),
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description   text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    -- Money in integer minor units (cents), never floating point.
    price_minor   bigint      NOT NULL CHECK (price_minor >= 0),
    currency      char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Units available for sale; reservations take units out of it, so it can never go negative.
    stock         integer     NOT NULL CHECK (stock >= 0),
    category      text        NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    search_vector tsvector    GENERATED ALWAYS AS (
                      setweight(to_tsvector('english', name), 'A') ||
                      setweight(to_tsvector('english', description), 'B')) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

-- A SKU identifies one live product; a deleted product's SKU may be reused.
CREATE UNIQUE INDEX products_sku_live ON products (sku) WHERE deleted_at IS NULL;
-- Full-text search and typo-tolerant name matching.
CREATE INDEX products_search_gin ON products USING gin (search_vector) WHERE deleted_at IS NULL;
CREATE INDEX products_name_trgm ON products USING gin (name gin_trgm_ops) WHERE deleted_at IS NULL;
-- Keyset pagination for each sort order, with and without a category filter.
CREATE INDEX products_newest ON products (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_price ON products (price_minor, id) WHERE deleted_at IS NULL;
CREATE INDEX products_name ON products (name, id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_newest ON products (category, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_category_price ON products (category, price_minor, id) WHERE deleted_at IS NULL;
