-- Customers, do-not-call and the audit log: reads and small writes.

-- list_customers --
-- A page of customers by id, optionally filtered. $1 after id (0 = from the start),
-- $2 limit, $3 exact phone (E.164) or NULL, $4 phone fragment (LIKE pattern) or NULL,
-- $5 name/email fragment (ILIKE pattern) or NULL, $6 external ref or NULL
SELECT id, external_ref, name, phone_e164, phone_type, email, region, birth_date, gender,
       consent_marketing, consent_night, created_at, updated_at
FROM customers
WHERE id > $1
  AND ($3::text IS NULL OR phone_e164 = $3)
  AND ($4::text IS NULL OR phone_e164 LIKE $4)
  AND ($5::text IS NULL OR name ILIKE $5 OR email ILIKE $5 OR external_ref = $6)
ORDER BY id
LIMIT $2;

-- get_customer --
-- One customer with every column. $1 id
SELECT id, external_ref, name, phone_e164, phone_type, email, address, postal_code, region,
       tz, birth_date, gender, consent_marketing, consent_night, source, created_at, updated_at
FROM customers WHERE id = $1;

-- customer_card --
-- What a screen pop shows of a customer. $1 id
SELECT id, name, phone_e164, email, address, postal_code, region, tz,
       consent_marketing, consent_night
FROM customers WHERE id = $1;

-- customer_consents --
-- A customer's consent history, newest first. $1 customer id
SELECT channel, purpose, granted, at, source
FROM consent_records WHERE customer_id = $1
ORDER BY at DESC, id DESC;

-- dnc_entries --
-- The do-not-call entries of one number. $1 phone E.164
SELECT kind, source, registered_on, added_at
FROM do_not_call WHERE phone_e164 = $1
ORDER BY kind;

-- insert_internal_dnc --
-- Put a number on the internal do-not-call list; no row back if it already was.
-- $1 phone E.164, $2 source
INSERT INTO do_not_call (phone_e164, kind, source)
VALUES ($1, 'internal', $2)
ON CONFLICT (phone_e164, kind) DO NOTHING
RETURNING phone_e164;

-- count_customers --
-- How many customers there are. No arguments.
SELECT count(*) FROM customers;

-- export_customers --
-- Every customer as CSV columns, by id (used with COPY ... TO STDOUT). No arguments.
SELECT id, external_ref, phone_e164, phone_type, name, email, address, postal_code, region,
       birth_date, CASE gender WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' END AS gender,
       CASE WHEN consent_marketing THEN 'Y' ELSE 'N' END AS consent_marketing,
       CASE WHEN consent_night THEN 'Y' ELSE 'N' END AS consent_night,
       source, created_at, updated_at
FROM customers ORDER BY id;

-- insert_audit --
-- Append to the audit log. $1 actor, $2 action, $3 subject, $4 details (jsonb)
INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4);

-- count_matching_customers --
-- How many customers a search matches (the same filters as list_customers).
-- $1 exact phone, $2 phone fragment, $3 name/email fragment, $4 external ref
SELECT count(*) FROM customers
WHERE ($1::text IS NULL OR phone_e164 = $1)
  AND ($2::text IS NULL OR phone_e164 LIKE $2)
  AND ($3::text IS NULL OR name ILIKE $3 OR email ILIKE $3 OR external_ref = $4);

-- regions_present --
-- The distinct regions customers have, read by skipping along the region index.
WITH RECURSIVE r AS (
    SELECT min(region) AS region FROM customers
    UNION ALL
    SELECT (SELECT min(region) FROM customers WHERE region > r.region) FROM r
    WHERE r.region IS NOT NULL
)
SELECT region FROM r WHERE region IS NOT NULL;

-- contact_history --
-- A customer's contacts, newest first. $1 customer id, $2 limit
SELECT id, campaign_id, phone_e164, at, outcome, disposition, agent_id,
       details ->> 'note' AS note
FROM contact_attempts WHERE customer_id = $1 ORDER BY at DESC LIMIT $2;

-- customer_dnc_changes --
-- When the customer's numbers went on a do-not-call list. $1 phone e164
SELECT kind, source, registered_on, added_at FROM do_not_call WHERE phone_e164 = $1
ORDER BY added_at DESC;

-- names_of --
-- Customers' names by id. $1 ids
SELECT id, name FROM customers WHERE id = ANY($1::bigint[]);

-- lookup_phone --
-- What an agent may see of the customer behind one number. $1 phone e164
SELECT c.id, c.name, c.region, c.consent_marketing, c.consent_night,
       EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = c.phone_e164) AS dnc
FROM customers c WHERE c.phone_e164 = $1;

-- number_on_dnc --
-- Whether a number is on any do-not-call list. $1 phone e164
SELECT EXISTS (SELECT 1 FROM do_not_call WHERE phone_e164 = $1);
