-- Inbound order lines (issue 15): queues fed by called numbers, agents' skills, the
-- broadcast schedule, every inbound call logged, keep-my-place callbacks, ARS menus and
-- their sessions, and customers' registered payment methods (ARS confirms them by the
-- last four digits).

CREATE TABLE inbound_queues (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    kind              text NOT NULL DEFAULT 'order' CHECK (kind IN ('order', 'vip', 'service')),
    priority          integer NOT NULL DEFAULT 0,            -- higher answers first (VIP)
    overflow_s        double precision NOT NULL DEFAULT 15 CHECK (overflow_s >= 0),
    announce_every_s  double precision NOT NULL DEFAULT 30 CHECK (announce_every_s >= 10),
    callback_after_s  double precision NOT NULL DEFAULT 45 CHECK (callback_after_s >= 0),
    wrap_s            double precision NOT NULL DEFAULT 10 CHECK (wrap_s >= 0),
    aht_s             double precision NOT NULL DEFAULT 240 CHECK (aht_s > 0),
    is_default        boolean NOT NULL DEFAULT false,        -- unknown numbers land here
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inbound_queues_one_default ON inbound_queues (is_default) WHERE is_default;
INSERT INTO inbound_queues (name, kind, priority, is_default) VALUES ('order-line', 'order', 0, true);

-- Called numbers (as dialled, digits only or E.164) and the queue each feeds.
CREATE TABLE inbound_numbers (
    called    text PRIMARY KEY,
    queue_id  bigint NOT NULL REFERENCES inbound_queues (id) ON DELETE CASCADE,
    ars       boolean NOT NULL DEFAULT false                  -- the ARS menu answers first
);

-- Skills: agent (users.id) on a queue at a level, 1 the best.
CREATE TABLE agent_skills (
    agent_id  bigint NOT NULL,
    queue_id  bigint NOT NULL REFERENCES inbound_queues (id) ON DELETE CASCADE,
    level     smallint NOT NULL CHECK (level BETWEEN 1 AND 9),
    PRIMARY KEY (agent_id, queue_id)
);
CREATE INDEX agent_skills_queue_idx ON agent_skills (queue_id, level);

-- The programme schedule: what is on air, and how many calls it is expected to bring.
CREATE TABLE broadcasts (
    id              bigserial PRIMARY KEY,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL CHECK (ends_at > starts_at),
    title           text NOT NULL DEFAULT '',
    products        text[] NOT NULL,                          -- product codes, key order in ARS
    expected_calls  integer NOT NULL CHECK (expected_calls >= 0),
    queue_id        bigint NOT NULL REFERENCES inbound_queues (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL DEFAULT 'system'
);
CREATE INDEX broadcasts_time_idx ON broadcasts (starts_at, ends_at);

-- Every inbound call, from arrival to its end; unknown called numbers are flagged.
CREATE TABLE inbound_calls (
    id              bigserial PRIMARY KEY,
    call_id         text NOT NULL UNIQUE,
    caller_e164     text,
    called          text NOT NULL,
    unknown_number  boolean NOT NULL DEFAULT false,
    queue_id        bigint REFERENCES inbound_queues (id),
    customer_id     bigint,
    broadcast_id    bigint,
    arrived_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    agent_id        bigint,
    ended_at        timestamptz,
    outcome         text CHECK (outcome IN
                      ('answered', 'abandoned', 'callback', 'ars_order', 'ars_hangup', 'failed'))
);
CREATE INDEX inbound_calls_arrived_idx ON inbound_calls (arrived_at DESC);
CREATE INDEX inbound_calls_queue_idx ON inbound_calls (queue_id, arrived_at DESC);

-- Keep-my-place callbacks: the caller hung up and keeps the place they had
-- (place_since = when they first called). Dialled only once an agent is reserved for it.
CREATE TABLE inbound_callbacks (
    id            bigserial PRIMARY KEY,
    queue_id      bigint NOT NULL REFERENCES inbound_queues (id),
    call_id       text NOT NULL UNIQUE,                        -- the call that asked for it
    phone_e164    text NOT NULL,
    customer_id   bigint,
    place_since   timestamptz NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN
                    ('pending', 'dialing', 'connected', 'failed', 'cancelled')),
    agent_id      bigint,
    attempts      integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_callbacks_pending_idx ON inbound_callbacks (queue_id, place_since)
    WHERE status IN ('pending', 'dialing');

-- A customer's payment methods registered for phone orders (the payment gateway's billing
-- key stays with the gateway; Telemart keeps what the caller confirms by).
CREATE TABLE registered_payments (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind         text NOT NULL DEFAULT 'card' CHECK (kind IN ('card')),
    label        text NOT NULL,
    last4        char(4) NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registered_payments_customer_idx ON registered_payments (customer_id) WHERE active;

-- The ARS menu in force (one active), edited as data.
CREATE TABLE ars_menus (
    id          bigserial PRIMARY KEY,
    body        jsonb NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ars_menus_one_active ON ars_menus (active) WHERE active;

-- One row per caller in the ARS menu: where they went and how it ended.
CREATE TABLE ars_sessions (
    call_id      text PRIMARY KEY,
    customer_id  bigint,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    path         text[] NOT NULL DEFAULT '{}',
    outcome      text,                                         -- order | hangup | agent:<why>
    order_id     bigint,
    total_krw    bigint
);
CREATE INDEX ars_sessions_started_idx ON ars_sessions (started_at DESC);
