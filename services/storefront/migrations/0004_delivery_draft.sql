-- The delivery a shopper entered at checkout (address and method, a JSON object in the shape
-- orders takes), kept with the session between the delivery form, the review page and placing
-- the order, so each step is a GET after a redirect and Back or Reload resends nothing.
ALTER TABLE sessions ADD COLUMN delivery text CHECK (delivery IS NULL OR json_typeof(delivery::json) = 'object');
