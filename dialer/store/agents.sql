-- Agents' sessions: presence from the web nodes, state from the campaign's desk.

-- connected --
-- A desktop of the agent opened on a web node. $1 agent id, $2 username, $3 node,
-- $4 desktops open there
INSERT INTO agent_sessions (agent_id, username, node, connections, heartbeat_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (agent_id) DO UPDATE
SET username = EXCLUDED.username, node = EXCLUDED.node, connections = EXCLUDED.connections,
    heartbeat_at = now()
RETURNING *;

-- disconnected --
-- A desktop closed; the count left on that node. $1 agent id, $2 node, $3 desktops left
UPDATE agent_sessions SET connections = $3, heartbeat_at = now()
WHERE agent_id = $1 AND node = $2;

-- beat --
-- The web node still holds these agents' desktops. $1 agent ids, $2 node
UPDATE agent_sessions SET heartbeat_at = now()
WHERE agent_id = ANY ($1::bigint[]) AND node = $2;

-- save_states --
-- The desk's view of its agents, in one statement. $1 agent ids, $2 usernames,
-- $3 campaign ids, $4 states, $5 pause reasons, $6 preview flags, $7 attempt ids
INSERT INTO agent_sessions AS s (agent_id, username, campaign_id, state, pause_reason,
                                 preview, attempt_id, updated_at)
SELECT a, u, c, st, p, pv, at, now()
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bool[],
            $7::bigint[]) AS x(a, u, c, st, p, pv, at)
ON CONFLICT (agent_id) DO UPDATE
SET campaign_id = EXCLUDED.campaign_id, state = EXCLUDED.state,
    pause_reason = EXCLUDED.pause_reason, preview = EXCLUDED.preview,
    attempt_id = EXCLUDED.attempt_id, updated_at = now();

-- wish_ready --
-- An agent asked to go ready on a campaign no desk runs yet: the desk that takes it on
-- finds them. $1 agent id, $2 campaign id, $3 preview
UPDATE agent_sessions SET campaign_id = $2, state = 'ready', preview = $3, updated_at = now()
WHERE agent_id = $1;

-- one --
-- One agent's session. $1 agent id
SELECT * FROM agent_sessions WHERE agent_id = $1;

-- of_campaigns --
-- Agents logged in on these campaigns whose desktop is still beating, but for those
-- left out (a desk's own). $1 campaign ids, $2 agent ids left out, $3 seconds without a
-- heartbeat that count as gone
SELECT * FROM agent_sessions
WHERE campaign_id = ANY ($1::bigint[]) AND agent_id <> ALL ($2::bigint[])
  AND state <> 'offline' AND connections > 0
  AND heartbeat_at > now() - make_interval(secs => $3);

-- gone --
-- Of these agents, those whose desktops stopped beating (or closed). $1 agent ids,
-- $2 seconds
SELECT agent_id FROM agent_sessions
WHERE agent_id = ANY ($1::bigint[])
  AND (connections = 0 OR heartbeat_at <= now() - make_interval(secs => $2));

-- beating --
-- Of these agents, those whose desktops beat again (the opposite of `gone`). $1 agent
-- ids, $2 seconds without a heartbeat that count as gone
SELECT agent_id FROM agent_sessions
WHERE agent_id = ANY ($1::bigint[])
  AND connections > 0 AND heartbeat_at > now() - make_interval(secs => $2);

-- wanting_campaigns --
-- Running campaigns with agents waiting on a live desktop. $1 seconds
SELECT DISTINCT campaign_id FROM agent_sessions
WHERE state <> 'offline' AND connections > 0 AND campaign_id IS NOT NULL
  AND heartbeat_at > now() - make_interval(secs => $1);

-- board --
-- Every agent with a live desktop or a state, for the wallboard: as their desks last
-- saved it. $1 seconds without a heartbeat that count as gone
SELECT agent_id, username, state, campaign_id, pause_reason, preview,
       extract(epoch FROM now() - updated_at)::float8 AS in_state_s,
       connections > 0 AND heartbeat_at > now() - make_interval(secs => $1) AS connected
FROM agent_sessions
WHERE state <> 'offline' OR (connections > 0
                             AND heartbeat_at > now() - make_interval(secs => $1))
ORDER BY username;
