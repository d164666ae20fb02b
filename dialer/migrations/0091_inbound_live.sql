-- The live inbound side (issue 15): an inbound call's journey sits beside the outbound
-- ones (it has no campaign and no lead), the attempt id the agent desktop knows the call
-- by, the agent's disposition, and which dialer process holds a keep-my-place callback
-- (a process that dies leaves its callbacks to the survivors).

ALTER TABLE call_journeys ALTER COLUMN campaign_id DROP NOT NULL;
ALTER TABLE call_journeys ALTER COLUMN lead_id DROP NOT NULL;

ALTER TABLE inbound_calls ADD COLUMN attempt_id bigint;
ALTER TABLE inbound_calls ADD COLUMN disposition text;
-- "which inbound call is this agent on" (least privilege: dialer/store/access.sql)
CREATE INDEX inbound_calls_open_agent_idx ON inbound_calls (agent_id) WHERE ended_at IS NULL;

ALTER TABLE inbound_callbacks ADD COLUMN owner text;
ALTER TABLE inbound_callbacks ADD COLUMN attempt_id bigint;
CREATE INDEX inbound_callbacks_agent_idx ON inbound_callbacks (agent_id)
    WHERE status IN ('pending', 'dialing', 'connected');
