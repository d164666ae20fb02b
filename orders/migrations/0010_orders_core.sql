-- Catalog and orders: the tables other domains read (segments, logistics, reports).
-- Later orders migrations (0012-0019) extend these.

CREATE TABLE products (
    id                    bigserial PRIMARY KEY,
    code                  text NOT NULL UNIQUE,
    name                  text NOT NULL,
    category              text NOT NULL,
    price_krw             bigint NOT NULL CHECK (price_krw >= 0),
    broadcast_price_krw   bigint CHECK (broadcast_price_krw >= 0),
    broadcast_from        timestamptz,
    broadcast_until       timestamptz,
    per_customer_limit    integer CHECK (per_customer_limit > 0),
    active                boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_idx ON products (category);

-- One option variant (size x colour) or one bundle set.
CREATE TABLE skus (
    id            bigserial PRIMARY KEY,
    product_id    bigint NOT NULL REFERENCES products (id),
    code          text NOT NULL UNIQUE,
    option_size   text,
    option_color  text,
    price_krw     bigint CHECK (price_krw >= 0),   -- NULL: the product's price
    is_set        boolean NOT NULL DEFAULT false
);
CREATE INDEX skus_product_idx ON skus (product_id);

-- A set SKU consumes its component SKUs' stock.
CREATE TABLE set_components (
    set_sku_id        bigint NOT NULL REFERENCES skus (id),
    component_sku_id  bigint NOT NULL REFERENCES skus (id),
    qty               integer NOT NULL CHECK (qty > 0),
    PRIMARY KEY (set_sku_id, component_sku_id)
);

CREATE TABLE orders (
    id               bigserial PRIMARY KEY,
    customer_id      bigint NOT NULL REFERENCES customers (id),
    status           text NOT NULL CHECK (status IN
                       ('placed', 'paid', 'preparing', 'shipped', 'delivered', 'cancelled', 'expired')),
    total_krw        bigint NOT NULL CHECK (total_krw >= 0),
    payment_method   text NOT NULL CHECK (payment_method IN
                       ('card', 'virtual_account', 'cod', 'mobile')),
    payment          jsonb NOT NULL DEFAULT '{}'::jsonb,
    pay_deadline     timestamptz,     -- virtual account: unpaid after this, the order expires
    delivery         jsonb NOT NULL,  -- name, phone, address, postal_code
    attempt_id       bigint,          -- the call attempt it came from (attribution)
    agent_id         bigint,          -- users.id of the telemarketer
    placed_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id, placed_at DESC);
CREATE INDEX orders_status_idx ON orders (status, id);
CREATE INDEX orders_placed_at_idx ON orders (placed_at);

CREATE TABLE order_lines (
    id              bigserial PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    sku_id          bigint NOT NULL REFERENCES skus (id),
    qty             integer NOT NULL CHECK (qty > 0),
    cancelled_qty   integer NOT NULL DEFAULT 0 CHECK (cancelled_qty >= 0 AND cancelled_qty <= qty),
    unit_price_krw  bigint NOT NULL CHECK (unit_price_krw >= 0)
);
CREATE INDEX order_lines_order_idx ON order_lines (order_id);
CREATE INDEX order_lines_sku_idx ON order_lines (sku_id);

-- Append-only history of an order.
CREATE TABLE order_events (
    id        bigserial PRIMARY KEY,
    order_id  bigint NOT NULL REFERENCES orders (id),
    at        timestamptz NOT NULL DEFAULT now(),
    type      text NOT NULL,
    actor     text,
    details   jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- Events for other domains, written in the same transaction as the change;
-- a relay reads unprocessed rows in id order (topic e.g. 'order.paid').
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    key           text NOT NULL,          -- e.g. the order id
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);
CREATE INDEX outbox_unprocessed_idx ON outbox (id) WHERE processed_at IS NULL;
