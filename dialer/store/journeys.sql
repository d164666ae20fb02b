-- Call journeys (every step of a call, timestamped) and what the runtime reads of campaigns.
-- Attempts go on the customer's timeline through crm.contacts.

-- save_journey --
-- Insert or update one call's journey. $1 attempt id, $2 campaign id, $3 lead id,
-- $4 agent id, $5 dialer, $6 mode, $7 outcome, $8 queued, $9 dialed, $10 ringing,
-- $11 answered, $12 agent connected, $13 pop acked, $14 ended, $15 transferred,
-- $16 transferred from (the agent who had the call before)
INSERT INTO call_journeys (attempt_id, campaign_id, lead_id, agent_id, dialer, mode, outcome,
    queued_at, dialed_at, ringing_at, answered_at, agent_connected_at, pop_acked_at, ended_at,
    transferred_at, transferred_from)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (attempt_id) DO UPDATE SET
    agent_id = EXCLUDED.agent_id, outcome = EXCLUDED.outcome,
    transferred_at = EXCLUDED.transferred_at, transferred_from = EXCLUDED.transferred_from,
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

-- running_campaigns --
-- Campaigns a dialer should be running. (no arguments)
SELECT id FROM campaigns WHERE status = 'running' ORDER BY id;

-- campaign_row --
-- One campaign, every column (settings are read leniently). $1 campaign id
SELECT * FROM campaigns WHERE id = $1;

-- close_journey --
-- A call closed after its process died: its outcome, ended now if not yet; the order
-- taken on it, if any. $1 attempt id, $2 outcome
UPDATE call_journeys SET outcome = $2, ended_at = coalesce(ended_at, now())
WHERE attempt_id = $1
RETURNING order_id;
