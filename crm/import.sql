-- Customer and do-not-call imports: staging tables, the per-batch merge, run bookkeeping.

-- create_customer_stage --
-- A per-connection staging table for one batch of customer rows; emptied at each commit.
CREATE TEMP TABLE IF NOT EXISTS crm_customer_stage (
    line          integer NOT NULL,
    phone_e164    text PRIMARY KEY,
    phone_type    text NOT NULL,
    external_ref  text,
    name          text,
    email         text,
    address       text,
    postal_code   text,
    region        text,
    birth_date    date,
    gender        char(1),
    consent       boolean
) ON COMMIT DELETE ROWS;

-- create_dnc_stage --
-- A per-connection staging table for one batch of do-not-call numbers; emptied at each commit.
CREATE TEMP TABLE IF NOT EXISTS crm_dnc_stage (
    line           integer NOT NULL,
    phone_e164     text PRIMARY KEY,
    registered_on  date
) ON COMMIT DELETE ROWS;

-- tune_batch --
-- Settings for one batch's transaction. No arguments. Not waiting for the WAL flush at commit
-- keeps every batch atomic; a crash can lose the last committed batches, which a rerun
-- imports again. Per-batch statements are short: JIT compiling them costs more than it saves.
SET LOCAL synchronous_commit = off; SET LOCAL jit = off; SET LOCAL work_mem = '64MB';

-- may_skip_triggers --
-- Whether this session may set session_replication_role (superusers only). No arguments.
SELECT current_setting('is_superuser') = 'on';

-- skip_triggers --
-- Until skip_triggers_end, in this transaction: no triggers, foreign key checks included.
-- Only for rows whose references hold by construction. No arguments.
SET LOCAL session_replication_role = replica;

-- skip_triggers_end --
-- Triggers and foreign key checks again. No arguments.
SET LOCAL session_replication_role = origin;

-- existing_phones --
-- Which of these phones already belong to a customer. $1 phones (text[])
SELECT phone_e164 FROM customers WHERE phone_e164 = ANY($1::text[]);

-- ref_owners --
-- The phone of the customer holding each of these external ids. $1 external ids (text[])
SELECT external_ref, phone_e164 FROM customers WHERE external_ref = ANY($1::text[]);

-- next_customer_ids --
-- Ids for new customers written with COPY (their consent rows need them). $1 how many
SELECT array(SELECT nextval('customers_id_seq') FROM generate_series(1, $1));

-- stage_ref_conflicts --
-- Staged external ids that already belong to a customer with another phone. No arguments.
-- (LATERAL ... LIMIT 1 keeps it an index probe per staged row: a plain join lets the planner
-- hash the whole customers table for every batch.)
SELECT s.line, s.phone_e164, s.external_ref
FROM crm_customer_stage s
CROSS JOIN LATERAL (
    SELECT c.phone_e164 FROM customers c WHERE c.external_ref = s.external_ref LIMIT 1
) owner
WHERE s.external_ref IS NOT NULL AND owner.phone_e164 <> s.phone_e164;

-- drop_stage_refs --
-- Forget the external id of staged rows. $1 phones (text[])
UPDATE crm_customer_stage SET external_ref = NULL WHERE phone_e164 = ANY($1::text[]);

