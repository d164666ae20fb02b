-- Shipments made from paid orders, their tracking checkpoints, and returns.

-- One parcel. An order has one or more (split shipments: seq 1, 2, ...); the
-- relay creates seq 1, so (order_id, seq) unique makes the relay safe to rerun.
CREATE TABLE shipments (
    id               bigserial PRIMARY KEY,
    order_id         bigint NOT NULL REFERENCES orders (id),
    seq              integer NOT NULL CHECK (seq > 0),
    customer_id      bigint NOT NULL,
    lines            jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [{sku_id, qty}]
    delivery         jsonb NOT NULL DEFAULT '{}'::jsonb,  -- name, phone, address, postal_code
    phone_e164       text,                                -- delivery phone, for search
    cod              boolean NOT NULL DEFAULT false,
    kind             text NOT NULL DEFAULT 'order' CHECK (kind IN ('order', 'exchange')),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN
                       ('pending', 'info_received', 'in_transit', 'out_for_delivery',
                        'attempt_fail', 'available_for_pickup', 'delivered', 'exception',
                        'returned_to_sender', 'expired', 'cancelled')),
    -- The status's ordering key (tier, time, rank): a checkpoint moves the
    -- shipment only if its key is greater, so arrival order does not matter.
    status_tier      smallint NOT NULL DEFAULT 0,
    status_at        timestamptz NOT NULL DEFAULT '-infinity',
    status_rank      smallint NOT NULL DEFAULT 0,
    carrier          text,
    tracking_number  text,
    dispatched_at    timestamptz,
    delivered_at     timestamptz,
    last_event_at    timestamptz,     -- newest checkpoint time seen (any status)
    next_poll_at     timestamptz,     -- carriers without push: when to ask again
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, seq),
    UNIQUE (carrier, tracking_number),
    CHECK ((carrier IS NULL) = (tracking_number IS NULL))
);
CREATE INDEX shipments_status_idx ON shipments (status, carrier, id);
CREATE INDEX shipments_tracking_idx ON shipments (tracking_number);
CREATE INDEX shipments_phone_idx ON shipments (phone_e164);
CREATE INDEX shipments_poll_idx ON shipments (next_poll_at) WHERE next_poll_at IS NOT NULL;

-- Every checkpoint a carrier reported, append-only. dedup_key is the provider's
-- event id when it sends one, else a hash of (status, time, location).
CREATE TABLE tracking_checkpoints (
    id           bigserial PRIMARY KEY,
    shipment_id  bigint NOT NULL REFERENCES shipments (id),
    provider     text NOT NULL,
    dedup_key    text NOT NULL,
    status       text NOT NULL,
    raw_status   text,
    occurred_at  timestamptz NOT NULL,
    location     text NOT NULL DEFAULT '',
    message      text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shipment_id, dedup_key)
);
CREATE INDEX tracking_checkpoints_shipment_idx ON tracking_checkpoints (shipment_id, occurred_at);

-- A return or exchange: requested -> pickup -> received -> restocked -> refunded.
CREATE TABLE returns (
    id                      bigserial PRIMARY KEY,
    order_id                bigint NOT NULL REFERENCES orders (id),
    shipment_id             bigint REFERENCES shipments (id),
    kind                    text NOT NULL CHECK (kind IN ('return', 'exchange')),
    reason                  text NOT NULL,
    note                    text NOT NULL DEFAULT '',
    lines                   jsonb NOT NULL,          -- [{sku_id, qty}]
    status                  text NOT NULL DEFAULT 'requested' CHECK (status IN
                              ('requested', 'pickup_scheduled', 'in_transit', 'received',
                               'restocked', 'refunded', 'exchanged', 'rejected', 'cancelled')),
    refund_status           text NOT NULL DEFAULT 'none' CHECK (refund_status IN
                              ('none', 'pending', 'refunded', 'not_applicable')),
    deadline                timestamptz,             -- end of the cancellation window
    pickup_carrier          text,
    pickup_tracking_number  text,
    replacement_shipment_id bigint REFERENCES shipments (id),
    requested_by            text NOT NULL,
    requested_at            timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returns_order_idx ON returns (order_id);
CREATE INDEX returns_status_idx ON returns (status, id);

CREATE TABLE return_events (
    id         bigserial PRIMARY KEY,
    return_id  bigint NOT NULL REFERENCES returns (id),
    at         timestamptz NOT NULL DEFAULT now(),
    status     text NOT NULL,
    actor      text NOT NULL,
    note       text NOT NULL DEFAULT ''
);
CREATE INDEX return_events_return_idx ON return_events (return_id, id);
