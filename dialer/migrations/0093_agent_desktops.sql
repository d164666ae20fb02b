-- An agent's desktops, per web node. Behind a load balancer an agent's second tab may land
-- on another node than the first; with one node per session, the second closing zeroed the
-- session's count while the first stayed open, and the first node's beats no longer
-- matched the session: the agent was out of routing for good. The session's
-- `connections` and `heartbeat_at` are now the sum and the latest beat of these rows.

CREATE TABLE agent_desktops (
    agent_id     bigint NOT NULL,
    node         text NOT NULL,
    connections  integer NOT NULL CHECK (connections > 0),
    beat_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, node)
);

INSERT INTO agent_desktops (agent_id, node, connections, beat_at)
SELECT agent_id, node, connections, heartbeat_at FROM agent_sessions
WHERE node IS NOT NULL AND connections > 0;
