-- A call an agent transferred to another (issue 14): the journey names the agent who holds
-- the call at the end (agent_id) and keeps the transfer as a step: when, and from whom.
ALTER TABLE call_journeys
    ADD COLUMN transferred_at timestamptz,
    ADD COLUMN transferred_from bigint;
