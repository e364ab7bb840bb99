-- An absolute picture URL must name a host: letters, digits, dots and hyphens, with an optional
-- port, then a path, query or fragment. Before this, `http://[` or `https://user@x` passed the
-- shape check: neither is a picture address a browser (or a URL parser) accepts. NOT VALID: rows
-- written before are not re-checked; every new or changed value is.
ALTER TABLE products DROP CONSTRAINT products_image_url_check;
ALTER TABLE products ADD CONSTRAINT products_image_url_check CHECK (
    image_url IS NULL OR (
        char_length(image_url) <= 2000
        AND image_url ~ '^(https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?([/?#][^\s<>"]*)?|/[^/\s<>"][^\s<>"]*)$'
    )
) NOT VALID;
