-- The hopper: leads leased to a dialer for a while, never locked for a whole call.

-- lease_leads --
-- Claim up to $3 dialable leads of campaign $1 for dialer $2 until $4 + $5 seconds: due
-- callbacks first, then priority (low first), then list order; rows another dialer is
-- claiming are skipped, leases past their expiry are taken back unless the lead's call
-- is still in flight (a `live_calls` row: its process died and is not reconciled yet).
-- A lead dialled by hand after the dialer had finished with it (`hand_dial_was`) is never
-- taken back: its hand-dial lease ran out because its process died.
-- $1 campaign id,
-- $2 owner, $3 how many, $4 now, $5 lease seconds
WITH picked AS (
    SELECT l.id
    FROM campaign_leads l
    WHERE l.campaign_id = $1
      AND (l.status = 'new' OR (l.status = 'leased' AND l.lease_expires_at < $4
                                AND l.hand_dial_was IS NULL))
      AND l.next_attempt_at <= $4
      AND (l.callback_at IS NULL OR l.callback_at <= $4)
      AND l.callback_agent_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM live_calls c WHERE c.lead_id = l.id)
    ORDER BY (l.callback_at IS NOT NULL) DESC, l.priority, l.position, l.id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE campaign_leads l
SET status = 'leased', lease_owner = $2, lease_expires_at = $4::timestamptz + make_interval(secs => $5)
FROM picked
WHERE l.id = picked.id
RETURNING l.id, l.campaign_id, l.customer_id, l.phone_e164, l.priority, l.position,
          l.attempts, l.callback_at, l.callback_agent_id;

-- lease_one_for_agent --
-- Preview mode: the agent's own due callback first, else the next lead anyone may take.
-- $1 campaign id, $2 owner, $3 agent id, $4 now, $5 lease seconds
WITH picked AS (
    SELECT l.id
    FROM campaign_leads l
    WHERE l.campaign_id = $1
      AND (l.status = 'new' OR (l.status = 'leased' AND l.lease_expires_at < $4
                                AND l.hand_dial_was IS NULL))
      AND l.next_attempt_at <= $4
      AND (l.callback_at IS NULL OR l.callback_at <= $4)
      AND (l.callback_agent_id IS NULL OR l.callback_agent_id = $3)
      AND NOT EXISTS (SELECT 1 FROM live_calls c WHERE c.lead_id = l.id)
    ORDER BY (l.callback_agent_id IS NOT NULL) DESC, (l.callback_at IS NOT NULL) DESC,
             l.priority, l.position, l.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE campaign_leads l
SET status = 'leased', lease_owner = $2, lease_expires_at = $4::timestamptz + make_interval(secs => $5)
FROM picked
WHERE l.id = picked.id
RETURNING l.id, l.campaign_id, l.customer_id, l.phone_e164, l.priority, l.position,
          l.attempts, l.callback_at, l.callback_agent_id;

-- lease_callback_for_agent --
-- Preview mode: one of the agent's own callbacks that the agent chose from their list, now
-- (possibly before its time: the agent decides; the compliance guard still screens it).
-- $1 campaign id, $2 owner, $3 agent id, $4 now, $5 lease seconds, $6 lead id
WITH picked AS (
    SELECT l.id
    FROM campaign_leads l
    WHERE l.id = $6 AND l.campaign_id = $1 AND l.callback_agent_id = $3
      AND l.callback_at IS NOT NULL
      AND (l.status = 'new' OR (l.status = 'leased' AND l.lease_expires_at < $4
                                AND l.hand_dial_was IS NULL))
      AND NOT EXISTS (SELECT 1 FROM live_calls c WHERE c.lead_id = l.id)
    FOR UPDATE SKIP LOCKED
)
UPDATE campaign_leads l
SET status = 'leased', lease_owner = $2, lease_expires_at = $4::timestamptz + make_interval(secs => $5)
FROM picked
WHERE l.id = picked.id
RETURNING l.id, l.campaign_id, l.customer_id, l.phone_e164, l.priority, l.position,
          l.attempts, l.callback_at, l.callback_agent_id;

-- lead_facts --
-- What the compliance guard needs about leased leads: do-not-call (any list), consent,
-- address zone, this campaign's earlier attempts. $1 lead ids, $2 campaign id
SELECT l.id AS lead_id, l.phone_e164, c.tz, c.consent_marketing, c.consent_night,
       EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = l.phone_e164) AS dnc,
       a.ats, a.outcomes, a.last_abandoned_at
FROM campaign_leads l
JOIN customers c ON c.id = l.customer_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.at ORDER BY x.at) AS ats,
           array_agg(x.outcome ORDER BY x.at) AS outcomes,
           max(x.at) FILTER (WHERE x.outcome = 'abandoned') AS last_abandoned_at
    FROM contact_attempts x
    WHERE x.campaign_id = $2 AND x.phone_e164 = l.phone_e164
) a ON true
WHERE l.id = ANY ($1::bigint[]);

-- extend_leases --
-- Keep the leases of leads whose calls are still going. $1 lead ids, $2 owner,
-- $3 now, $4 lease seconds
UPDATE campaign_leads
SET lease_expires_at = $3::timestamptz + make_interval(secs => $4)
WHERE id = ANY ($1::bigint[]) AND lease_owner = $2 AND status = 'leased';

-- give_back --
-- Return a lease untouched (not dialled): the lead is dialable again at once.
-- $1 lead id, $2 owner
UPDATE campaign_leads
SET status = coalesce(hand_dial_was, 'new'), hand_dial_was = NULL, lease_owner = NULL,
    lease_expires_at = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'leased';

