-- The contact history (`contact_attempts`): every dial of a customer, appended when the
-- attempt ends. The dialer writes it through crm.contacts; screens and reports read it.

-- insert_attempt --
-- A finished attempt on the customer's timeline. $1 attempt id, $2 customer id,
-- $3 campaign id, $4 phone, $5 at, $6 outcome, $7 disposition, $8 agent id, $9 details
INSERT INTO contact_attempts (id, customer_id, campaign_id, phone_e164, at, outcome,
                              disposition, agent_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- recent_contacts --
-- A customer's last contacts, newest first. $1 customer id, $2 limit
SELECT id, at, campaign_id, outcome, disposition, agent_id, details ->> 'note' AS note
FROM contact_attempts
WHERE customer_id = $1
ORDER BY at DESC
LIMIT $2;

-- campaign_answers_since --
-- Answers of one campaign since a time, oldest first (seeds the rolling abandon rate).
-- $1 campaign id, $2 since
SELECT extract(epoch FROM at)::float8 AS at_s, outcome
FROM contact_attempts
WHERE campaign_id = $1 AND at >= $2
  AND outcome IN ('answered_live', 'abandoned', 'answered_machine')
ORDER BY at;

-- answer_counts --
-- Live answers and abandons of each campaign over its own window.
-- $1 campaign ids, $2 window seconds (same order)
SELECT w.campaign_id,
       count(a.id) FILTER (WHERE a.outcome IN ('answered_live', 'abandoned')) AS live,
       count(a.id) FILTER (WHERE a.outcome = 'abandoned') AS abandoned
FROM unnest($1::bigint[], $2::float8[]) AS w (campaign_id, window_s)
LEFT JOIN contact_attempts a
  ON a.campaign_id = w.campaign_id AND a.at >= now() - make_interval(secs => w.window_s)
GROUP BY w.campaign_id;

-- reserve_attempt_ids --
-- Attempt ids taken when dials start; each row is appended when its attempt ends, so an
-- order taken during the call can already carry the id. $1 how many
SELECT nextval(pg_get_serial_sequence('contact_attempts', 'id')) AS id
FROM generate_series(1, $1);
