-- The live dialer: callbacks on campaign leads, refusals at dial time and each call's
-- journey. Campaigns, leads and contact attempts come from 0030-0031.

-- A callback is a lead due again at a set time, for one agent or for anyone.
ALTER TABLE campaign_leads ADD COLUMN IF NOT EXISTS callback_at timestamptz;
ALTER TABLE campaign_leads ADD COLUMN IF NOT EXISTS callback_agent_id bigint;
CREATE INDEX campaign_leads_callback_idx ON campaign_leads (campaign_id, callback_at)
    WHERE callback_at IS NOT NULL;

-- What the compliance guard refused at dial time, with the rule, so it can be proven.
CREATE TABLE dial_refusals (
    id           bigserial PRIMARY KEY,
    campaign_id  bigint NOT NULL,
    lead_id      bigint,
    rule         text NOT NULL,
    detail       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dial_refusals_campaign_idx ON dial_refusals (campaign_id, at DESC);

-- One row per dial, keyed by the contact attempt: every step of the call, timestamped.
-- Order steps come from orders.attempt_id (placed_at) and the order's events.
CREATE TABLE call_journeys (
    attempt_id          bigint PRIMARY KEY,
    campaign_id         bigint NOT NULL,
    lead_id             bigint NOT NULL,
    agent_id            bigint,
    dialer              text NOT NULL,
    mode                text NOT NULL DEFAULT 'predictive',   -- or 'preview'
    outcome             text,
    queued_at           timestamptz NOT NULL,
    dialed_at           timestamptz,
    ringing_at          timestamptz,
    answered_at         timestamptz,
    agent_connected_at  timestamptz,
    pop_acked_at        timestamptz,
    ended_at            timestamptz,
    order_submitted_at  timestamptz,
    order_committed_at  timestamptz,
    order_id            bigint
);
CREATE INDEX call_journeys_campaign_idx ON call_journeys (campaign_id, queued_at DESC);
CREATE INDEX call_journeys_queued_idx ON call_journeys (queued_at DESC);
