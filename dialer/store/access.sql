-- Which customers an agent may read: the customer of a call it is on (until the call's
-- journey closes, so wrap-up included) and of its own pending callbacks. Read by
-- dialer/store/access.py; the server's views ask before showing a customer to an agent.

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
);

-- agent_customers --
-- Every customer agent $1 may read now. $1 agent (users.id)
SELECT l.customer_id
FROM call_journeys j JOIN campaign_leads l ON l.id = j.lead_id
WHERE j.agent_id = $1 AND j.ended_at IS NULL
UNION
SELECT l.customer_id FROM campaign_leads l
WHERE l.callback_agent_id = $1 AND l.callback_at IS NOT NULL AND l.status IN ('new', 'leased');
