-- Segment previews read one narrow row per customer instead of joining customers to the
-- purchase summary, and "bought product/category" reads a per-customer per-product
-- summary instead of every order line. See docs/segments.md ("How previews stay fast").

-- One row for EVERY customer: the columns segment filters test. The customer columns are
-- kept in step with `customers` by the triggers below (same transaction, so exact); the
-- purchase columns are copied from `customer_stats` by the RFM refresh (zeros and NULL
-- scores for customers with no counted purchase, as the filters read them).
CREATE TABLE customer_facts (
    id                 bigint PRIMARY KEY,  -- customers.id; no foreign key (see below)
    phone_e164         text NOT NULL,
    region             text,
    gender             char(1),
    birth_date         date,
    consent_marketing  boolean NOT NULL,
    consent_night      boolean NOT NULL,
    order_count        integer NOT NULL DEFAULT 0,
    total_spend_krw    bigint NOT NULL DEFAULT 0,
    last_purchase_at   timestamptz,
    rfm_r              smallint,
    rfm_f              smallint,
    rfm_m              smallint
);

INSERT INTO customer_facts (id, phone_e164, region, gender, birth_date, consent_marketing,
                            consent_night, order_count, total_spend_krw, last_purchase_at,
                            rfm_r, rfm_f, rfm_m)
SELECT c.id, c.phone_e164, c.region, c.gender, c.birth_date, c.consent_marketing,
       c.consent_night, COALESCE(s.order_count, 0), COALESCE(s.total_spend_krw, 0),
       s.last_purchase_at, s.rfm_r, s.rfm_f, s.rfm_m
FROM customers c LEFT JOIN customer_stats s ON s.customer_id = c.id;

-- Statement-level triggers with transition tables: a CSV import of 100 000 customers
-- costs one extra INSERT ... SELECT, not 100 000 trigger calls.
CREATE FUNCTION crm_sync_customer_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_facts AS f (id, phone_e164, region, gender, birth_date,
                                     consent_marketing, consent_night)
    SELECT n.id, n.phone_e164, n.region, n.gender, n.birth_date, n.consent_marketing,
           n.consent_night
    FROM new_rows n
    ON CONFLICT (id) DO UPDATE SET
        phone_e164 = EXCLUDED.phone_e164, region = EXCLUDED.region, gender = EXCLUDED.gender,
        birth_date = EXCLUDED.birth_date, consent_marketing = EXCLUDED.consent_marketing,
        consent_night = EXCLUDED.consent_night
    WHERE (f.phone_e164, f.region, f.gender, f.birth_date, f.consent_marketing,
           f.consent_night)
          IS DISTINCT FROM (EXCLUDED.phone_e164, EXCLUDED.region, EXCLUDED.gender,
                            EXCLUDED.birth_date, EXCLUDED.consent_marketing,
                            EXCLUDED.consent_night);
    RETURN NULL;
END $$;

CREATE TRIGGER customers_facts_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_sync_customer_facts();
CREATE TRIGGER customers_facts_update AFTER UPDATE ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_sync_customer_facts();

-- A trigger rather than a foreign key: checking a key per row made the refresh's bulk
-- insert of a million rows take minutes.
CREATE FUNCTION crm_drop_customer_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customer_facts f USING old_rows o WHERE f.id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER customers_facts_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_drop_customer_facts();

-- Per customer and product: the last counted purchase (an order not cancelled or expired,
-- a line not fully cancelled) and how many such orders. Rebuilt by the RFM refresh for the
-- customers whose orders changed; filters add the orders changed since (exact answers).
-- Derived data without foreign keys (millions of rows): customers with orders and products
-- with SKUs cannot be deleted anyway.
CREATE TABLE customer_product_purchases (
    customer_id  bigint NOT NULL,
    product_id   bigint NOT NULL,
    last_at      timestamptz NOT NULL,
    orders       integer NOT NULL,
    PRIMARY KEY (customer_id, product_id)
);
-- "Bought product P (within N days)": an index-only range scan per product.
CREATE INDEX customer_product_purchases_product_idx
    ON customer_product_purchases (product_id, last_at) INCLUDE (customer_id);

-- The orders changed since a refresh: new ones by placed_at (indexed), changed ones
-- (cancellations, line cancellations: the orders domain bumps updated_at) by updated_at.
CREATE INDEX orders_updated_at_idx ON orders (updated_at);

-- The latest disposition per customer reads this index in order, without a sort.
CREATE INDEX contact_attempts_last_disposition_idx
    ON contact_attempts (customer_id, at DESC) INCLUDE (disposition)
    WHERE disposition IS NOT NULL;

-- When `customer_product_purchases` was last brought up to date (one row, none before the
-- first refresh).
CREATE TABLE purchase_summary_state (
    only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    refreshed_at  timestamptz NOT NULL
);

-- Orders placed or changed at or after this time may be missing from the summary: its last
-- refresh time minus 10 minutes, the longest an order transaction is assumed to stay open
-- (a refresh cannot see orders still uncommitted when it reads). -infinity before the
-- first refresh. STABLE, so the planner evaluates it while planning and can estimate
-- "orders changed since" as the handful of rows it is.
CREATE FUNCTION crm_purchases_settled_until() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(max(refreshed_at) - interval '10 minutes', '-infinity')
    FROM purchase_summary_state
$$;