-- refuse_lead --
-- The guard said no: close the lead or hold it back until $4. $1 lead id, $2 owner,
-- $3 status, $4 next attempt at (or null)
UPDATE campaign_leads
SET status = $3, next_attempt_at = coalesce($4, next_attempt_at), lease_owner = NULL,
    lease_expires_at = NULL, hand_dial_was = NULL
WHERE id = $1 AND lease_owner = $2;

-- insert_refusal --
-- Record what the guard refused and why. $1 campaign id, $2 lead id, $3 rule, $4 detail
INSERT INTO dial_refusals (campaign_id, lead_id, rule, detail) VALUES ($1, $2, $3, $4);

-- finish_lead --
-- After a dial: count the attempt and close the lead or give it back for later.
-- $1 lead id, $2 owner, $3 status, $4 last outcome, $5 next attempt at,
-- $6 callback at, $7 callback agent id
UPDATE campaign_leads
SET status = $3, last_outcome = $4,
    next_attempt_at = coalesce($5, next_attempt_at), attempts = attempts + 1,
    callback_at = $6, callback_agent_id = $7, lease_owner = NULL, lease_expires_at = NULL,
    hand_dial_was = NULL
WHERE id = $1 AND lease_owner = $2
RETURNING id;

-- take_lead --
-- A survivor takes over a dead process's lease to close its call. $1 lead id, $2 new owner
UPDATE campaign_leads SET lease_owner = $2
WHERE id = $1 AND status = 'leased'
RETURNING id;

-- finish_follow_up --
-- A call recovered after a crash got its disposition: the lead moves on from follow-up.
-- $1 lead id, $2 status, $3 last outcome, $4 next attempt at, $5 callback at,
-- $6 callback agent id
UPDATE campaign_leads
SET status = $2, last_outcome = $3, next_attempt_at = coalesce($4, next_attempt_at),
    callback_at = $5, callback_agent_id = $6
WHERE id = $1 AND status = 'follow_up'
RETURNING id;

-- follow_up_count --
-- Leads waiting for a person to follow them up, per campaign. (no arguments)
SELECT campaign_id, count(*) AS n FROM campaign_leads WHERE status = 'follow_up'
GROUP BY campaign_id;

-- lead_attempts --
-- Attempts a lead has had. $1 lead id
SELECT attempts FROM campaign_leads WHERE id = $1;

-- customer_of_phone --
-- The customer behind a number dialled by hand (phones are unique). $1 phone e164
SELECT id FROM customers WHERE phone_e164 = $1;

-- lease_customer_for_agent --
-- A hand dial: the customer's lead in this campaign, leased now, whatever its status (the
-- compliance guard decides on do-not-call and attempts), unless a live call or an unexpired
-- lease (another agent's preview, the dialer's own call) holds it.
-- $1 campaign id, $2 owner, $3 customer id, $4 now, $5 lease seconds
WITH picked AS (
    SELECT l.id, l.status AS was
    FROM campaign_leads l
    WHERE l.campaign_id = $1 AND l.customer_id = $3
      AND (l.status IN ('new', 'done', 'exhausted', 'dnc')
           OR (l.status = 'leased' AND l.lease_expires_at < $4))
      AND NOT EXISTS (SELECT 1 FROM live_calls c WHERE c.lead_id = l.id)
    FOR UPDATE SKIP LOCKED
)
UPDATE campaign_leads l
SET status = 'leased', lease_owner = $2, lease_expires_at = $4::timestamptz + make_interval(secs => $5),
    hand_dial_was = CASE WHEN picked.was IN ('done', 'exhausted', 'dnc') THEN picked.was
                         ELSE l.hand_dial_was END
FROM picked
WHERE l.id = picked.id
RETURNING l.id, l.campaign_id, l.customer_id, l.phone_e164, l.priority, l.position,
          l.attempts, l.callback_at, l.callback_agent_id,
          CASE WHEN picked.was = 'leased' THEN coalesce(l.hand_dial_was, 'new')
               ELSE picked.was END AS was;

-- insert_hand_lead --
-- A hand dial of a customer with no lead in the campaign: a new lead in the campaign's
-- hand-dial list, leased at once. The unique (campaign, customer) key keeps it one lead:
-- a concurrent insert waits for the other and then inserts nothing.
-- $1 campaign id, $2 list id, $3 customer id, $4 owner, $5 now, $6 lease seconds
INSERT INTO campaign_leads (campaign_id, list_id, customer_id, phone_e164, position, status,
                            lease_owner, lease_expires_at)
SELECT $1, $2, c.id, c.phone_e164,
       (SELECT coalesce(max(position), 0) + 1 FROM campaign_leads WHERE list_id = $2),
       'leased', $4, $5::timestamptz + make_interval(secs => $6)
FROM customers c WHERE c.id = $3
ON CONFLICT (campaign_id, customer_id) DO NOTHING
RETURNING id, campaign_id, customer_id, phone_e164, priority, position,
          attempts, callback_at, callback_agent_id;

-- give_back_by_hand --
-- A hand dial skipped: the lead goes back to the status it had. $1 lead id, $2 owner,
-- $3 status before
UPDATE campaign_leads
SET status = $3, lease_owner = NULL, lease_expires_at = NULL, hand_dial_was = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'leased';

-- drop_hand_lead --
-- A hand dial skipped before its lead (made for it) was ever dialled. $1 lead id, $2 owner
DELETE FROM campaign_leads
WHERE id = $1 AND lease_owner = $2 AND status = 'leased' AND attempts = 0;
