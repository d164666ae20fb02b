-- Segments: contact history, the per-customer purchase summary with RFM scores,
-- and saved segments (dynamic filters and static snapshots).

-- One row per dial of a customer; the live dialer appends, nothing updates.
CREATE TABLE contact_attempts (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    campaign_id  bigint,                 -- NULL: a manual or inbound contact
    phone_e164   text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL,          -- carrier outcome: answered_live, busy, no_answer, ...
    disposition  text,                   -- the agent's code: sale, no_sale, callback, dnc, ...
    agent_id     bigint,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX contact_attempts_customer_at_idx ON contact_attempts (customer_id, at DESC);
CREATE INDEX contact_attempts_at_idx ON contact_attempts (at);
CREATE INDEX contact_attempts_campaign_idx ON contact_attempts (campaign_id, at);

-- Per-customer purchase summary, rebuilt by the RFM refresh so previews do not
-- aggregate orders. A customer with no counted purchase has no row.
CREATE TABLE customer_stats (
    customer_id        bigint PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    order_count        integer NOT NULL,
    total_spend_krw    bigint NOT NULL,
    first_purchase_at  timestamptz NOT NULL,
    last_purchase_at   timestamptz NOT NULL,
    rfm_r              smallint NOT NULL CHECK (rfm_r BETWEEN 1 AND 5),
    rfm_f              smallint NOT NULL CHECK (rfm_f BETWEEN 1 AND 5),
    rfm_m              smallint NOT NULL CHECK (rfm_m BETWEEN 1 AND 5),
    refreshed_at       timestamptz NOT NULL
);
CREATE INDEX customer_stats_last_purchase_idx ON customer_stats (last_purchase_at);
CREATE INDEX customer_stats_spend_idx ON customer_stats (total_spend_krw);
CREATE INDEX customer_stats_rfm_idx ON customer_stats (rfm_r, rfm_f, rfm_m);

-- One row per RFM refresh: when, why, how many customers were scored.
CREATE TABLE rfm_runs (
    id           bigserial PRIMARY KEY,
    trigger      text NOT NULL,          -- job | api | cli | bench
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    customers    integer NOT NULL
);

CREATE TABLE segments (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('dynamic', 'static')),
    filter        jsonb NOT NULL,
    member_count  integer,               -- static: the snapshot's size; dynamic: at save time
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    snapshot_at   timestamptz            -- static only
);

-- The frozen membership of a static segment.
CREATE TABLE segment_members (
    segment_id   bigint NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (segment_id, customer_id)
);


-- "Bought a product/category (within N days)" reads the live orders: covering indexes let
-- it find the lines of a category's SKUs and their orders without visiting the tables.
CREATE INDEX order_lines_sku_cover_idx ON order_lines (sku_id) INCLUDE (order_id, qty, cancelled_qty);
CREATE INDEX orders_placed_cover_idx ON orders (placed_at) INCLUDE (customer_id, status);
