-- Relevance search whose cost does not grow with the number of matches (store/relevance.rs).
-- A search ranks products in tiers (exact name, name prefix, words in the name, corrected
-- words in the name, words anywhere); each tier needs an index of its own.

-- The name's words alone, so "in the name" is an index lookup with its own statistics (a
-- weight-restricted query on search_vector is estimated, and scanned, as if it matched the
-- description too).
ALTER TABLE products ADD COLUMN name_vector tsvector GENERATED ALWAYS AS (to_tsvector('english', name)) STORED;
CREATE INDEX products_name_words ON products USING gin (name_vector) WHERE deleted_at IS NULL;

-- Exact and prefix name matches. text_pattern_ops compares bytes, so a prefix is a range.
CREATE INDEX products_name_lower ON products (lower(name) text_pattern_ops) WHERE deleted_at IS NULL;

-- Typos are no longer matched against every name: the trigram index over 100k names made a
-- search touch thousands of rows that merely share three letters with the query.
DROP INDEX products_name_trgm;

-- Every word (letters only, 3 to 40) that is or was in a product name: the vocabulary typos
-- are corrected against. Thousands of rows where the catalogue has millions of products.
-- Words are never removed: a stale word can only propose a correction that matches nothing.
CREATE TABLE product_name_words (
    word text PRIMARY KEY CHECK (word ~ '^[[:alpha:]]{3,40}$')
);
CREATE INDEX product_name_words_trgm ON product_name_words USING gin (word gin_trgm_ops);

CREATE FUNCTION product_name_words_of(name text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT w FROM regexp_split_to_table(lower(name), '[^[:alpha:]]+') AS w
    WHERE char_length(w) BETWEEN 3 AND 40
$$;

-- Words go in sorted order, so two transactions adding the same words cannot wait on each
-- other in a cycle.
CREATE FUNCTION product_name_words_add_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO product_name_words (word)
    SELECT DISTINCT w FROM inserted, product_name_words_of(inserted.name) AS w ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION product_name_words_add_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO product_name_words (word)
    SELECT w FROM product_name_words_of(NEW.name) AS w ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER products_name_words_inserted AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION product_name_words_add_inserted();
-- Only a rename fires this one: the stock updates of every order do not.
CREATE TRIGGER products_name_words_renamed AFTER UPDATE OF name ON products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION product_name_words_add_renamed();

INSERT INTO product_name_words (word)
SELECT DISTINCT w FROM products, product_name_words_of(products.name) AS w ORDER BY w
ON CONFLICT DO NOTHING;

-- The query that finds names with a misspelt word: every word of `q` or one of the five name
-- words closest to it (pg_trgm similarity above pg_trgm.similarity_threshold) or a name word
-- it becomes by swapping two neighbouring letters. NULL when no
-- word has a correction (the plain query already says everything), when `q` has more than
-- ten words, or when it uses search syntax (quotes, `or`, `-word`), which is taken literally.
CREATE FUNCTION product_typo_query(q text) RETURNS tsquery
LANGUAGE plpgsql STABLE AS $$
DECLARE
    words text[];
    groups text[] := '{}';
    alternatives text;
    corrected boolean := false;
    word_corrected boolean;
    w text;
BEGIN
    IF q ~ '"' OR q ~ '(^|\s)-' OR q ~* '(^|\s)or(\s|$)' THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT t) INTO words
    FROM regexp_split_to_table(lower(q), '[^[:alnum:]]+') AS t WHERE t <> '';
    IF words IS NULL OR cardinality(words) > 10 THEN
        RETURN NULL;
    END IF;
    FOREACH w IN ARRAY words LOOP
        SELECT string_agg(a, ' | '), bool_or(a <> w) INTO alternatives, word_corrected
        FROM (SELECT w AS a
              UNION
              (SELECT word FROM product_name_words WHERE word % w
               ORDER BY similarity(word, w) DESC, word LIMIT 5)
              UNION
              -- Two neighbouring letters swapped ("lmap") share too few trigrams with the
              -- word ("lamp"): look those up by name.
              SELECT word FROM product_name_words
              WHERE word IN (SELECT substr(w, 1, i - 1) || substr(w, i + 1, 1) || substr(w, i, 1) || substr(w, i + 2)
                             FROM generate_series(1, char_length(w) - 1) AS i)) AS alts;
        corrected := corrected OR word_corrected;
        groups := groups || ('(' || alternatives || ')');
    END LOOP;
    IF NOT corrected THEN
        RETURN NULL;
    END IF;
    RETURN to_tsquery('english', array_to_string(groups, ' & '));
END $$;
