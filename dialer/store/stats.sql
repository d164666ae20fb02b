-- What the wallboard reads of the dialer: today's figures per campaign from the call
-- journeys, the chart's series, and the last journeys.

-- campaigns_today --
-- Running and paused campaigns with today's dials, answers and latencies.
-- $1 the contact centre's time zone ("today" is its day)
WITH t AS (SELECT (date_trunc('day', now() AT TIME ZONE $1) AT TIME ZONE $1) AS t0)
SELECT k.id, k.name, k.status, k.pacing_strategy, k.compliance,
       coalesce(j.dials, 0) AS dials, coalesce(j.live, 0) AS live_answers,
       coalesce(j.connected, 0) AS connected, coalesce(j.abandoned, 0) AS abandoned,
       j.a2a_p50, j.a2a_p99, j.pop_p50, j.pop_p99
FROM campaigns k CROSS JOIN t
LEFT JOIN LATERAL (
    SELECT count(*) AS dials,
           count(*) FILTER (WHERE answered_at IS NOT NULL) AS live,
           count(*) FILTER (WHERE agent_connected_at IS NOT NULL) AS connected,
           count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
               agent_connected_at - answered_at)) AS a2a_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM
               agent_connected_at - answered_at)) AS a2a_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
               pop_acked_at - answered_at)) AS pop_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM
               pop_acked_at - answered_at)) AS pop_p99
    FROM call_journeys WHERE campaign_id = k.id AND queued_at >= t.t0
) j ON true
WHERE k.status IN ('running', 'paused')
ORDER BY k.status DESC, k.id;

-- day_start --
-- When today began in the contact centre's time zone. $1 time zone
SELECT date_trunc('day', now() AT TIME ZONE $1) AT TIME ZONE $1;

-- series --
-- Dials, live answers and abandons per campaign and time bucket.
-- $1 bucket seconds, $2 hours back
SELECT campaign_id,
       (floor(extract(epoch FROM queued_at) / $1::int) * $1::int)::bigint AS bucket,
       count(*) AS dials, count(*) FILTER (WHERE answered_at IS NOT NULL) AS live,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
FROM call_journeys
WHERE queued_at >= now() - make_interval(hours => $2)
GROUP BY 1, 2 ORDER BY 2;

-- recent_journeys --
-- The last call journeys with their campaign's name, newest first. $1 limit
SELECT j.*, k.name AS campaign
FROM call_journeys j
LEFT JOIN campaigns k ON k.id = j.campaign_id
ORDER BY j.queued_at DESC LIMIT $1;

-- campaigns_of_attempts --
-- Which campaign each call belonged to. $1 attempt ids
SELECT attempt_id, campaign_id FROM call_journeys WHERE attempt_id = ANY ($1::bigint[]);

-- campaign_names --
-- $1 campaign ids
SELECT id, name FROM campaigns WHERE id = ANY ($1::bigint[]);

-- agents_today --
-- Each agent's calls, talk time and orders (calls that ended with an order) since a time.
-- $1 since
SELECT agent_id,
       count(*) FILTER (WHERE agent_connected_at IS NOT NULL) AS calls,
       coalesce(sum(extract(epoch FROM coalesce(ended_at, now()) - agent_connected_at))
                FILTER (WHERE agent_connected_at IS NOT NULL), 0)::float8 AS talk_s,
       count(order_id) AS orders
FROM call_journeys
WHERE agent_id IS NOT NULL AND queued_at >= $1
GROUP BY agent_id;

-- agent_callbacks --
-- An agent's own callbacks still to make, soonest first. $1 agent id, $2 limit
SELECT l.id AS lead_id, l.campaign_id, k.name AS campaign, k.status AS campaign_status,
       l.customer_id, l.phone_e164, l.callback_at, l.status
FROM campaign_leads l JOIN campaigns k ON k.id = l.campaign_id
WHERE l.callback_agent_id = $1 AND l.callback_at IS NOT NULL AND l.status IN ('new', 'leased')
ORDER BY l.callback_at, l.id
LIMIT $2;
