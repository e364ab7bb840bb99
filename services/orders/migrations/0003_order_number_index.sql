-- People read an order by its number: the last eight hex digits of its id (the first ones are
-- a UUIDv7 timestamp and look alike). Staff search by it; this index keeps that a lookup.
CREATE INDEX orders_number ON orders ((right(replace(id::text, '-', ''), 8)));
