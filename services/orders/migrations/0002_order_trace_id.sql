-- The trace id of the request that placed the order, so any order can be found in Jaeger.
ALTER TABLE orders ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');
