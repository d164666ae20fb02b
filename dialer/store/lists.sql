-- Campaign lists. `{members}` is a sub-select of customer ids built by crm.segments from
-- its fixed SQL; its parameters come first, the list's own follow from `${base}`.

-- insert_list --
-- A list row before its leads. $1 campaign id, $2 segment id, $3 segment name,
-- $4 exclude contacted days, $5 priority, $6 created by
INSERT INTO campaign_lists (campaign_id, segment_id, segment_name, exclude_contacted_days,
                            priority, candidates, added, suppression, created_by)
VALUES ($1, $2, $3, $4, $5, 0, 0, '{}'::jsonb, $6)
RETURNING id;

-- build_leads --
-- Classify every member (first suppression reason wins), insert the rest as leads, and
-- count by reason. ${base} campaign id, +1 list id, +2 priority, +3 require consent,
-- +4 night-only window, +5 exclude contacted days (NULL: no exclusion)
-- Members' phone and consents come from their `customer_facts` row (the segment already
-- read it; kept in step with `customers` by triggers) rather than a second scan of
-- `customers`. The compliance tests read the source tables: do_not_call by phone and
-- contact_attempts, each one hashed set. Leads go in in customer-id order (the order of
-- the unique and customer indexes). No ON CONFLICT: the campaign row is locked (FOR
-- UPDATE) by the caller, every lead insert happens under that lock, and members already
-- in the campaign are classified `already_in_campaign`, so a conflict cannot happen.
WITH members AS ({members}),
cand AS MATERIALIZED (
    SELECT c.id AS customer_id, c.phone_e164,
        CASE
            WHEN EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = c.phone_e164)
                THEN 'do_not_call'
            WHEN ${p3}::boolean AND NOT c.consent_marketing THEN 'no_consent'
            WHEN ${p4}::boolean AND NOT c.consent_night THEN 'night_window'
            WHEN c.phone_e164 !~ '^\+[1-9][0-9]{{7,14}}$' THEN 'invalid_phone'
            WHEN ${p5}::int IS NOT NULL AND EXISTS (
                SELECT 1 FROM contact_attempts a WHERE a.customer_id = c.id
                AND a.at >= now() - make_interval(days => ${p5}::int))
                THEN 'contacted_recently'
            WHEN EXISTS (
                SELECT 1 FROM campaign_leads l JOIN campaigns k ON k.id = l.campaign_id
                WHERE l.customer_id = c.id AND l.campaign_id <> ${p0}::bigint
                AND k.status IN ('running', 'paused') AND l.status IN ('new', 'leased'))
                THEN 'other_active_campaign'
            WHEN EXISTS (
                SELECT 1 FROM campaign_leads l
                WHERE l.customer_id = c.id AND l.campaign_id = ${p0}::bigint)
                THEN 'already_in_campaign'
        END AS reason
    FROM members m JOIN customer_facts c ON c.id = m.id
),
ins AS (
    INSERT INTO campaign_leads (campaign_id, list_id, customer_id, phone_e164, priority, position)
    SELECT ${p0}::bigint, ${p1}::bigint, customer_id, phone_e164, ${p2}::int,
           row_number() OVER (ORDER BY customer_id)
    FROM cand WHERE reason IS NULL
    ORDER BY customer_id
    RETURNING 1
)
SELECT reason, count(*)::int AS n FROM cand WHERE reason IS NOT NULL GROUP BY reason
UNION ALL SELECT 'added', count(*)::int FROM ins
UNION ALL SELECT 'candidates', count(*)::int FROM cand;

-- finish_list --
-- Store the report. $1 list id, $2 candidates, $3 added, $4 suppression counts
UPDATE campaign_lists SET candidates = $2, added = $3, suppression = $4 WHERE id = $1
RETURNING id, campaign_id, segment_id, segment_name, exclude_contacted_days, priority,
          candidates, added, suppression, created_by, created_at;

-- campaign_lists --
-- A campaign's lists, oldest first. $1 campaign id
SELECT id, campaign_id, segment_id, segment_name, exclude_contacted_days, priority,
       candidates, added, suppression, created_by, created_at
FROM campaign_lists WHERE campaign_id = $1 ORDER BY id;

-- hand_dial_list --
-- The campaign's list of leads dialled by hand (no segment; made on the first hand dial,
-- under the caller's advisory lock). $1 campaign id
SELECT id FROM campaign_lists
WHERE campaign_id = $1 AND segment_id IS NULL AND created_by = 'hand_dial'
ORDER BY id LIMIT 1;

-- insert_hand_dial_list --
-- $1 campaign id
INSERT INTO campaign_lists (campaign_id, segment_id, segment_name, exclude_contacted_days,
                            priority, candidates, added, suppression, created_by)
VALUES ($1, NULL, 'hand_dial', NULL, 100, 0, 0, jsonb_build_object(), 'hand_dial')
RETURNING id;

-- lock_hand_dial_list --
-- Held to the end of the transaction: one first hand dial makes the list. $1 lock key
SELECT pg_advisory_xact_lock($1);
