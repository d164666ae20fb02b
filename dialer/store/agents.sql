-- Agents' sessions: presence from the web nodes, state from the campaign's desk.

-- connected --
-- A desktop of the agent opened on a web node. $1 agent id, $2 username, $3 node
-- (presence follows: `desktop_opened`, `presence`)
INSERT INTO agent_sessions (agent_id, username, node)
VALUES ($1, $2, $3)
ON CONFLICT (agent_id) DO UPDATE SET username = EXCLUDED.username, node = EXCLUDED.node;

-- desktop_opened --
-- The agent's desktops open on this node now. $1 agent id, $2 node, $3 desktops open there
INSERT INTO agent_desktops (agent_id, node, connections) VALUES ($1, $2, $3)
ON CONFLICT (agent_id, node) DO UPDATE SET connections = EXCLUDED.connections, beat_at = now();

-- desktop_closed --
-- The agent's last desktop on this node closed. $1 agent id, $2 node
DELETE FROM agent_desktops WHERE agent_id = $1 AND node = $2;

-- presence --
-- The session's presence from the agent's desktops on every node: how many are open, and
-- when a node last beat one (now, when none is left: the last one just closed). A node
-- killed leaves its rows behind, stale: they count until the live nodes' beats are older.
-- $1 agent id
UPDATE agent_sessions s
SET connections = d.connections, heartbeat_at = coalesce(d.beat_at, now())
FROM (SELECT coalesce(sum(connections), 0)::integer AS connections, max(beat_at) AS beat_at
      FROM agent_desktops WHERE agent_id = $1) AS d
WHERE s.agent_id = $1
RETURNING s.*;

-- beat --
-- The web node still holds these agents' desktops. $1 agent ids, $2 node
-- (sessions before desktops, as `connected` and `disconnected` lock them: the other order
-- deadlocks with a desktop opening)
WITH mine AS (
    SELECT agent_id FROM agent_desktops WHERE agent_id = ANY ($1::bigint[]) AND node = $2
), beaten AS (
    UPDATE agent_sessions SET heartbeat_at = now()
    WHERE agent_id IN (SELECT agent_id FROM mine)
    RETURNING agent_id
)
UPDATE agent_desktops SET beat_at = now()
WHERE node = $2 AND agent_id IN (SELECT agent_id FROM beaten);

-- lock_session --
-- An agent's session, locked before their desktops are written. $1 agent id
SELECT 1 FROM agent_sessions WHERE agent_id = $1 FOR UPDATE;

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
