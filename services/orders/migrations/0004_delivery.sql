-- Delivery: where an order goes, how, and what that costs. The rates and VAT rates are a
-- simulation for the demo (documented in docs/storefront.md), kept as data so a shop changes
-- them with SQL, not a release. Catalogue prices include VAT, as EU shops show them; an order
-- records the VAT rate of its destination so the VAT it contains can be stated.
CREATE TABLE delivery_countries (
    country          char(2) PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
    name             text    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    vat_basis_points integer NOT NULL CHECK (vat_basis_points BETWEEN 0 AND 10000)
);

CREATE TABLE shipping_rates (
    country          char(2) NOT NULL REFERENCES delivery_countries (country),
    method           text    NOT NULL CHECK (method IN ('standard', 'express')),
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price_minor      bigint  NOT NULL CHECK (price_minor >= 0),
    -- Orders whose items cost at least this ship free by this method; NULL: never free.
    free_from_minor  bigint  CHECK (free_from_minor > 0),
    days_min         integer NOT NULL CHECK (days_min >= 1),
    days_max         integer NOT NULL,
    PRIMARY KEY (country, method, currency),
    CHECK (days_max >= days_min)
);

-- One row per order that is delivered: the address and method as the customer gave them when
-- placing it (a snapshot, like the lines), the shipping price charged and the VAT rate applied.
-- The order's total_minor includes shipping_minor.
CREATE TABLE order_deliveries (
    order_id         uuid    PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    recipient        text    NOT NULL CHECK (char_length(recipient) BETWEEN 1 AND 100),
    line1            text    NOT NULL CHECK (char_length(line1) BETWEEN 1 AND 200),
    line2            text    NOT NULL DEFAULT '' CHECK (char_length(line2) <= 200),
    postal_code      text    NOT NULL CHECK (char_length(postal_code) BETWEEN 1 AND 20),
    city             text    NOT NULL CHECK (char_length(city) BETWEEN 1 AND 100),
    country          char(2) NOT NULL REFERENCES delivery_countries (country),
    method           text    NOT NULL CHECK (method IN ('standard', 'express')),
    shipping_minor   bigint  NOT NULL CHECK (shipping_minor >= 0),
    vat_basis_points integer NOT NULL CHECK (vat_basis_points BETWEEN 0 AND 10000),
    days_min         integer NOT NULL CHECK (days_min >= 1),
    days_max         integer NOT NULL,
    CHECK (days_max >= days_min)
);

INSERT INTO delivery_countries (country, name, vat_basis_points) VALUES
    ('AT', 'Austria', 2000), ('BE', 'Belgium', 2100), ('DE', 'Germany', 1900), ('ES', 'Spain', 2100),
    ('FR', 'France', 2000), ('IE', 'Ireland', 2300), ('IT', 'Italy', 2200), ('LU', 'Luxembourg', 1700),
    ('NL', 'Netherlands', 2100), ('PT', 'Portugal', 2300);

-- Standard: 4.90 EUR, free from 50 EUR of items, 2-4 days (3-6 outside France); express:
-- 12.90 EUR, 1-2 days, never free.
INSERT INTO shipping_rates (country, method, currency, price_minor, free_from_minor, days_min, days_max)
SELECT country, 'standard', 'EUR', 490, 5000, CASE WHEN country = 'FR' THEN 2 ELSE 3 END,
       CASE WHEN country = 'FR' THEN 4 ELSE 6 END
FROM delivery_countries
UNION ALL
SELECT country, 'express', 'EUR', 1290, NULL, 1, 2 FROM delivery_countries;
