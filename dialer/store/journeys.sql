-- The live dialer's writes: contact attempts (the CRM timeline) and call journeys.

-- next_attempt_id --
-- An attempt id taken when the dial starts; the row is appended when the attempt ends
-- (contact_attempts is append-only). (no arguments)
SELECT nextval(pg_get_serial_sequence('contact_attempts', 'id'));

-- insert_attempt --
-- The finished attempt on the customer's timeline. $1 attempt id, $2 customer id,
-- $3 campaign id, $4 phone, $5 at, $6 outcome, $7 disposition, $8 agent id, $9 details
INSERT INTO contact_attempts (id, customer_id, campaign_id, phone_e164, at, outcome,
                              disposition, agent_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- add_internal_dnc --
-- The callee asked not to be called again: every campaign skips the number. $1 phone,
-- $2 source
INSERT INTO do_not_call (phone_e164, kind, source) VALUES ($1, 'internal', $2)
ON CONFLICT (phone_e164, kind) DO NOTHING;

-- save_journey --
-- Insert or update one call's journey. $1 attempt id, $2 campaign id, $3 lead id,
-- $4 agent id, $5 dialer, $6 mode, $7 outcome, $8 queued, $9 dialed, $10 ringing,
-- $11 answered, $12 agent connected, $13 pop acked, $14 ended
INSERT INTO call_journeys (attempt_id, campaign_id, lead_id, agent_id, dialer, mode, outcome,
    queued_at, dialed_at, ringing_at, answered_at, agent_connected_at, pop_acked_at, ended_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (attempt_id) DO UPDATE SET
    agent_id = EXCLUDED.agent_id, outcome = EXCLUDED.outcome,
    ringing_at = EXCLUDED.ringing_at, answered_at = EXCLUDED.answered_at,
    agent_connected_at = EXCLUDED.agent_connected_at,
    pop_acked_at = coalesce(call_journeys.pop_acked_at, EXCLUDED.pop_acked_at),
    ended_at = EXCLUDED.ended_at;

-- journey_pop_acked --
-- The browser acknowledged the screen pop. $1 attempt id, $2 at
UPDATE call_journeys SET pop_acked_at = coalesce(pop_acked_at, $2) WHERE attempt_id = $1;

-- journey_order --
-- An order was captured on this call. $1 attempt id, $2 order id, $3 submitted, $4 committed
UPDATE call_journeys
SET order_id = $2, order_submitted_at = $3, order_committed_at = $4
WHERE attempt_id = $1;

-- abandon_events --
-- Answers in the compliance window, to seed the rolling abandon rate when a loop starts.
-- $1 campaign id, $2 since
SELECT extract(epoch FROM at)::float8 AS at_s, outcome
FROM contact_attempts
WHERE campaign_id = $1 AND at >= $2
  AND outcome IN ('answered_live', 'abandoned', 'answered_machine')
ORDER BY at;

-- running_campaigns --
-- Campaigns a dialer should be running. (no arguments)
SELECT id FROM campaigns WHERE status = 'running' ORDER BY id;

-- campaign_row --
-- One campaign, every column (settings are read leniently). $1 campaign id
SELECT * FROM campaigns WHERE id = $1;
