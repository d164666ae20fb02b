-- Which customers an agent may read: the customer of a call it is on (until the call's
-- journey closes, so wrap-up included; an inbound call until its disposition), of its own
-- pending callbacks, and of a keep-my-place callback being dialled for it or on its line.
-- Who is on an inbound call is its journey's agent, not the row's answering agent: after a
-- transfer the second agent reads the customer and the first no longer does.
-- Read by dialer/store/access.py; the server's views ask before showing a customer to an
-- agent.

-- agent_customer --
-- May agent $1 read customer $2? $1 agent (users.id), $2 customer id
SELECT EXISTS (
    SELECT 1
    FROM call_journeys j JOIN campaign_leads l ON l.id = j.lead_id
    WHERE j.agent_id = $1 AND j.ended_at IS NULL AND l.customer_id = $2
) OR EXISTS (
    SELECT 1 FROM campaign_leads l
    WHERE l.callback_agent_id = $1 AND l.customer_id = $2 AND l.callback_at IS NOT NULL
      AND l.status IN ('new', 'leased')
) OR EXISTS (
    SELECT 1 FROM inbound_calls c JOIN call_journeys j ON j.attempt_id = c.attempt_id
    WHERE j.agent_id = $1 AND c.customer_id = $2 AND c.ended_at IS NULL
) OR EXISTS (
    SELECT 1 FROM inbound_callbacks b JOIN call_journeys j ON j.attempt_id = b.attempt_id
    WHERE COALESCE(j.agent_id, b.agent_id) = $1 AND b.customer_id = $2
      AND b.status IN ('dialing', 'connected') AND j.ended_at IS NULL
);

-- agent_customers --
-- Every customer agent $1 may read now. $1 agent (users.id)
SELECT l.customer_id
FROM call_journeys j JOIN campaign_leads l ON l.id = j.lead_id
WHERE j.agent_id = $1 AND j.ended_at IS NULL
UNION
SELECT l.customer_id FROM campaign_leads l
WHERE l.callback_agent_id = $1 AND l.callback_at IS NOT NULL AND l.status IN ('new', 'leased')
UNION
SELECT c.customer_id FROM inbound_calls c JOIN call_journeys j ON j.attempt_id = c.attempt_id
WHERE j.agent_id = $1 AND c.ended_at IS NULL AND c.customer_id IS NOT NULL
UNION
SELECT b.customer_id FROM inbound_callbacks b JOIN call_journeys j ON j.attempt_id = b.attempt_id
WHERE COALESCE(j.agent_id, b.agent_id) = $1 AND b.status IN ('dialing', 'connected')
  AND j.ended_at IS NULL AND b.customer_id IS NOT NULL;
