-- A picture of the product: an absolute http(s) URL, or a path on the storefront's origin
-- (`/images/...`) for images the storefront serves itself. NULL: the storefront draws one.
ALTER TABLE products
    ADD COLUMN image_url text
        CHECK (image_url IS NULL OR (char_length(image_url) <= 2000 AND image_url ~ '^(https?://[^\s<>"]+|/[^/\s<>"][^\s<>"]*)$'));
