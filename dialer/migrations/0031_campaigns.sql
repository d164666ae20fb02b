-- Campaigns, their lists (built from segments, with the suppression report) and leads.

CREATE TABLE campaigns (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL,
    status            text NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'running', 'paused', 'stopped')),
    pacing_strategy   text NOT NULL DEFAULT 'progressive',
    pacing_settings   jsonb NOT NULL DEFAULT '{}'::jsonb,
    calling_window    jsonb NOT NULL,      -- {"start": "HH:MM", "end": "HH:MM", "tz": "Asia/Seoul"}
    compliance        jsonb NOT NULL,      -- abandon cap, windows, attempt limits (see docs)
    script            text NOT NULL DEFAULT '',
    data_source_line  text NOT NULL DEFAULT '',
    dispositions      jsonb NOT NULL DEFAULT '[]'::jsonb,
    callbacks         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    stopped_at        timestamptz
);
CREATE INDEX campaigns_status_idx ON campaigns (status);

-- Append-only history of a campaign's status changes.
CREATE TABLE campaign_events (
    id           bigserial PRIMARY KEY,
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    from_status  text,
    to_status    text NOT NULL,
    actor        text NOT NULL
);
CREATE INDEX campaign_events_campaign_idx ON campaign_events (campaign_id, id);

CREATE TABLE campaign_lists (
    id                      bigserial PRIMARY KEY,
    campaign_id             bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    segment_id              bigint,            -- the segment it was cut from (may be deleted since)
    segment_name            text NOT NULL,
    exclude_contacted_days  integer,
    priority                integer NOT NULL DEFAULT 100,
    candidates              integer NOT NULL,  -- segment members considered
    added                   integer NOT NULL,  -- leads created
    suppression             jsonb NOT NULL,    -- {"do_not_call": n, "no_consent": n, ...}
    created_by              text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_lists_campaign_idx ON campaign_lists (campaign_id, id);

-- A lead: one customer's phone number in one campaign. The hopper leases them with
-- FOR UPDATE SKIP LOCKED in (next_attempt_at, priority, position) order.
CREATE TABLE campaign_leads (
    id                bigserial PRIMARY KEY,
    campaign_id       bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list_id           bigint NOT NULL REFERENCES campaign_lists (id) ON DELETE CASCADE,
    customer_id       bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    phone_e164        text NOT NULL,
    priority          integer NOT NULL DEFAULT 100,   -- lower is dialled first
    position          integer NOT NULL,               -- order within its list
    status            text NOT NULL DEFAULT 'new'
                      CHECK (status IN ('new', 'leased', 'done', 'dnc', 'exhausted')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    lease_owner       text,
    lease_expires_at  timestamptz,
    last_outcome      text,
    UNIQUE (campaign_id, customer_id)
);
CREATE INDEX campaign_leads_hopper_idx
    ON campaign_leads (campaign_id, status, next_attempt_at, priority, position);
CREATE INDEX campaign_leads_customer_idx ON campaign_leads (customer_id) WHERE status IN ('new', 'leased');
CREATE INDEX campaign_leads_list_idx ON campaign_leads (list_id);
CREATE INDEX campaign_leads_lease_idx ON campaign_leads (lease_expires_at) WHERE status = 'leased';