-- merge_customers --
-- Upsert the staged batch by phone (non-empty cells win over stored values), record each
-- marketing consent that is new or differs from the customer's latest record from this source,
-- and count inserted rows (xmax = 0 only on a fresh insert). An existing customer that its
-- staged row would not change (`kept`) is left alone: not even locked, so re-importing the
-- same file writes no row versions, locks, index entries or segment-row updates. $1 source
WITH kept AS (
    SELECT s.phone_e164, c.id
    FROM crm_customer_stage s
    JOIN customers c ON c.phone_e164 = s.phone_e164
    WHERE (s.external_ref IS NULL OR s.external_ref = c.external_ref)
      AND (coalesce(s.name, '') = '' OR s.name = c.name)
      AND s.phone_type = c.phone_type
      AND (s.email IS NULL OR s.email = c.email)
      AND (s.address IS NULL
           OR (s.address = c.address AND s.region IS NOT DISTINCT FROM c.region))
      AND (s.postal_code IS NULL OR s.postal_code = c.postal_code)
      AND (s.birth_date IS NULL OR s.birth_date = c.birth_date)
      AND (s.gender IS NULL OR s.gender = c.gender)
      AND (s.consent IS NULL OR s.consent = c.consent_marketing)
), merged AS (
    INSERT INTO customers AS c (
        external_ref, name, phone_e164, phone_type, email, address, postal_code, region,
        birth_date, gender, consent_marketing, source
    )
    SELECT s.external_ref, coalesce(s.name, ''), s.phone_e164, s.phone_type, s.email,
           s.address, s.postal_code, s.region, s.birth_date, s.gender,
           coalesce(s.consent, false), $1
    FROM crm_customer_stage s
    WHERE NOT EXISTS (SELECT 1 FROM kept k WHERE k.phone_e164 = s.phone_e164)
    ON CONFLICT (phone_e164) DO UPDATE SET
        external_ref = coalesce(EXCLUDED.external_ref, c.external_ref),
        name = coalesce(nullif(EXCLUDED.name, ''), c.name),
        phone_type = EXCLUDED.phone_type,
        email = coalesce(EXCLUDED.email, c.email),
        address = coalesce(EXCLUDED.address, c.address),
        postal_code = coalesce(EXCLUDED.postal_code, c.postal_code),
        region = CASE WHEN EXCLUDED.address IS NULL THEN c.region ELSE EXCLUDED.region END,
        birth_date = coalesce(EXCLUDED.birth_date, c.birth_date),
        gender = coalesce(EXCLUDED.gender, c.gender),
        -- EXCLUDED holds false for "no value"; the staged cell tells the two apart.
        consent_marketing = coalesce(
            (SELECT s2.consent FROM crm_customer_stage s2
             WHERE s2.phone_e164 = EXCLUDED.phone_e164),
            c.consent_marketing),
        updated_at = now()
    RETURNING c.id, c.phone_e164, (c.xmax = 0) AS inserted
), consents AS (
    INSERT INTO consent_records (customer_id, channel, purpose, granted, source)
    SELECT t.id, 'phone', 'marketing', s.consent, $1
    FROM crm_customer_stage s
    JOIN (SELECT id, phone_e164, inserted FROM merged
          UNION ALL SELECT id, phone_e164, false FROM kept) t ON t.phone_e164 = s.phone_e164
    WHERE s.consent IS NOT NULL
      AND (t.inserted OR NOT EXISTS (
            SELECT 1 FROM (
                SELECT r.granted, r.source FROM consent_records r
                WHERE r.customer_id = t.id AND r.purpose = 'marketing'
                ORDER BY r.at DESC, r.id DESC LIMIT 1
            ) latest
            WHERE latest.granted = s.consent AND latest.source = $1))
    RETURNING 1
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) AS merged,
       (SELECT count(*) FROM consents) AS consents
FROM merged;

-- merge_dnc --
-- Upsert the staged numbers into one do-not-call list, keeping the earliest registration
-- date and the latest source. $1 kind, $2 source
WITH merged AS (
    INSERT INTO do_not_call AS d (phone_e164, kind, source, registered_on)
    SELECT s.phone_e164, $1, $2,
           coalesce(s.registered_on, (now() AT TIME ZONE 'Asia/Seoul')::date)
    FROM crm_dnc_stage s
    ON CONFLICT (phone_e164, kind) DO UPDATE SET
        source = EXCLUDED.source,
        registered_on = least(d.registered_on, EXCLUDED.registered_on)
    RETURNING (d.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) AS merged FROM merged;

-- insert_import_run --
-- Start bookkeeping for one import. $1 kind, $2 file name, $3 source, $4 actor
INSERT INTO import_runs (kind, filename, source, actor) VALUES ($1, $2, $3, $4)
RETURNING id;

-- update_import_run --
-- Progress of an import, committed with each batch. Two batches in flight both count from
-- the batches committed before them, so the one that commits second may not go back. $1 id,
-- $2 summary
UPDATE import_runs SET summary = $2
WHERE id = $1
  AND coalesce((summary->>'batches')::int, 0) < coalesce(($2::jsonb->>'batches')::int, 0);

-- finish_import_run --
-- The final summary of an import. $1 id, $2 summary
UPDATE import_runs SET summary = $2, finished_at = now(), status = 'finished' WHERE id = $1;

-- fail_import_run --
-- An import that stopped on an error: what it committed and the error. $1 id, $2 summary
UPDATE import_runs SET summary = $2, finished_at = now(), status = 'failed' WHERE id = $1;

-- import_run --
-- One import run. $1 id
SELECT id, kind, filename, source, actor, started_at, finished_at, status, summary
FROM import_runs WHERE id = $1;

-- insert_audit --
-- Append to the audit log. $1 actor, $2 action, $3 subject, $4 details (jsonb)
INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4);
