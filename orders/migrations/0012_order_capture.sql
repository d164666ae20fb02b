-- Order capture: idempotency keys, per-line stock allocations, payment timestamps.

-- One row per Idempotency-Key. Claimed ('running') in its own short transaction
-- before the order is placed; the order's transaction stores the response ('done').
CREATE TABLE idempotency_keys (
    user_id          bigint NOT NULL,
    key              text NOT NULL,
    request_hash     text NOT NULL,
    state            text NOT NULL CHECK (state IN ('running', 'done')),
    response_status  integer,
    response_body    jsonb,
    order_id         bigint REFERENCES orders (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Which stock rows hold which line's units. `qty` is what is still reserved;
-- shipping moves it to `shipped_qty`, cancelling releases it.
CREATE TABLE order_allocations (
    id             bigserial PRIMARY KEY,
    order_id       bigint NOT NULL REFERENCES orders (id),
    order_line_id  bigint NOT NULL REFERENCES order_lines (id),
    stock_id       bigint NOT NULL REFERENCES stock (id),
    sku_id         bigint NOT NULL REFERENCES skus (id),   -- the stocked SKU (a set's component)
    qty            integer NOT NULL CHECK (qty >= 0),
    shipped_qty    integer NOT NULL DEFAULT 0 CHECK (shipped_qty >= 0)
);
CREATE INDEX order_allocations_order_idx ON order_allocations (order_id, id);
CREATE INDEX order_allocations_line_idx ON order_allocations (order_line_id, id);

ALTER TABLE orders
    ADD COLUMN paid_at     timestamptz,
    ADD COLUMN shipped_at  timestamptz,
    ADD COLUMN delivered_at timestamptz,
    ADD COLUMN cancelled_at timestamptz;
-- The expiry sweep looks for unpaid virtual-account orders past their deadline.
CREATE INDEX orders_unpaid_deadline_idx ON orders (pay_deadline)
    WHERE status = 'placed' AND payment_method = 'virtual_account';
-- Per-customer limits count a customer's units per product.
CREATE INDEX order_lines_sku_order_idx ON order_lines (sku_id, order_id);

-- Order history is append-only.
CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order_events is append-only';
END $$;
CREATE TRIGGER order_events_no_change BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
