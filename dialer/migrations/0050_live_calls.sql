-- Crash-safe calls: every call in flight is a row before it is dialled, owned by the dialer
-- process that runs it; processes keep a heartbeat. A survivor (or the same process
-- restarted) closes the calls of a process whose heartbeat went stale. A lead whose call
-- was answered when its process died goes to `follow_up`: never dialled again by itself.

CREATE TABLE live_calls (
    attempt_id   bigint PRIMARY KEY,
    call_id      text NOT NULL,                -- the telephony port's id for the call
    campaign_id  bigint NOT NULL,
    lead_id      bigint NOT NULL,
    customer_id  bigint NOT NULL,
    phone_e164   text NOT NULL,
    owner        text,                         -- the dialer process; NULL once recovered
    mode         text NOT NULL,                -- predictive | preview
    state        text NOT NULL
                 CHECK (state IN ('dialing', 'answered', 'connected', 'wrap_up', 'recovered')),
    agent_id     bigint,
    pop          jsonb,                        -- the agent's screen pop, to give the call back
    dialed_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_calls_lead_idx ON live_calls (lead_id);
CREATE INDEX live_calls_owner_idx ON live_calls (owner);
CREATE INDEX live_calls_recovered_idx ON live_calls (agent_id) WHERE state = 'recovered';

-- Dialer processes alive, by their lease-owner name.
CREATE TABLE dialer_nodes (
    owner         text PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE campaign_leads DROP CONSTRAINT campaign_leads_status_check;
ALTER TABLE campaign_leads ADD CONSTRAINT campaign_leads_status_check
    CHECK (status IN ('new', 'leased', 'done', 'dnc', 'exhausted', 'follow_up'));
