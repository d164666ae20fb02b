-- Agents' sessions and presence: the truth about who is logged in where, so a campaign's
-- desk can move to another process (or a restarted one) and find its agents. The web node
-- holding an agent's websocket beats `heartbeat_at`; the desk of the agent's campaign
-- writes the state.

CREATE TABLE agent_sessions (
    agent_id      bigint PRIMARY KEY,
    username      text NOT NULL,
    node          text,                       -- the web node holding the websocket(s)
    connections   integer NOT NULL DEFAULT 0, -- open desktops on that node
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    campaign_id   bigint,
    state         text NOT NULL DEFAULT 'offline',
    pause_reason  text,
    preview       boolean NOT NULL DEFAULT false,
    attempt_id    bigint,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_sessions_campaign_idx ON agent_sessions (campaign_id)
    WHERE state <> 'offline';
