-- Contact history and do-not-call in `customer_facts`, so that "contacted (not) within N
-- days", "last disposition" and "do not call" read the narrow row instead of rebuilding
-- them from `contact_attempts` / `do_not_call` in every preview. Kept in step by triggers
-- (same transaction, so exact); the RFM refresh also re-derives them (a repair for rows
-- written with triggers off). See docs/segments.md ("How previews stay fast").

ALTER TABLE customer_facts
    ADD COLUMN last_contacted_at    timestamptz,   -- the latest attempt, any outcome
    ADD COLUMN last_disposition     text,          -- of the latest attempt with a disposition
    ADD COLUMN last_disposition_at  timestamptz,   -- ... its `at` and `id` (the order key:
    ADD COLUMN last_disposition_id  bigint,        --     latest `at`, then highest id)
    ADD COLUMN dnc                  boolean NOT NULL DEFAULT false;  -- phone on any list

UPDATE customer_facts f SET last_contacted_at = x.at
FROM (SELECT customer_id, max(at) AS at FROM contact_attempts GROUP BY customer_id) x
WHERE f.id = x.customer_id;

UPDATE customer_facts f
SET last_disposition = x.disposition, last_disposition_at = x.at, last_disposition_id = x.id
FROM (SELECT DISTINCT ON (customer_id) customer_id, id, at, disposition
      FROM contact_attempts WHERE disposition IS NOT NULL
      ORDER BY customer_id, at DESC, id DESC) x
WHERE f.id = x.customer_id;

UPDATE customer_facts f SET dnc = true
WHERE f.phone_e164 IN (SELECT d.phone_e164 FROM do_not_call d);

-- One attempt (the live dialer writes one row per statement): one single-row UPDATE by
-- primary key, and only when the attempt is the customer's latest. Touches no indexed
-- column, so the update stays HOT. Concurrent attempts of one customer queue on the row
-- lock and each re-reads the row it updates (GREATEST / the order-key test), so the
-- result does not depend on commit order.
CREATE FUNCTION crm_facts_contact_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_facts f
    SET last_contacted_at = GREATEST(f.last_contacted_at, NEW.at),
        last_disposition = CASE WHEN NEW.disposition IS NOT NULL AND
            (f.last_disposition_at IS NULL
             OR (NEW.at, NEW.id) > (f.last_disposition_at, f.last_disposition_id))
            THEN NEW.disposition ELSE f.last_disposition END,
        last_disposition_id = CASE WHEN NEW.disposition IS NOT NULL AND
            (f.last_disposition_at IS NULL
             OR (NEW.at, NEW.id) > (f.last_disposition_at, f.last_disposition_id))
            THEN NEW.id ELSE f.last_disposition_id END,
        last_disposition_at = CASE WHEN NEW.disposition IS NOT NULL AND
            (f.last_disposition_at IS NULL
             OR (NEW.at, NEW.id) > (f.last_disposition_at, f.last_disposition_id))
            THEN NEW.at ELSE f.last_disposition_at END
    WHERE f.id = NEW.customer_id
      AND (f.last_contacted_at IS NULL OR NEW.at > f.last_contacted_at
           OR (NEW.disposition IS NOT NULL AND
               (f.last_disposition_at IS NULL
                OR (NEW.at, NEW.id) > (f.last_disposition_at, f.last_disposition_id))));
    RETURN NULL;
END $$;

CREATE TRIGGER contact_attempts_facts AFTER INSERT ON contact_attempts
    FOR EACH ROW EXECUTE FUNCTION crm_facts_contact_attempt();

-- Do-not-call changes (statement level: an import's bulk upsert is one call). A phone
-- belongs to at most one customer (customers.phone_e164 is unique and indexed). The
-- customers' segment rows are locked first, then `dnc` is recomputed in a new statement
-- (a new snapshot under READ COMMITTED): of two transactions changing one phone's entries,
-- the second to lock sees the first's committed change, so the flag ends exact.
CREATE FUNCTION crm_facts_refresh_dnc(phones text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM customer_facts f JOIN customers c ON c.id = f.id
    WHERE c.phone_e164 = ANY (phones)
    ORDER BY f.id FOR UPDATE OF f;
    UPDATE customer_facts f
    SET dnc = EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = f.phone_e164)
    FROM customers c
    WHERE c.phone_e164 = ANY (phones) AND f.id = c.id
      AND f.dnc IS DISTINCT FROM
          EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = f.phone_e164);
END $$;

CREATE FUNCTION crm_facts_dnc_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm_facts_refresh_dnc(ARRAY(SELECT DISTINCT phone_e164 FROM new_rows));
    RETURN NULL;
END $$;

CREATE FUNCTION crm_facts_dnc_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm_facts_refresh_dnc(ARRAY(SELECT DISTINCT phone_e164 FROM old_rows));
    RETURN NULL;
END $$;

CREATE FUNCTION crm_facts_dnc_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm_facts_refresh_dnc(ARRAY(SELECT phone_e164 FROM new_rows
                                        UNION SELECT phone_e164 FROM old_rows));
    RETURN NULL;
END $$;

CREATE TRIGGER do_not_call_facts_insert AFTER INSERT ON do_not_call
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_facts_dnc_added();
CREATE TRIGGER do_not_call_facts_delete AFTER DELETE ON do_not_call
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_facts_dnc_removed();
CREATE TRIGGER do_not_call_facts_update AFTER UPDATE ON do_not_call
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_facts_dnc_updated();

-- Customers: the existing statement triggers (0032) now also set `dnc` for the rows they
-- write, one do_not_call primary-key probe per inserted or updated customer (a new
-- customer whose phone is already listed, a changed phone).
CREATE OR REPLACE FUNCTION crm_sync_customer_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_facts AS f (id, phone_e164, region, gender, birth_date,
                                     consent_marketing, consent_night, dnc)
    SELECT n.id, n.phone_e164, n.region, n.gender, n.birth_date, n.consent_marketing,
           n.consent_night,
           EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = n.phone_e164)
    FROM new_rows n
    ON CONFLICT (id) DO UPDATE SET
        phone_e164 = EXCLUDED.phone_e164, region = EXCLUDED.region, gender = EXCLUDED.gender,
        birth_date = EXCLUDED.birth_date, consent_marketing = EXCLUDED.consent_marketing,
        consent_night = EXCLUDED.consent_night, dnc = EXCLUDED.dnc
    WHERE (f.phone_e164, f.region, f.gender, f.birth_date, f.consent_marketing,
           f.consent_night, f.dnc)
          IS DISTINCT FROM (EXCLUDED.phone_e164, EXCLUDED.region, EXCLUDED.gender,
                            EXCLUDED.birth_date, EXCLUDED.consent_marketing,
                            EXCLUDED.consent_night, EXCLUDED.dnc);
    RETURN NULL;
END $$;
