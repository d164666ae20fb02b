-- Warehouses, stock counters per SKU and warehouse, and the append-only ledger
-- from which the counters can be rebuilt.

CREATE TABLE warehouses (
    id      bigserial PRIMARY KEY,
    code    text NOT NULL UNIQUE,
    name    text NOT NULL
);

CREATE TABLE stock (
    id            bigserial PRIMARY KEY,   -- lock order: always lock stock rows by id
    sku_id        bigint NOT NULL REFERENCES skus (id),
    warehouse_id  bigint NOT NULL REFERENCES warehouses (id),
    on_hand       integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved      integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    low_stock_threshold integer NOT NULL DEFAULT 10,
    UNIQUE (sku_id, warehouse_id)
);

CREATE TABLE stock_movements (
    id            bigserial PRIMARY KEY,
    stock_id      bigint NOT NULL REFERENCES stock (id),
    kind          text NOT NULL CHECK (kind IN
                    ('receipt', 'reservation', 'release', 'shipment', 'return', 'adjustment')),
    -- Signed changes to the two counters.
    on_hand_delta  integer NOT NULL DEFAULT 0,
    reserved_delta integer NOT NULL DEFAULT 0,
    order_id      bigint,
    reason        text,
    actor         text,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_stock_idx ON stock_movements (stock_id, id);
