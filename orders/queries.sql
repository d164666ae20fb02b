-- Order capture, lifecycle and reads.

-- skus_for_order --
-- SKUs with their product's price rules and set components. $1 sku ids
SELECT k.id, k.code, k.is_set, k.price_krw AS sku_price_krw, p.id AS product_id,
       p.price_krw, p.broadcast_price_krw, p.broadcast_from, p.broadcast_until,
       p.per_customer_limit, p.active,
       coalesce(array_agg(c.component_sku_id ORDER BY c.component_sku_id)
                FILTER (WHERE c.component_sku_id IS NOT NULL), '{}') AS component_ids,
       coalesce(array_agg(c.qty ORDER BY c.component_sku_id)
                FILTER (WHERE c.component_sku_id IS NOT NULL), '{}') AS component_qtys
FROM skus k JOIN products p ON p.id = k.product_id
LEFT JOIN set_components c ON c.set_sku_id = k.id
WHERE k.id = ANY($1::bigint[])
GROUP BY k.id, p.id;

-- prepare_batch --
-- The batch's first statement: claim its Idempotency-Keys ('running'; a key held by another
-- transaction is waited for, a key already there is not claimed), which of the ids are
-- customers, ids for the batch's orders and lines (unused ones are simply skipped), and a
-- snapshot (no lock) of the stock rows of the stocked SKUs, in id order.
-- $1 customer ids, $2 number of orders, $3 number of lines, $4 key user ids, $5 keys,
-- $6 request hashes, $7 stocked sku ids
WITH c AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, state)
    SELECT u, k, h, 'running' FROM unnest($4::bigint[], $5::text[], $6::text[]) AS t(u, k, h)
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING user_id, key
), s AS MATERIALIZED (
    SELECT id, sku_id, warehouse_id, on_hand, reserved, low_stock_threshold
    FROM stock WHERE sku_id = ANY($7::bigint[]) ORDER BY id
)
SELECT array(SELECT id FROM customers WHERE id = ANY($1::bigint[])) AS customer_ids,
       array(SELECT nextval('orders_id_seq') FROM generate_series(1, $2)) AS order_ids,
       array(SELECT nextval('order_lines_id_seq') FROM generate_series(1, $3)) AS line_ids,
       array(SELECT user_id::text || ':' || key FROM c) AS claimed,
       array(SELECT id FROM s ORDER BY id) AS stock_ids,
       array(SELECT sku_id FROM s ORDER BY id) AS stock_sku_ids,
       array(SELECT warehouse_id FROM s ORDER BY id) AS stock_warehouse_ids,
       array(SELECT on_hand FROM s ORDER BY id) AS stock_on_hand,
       array(SELECT reserved FROM s ORDER BY id) AS stock_reserved,
       array(SELECT low_stock_threshold FROM s ORDER BY id) AS stock_thresholds;

-- lock_customers --
-- Serialise orders of the same customers (per-customer limits), in id order.
-- $1 lock namespace, $2 customer ids
SELECT count(pg_advisory_xact_lock($1::int, (c % 2147483647)::int))
FROM (SELECT DISTINCT unnest($2::bigint[]) AS c ORDER BY 1) s;

-- units_bought --
-- Units of each product a customer holds in live orders. $1 customer ids, $2 product ids
SELECT o.customer_id, k.product_id, sum(l.qty - l.cancelled_qty)::int AS units
FROM orders o
JOIN order_lines l ON l.order_id = o.id
JOIN skus k ON k.id = l.sku_id
WHERE o.customer_id = ANY($1::bigint[]) AND k.product_id = ANY($2::bigint[])
  AND o.status NOT IN ('cancelled', 'expired')
GROUP BY o.customer_id, k.product_id;

-- write_orders --
-- Write a batch of orders in one statement (foreign keys are checked at its end):
-- orders $1 ids, $2 customer ids, $3 statuses, $4 totals, $5 payment methods, $6 payments,
--   $7 pay deadlines, $8 deliveries, $9 attempt ids, $10 agent ids, $11 placed at, $12 paid at;
-- lines $13 ids, $14 order ids, $15 sku ids, $16 qtys, $17 unit prices;
-- allocations $18 order ids, $19 line ids, $20 stock ids, $21 sku ids, $22 qtys;
-- events $23 order ids, $24 types, $25 actors, $26 details, $27 at;
-- outbox $28 topics, $29 keys, $30 payloads;
-- answered idempotency keys $31 user ids, $32 keys, $33 statuses, $34 bodies, $35 order ids;
-- released keys (refused requests) $36 user ids, $37 keys
WITH r AS (
    DELETE FROM idempotency_keys k
    USING unnest($36::bigint[], $37::text[]) AS t(user_id, key)
    WHERE k.user_id = t.user_id AND k.key = t.key AND k.state = 'running'
), o AS (
    INSERT INTO orders (id, customer_id, status, total_krw, payment_method, payment,
                        pay_deadline, delivery, attempt_id, agent_id, placed_at, updated_at,
                        paid_at)
    SELECT id, customer_id, status, total, method, payment, deadline, delivery, attempt, agent,
           placed, placed, paid
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::jsonb[],
                $7::timestamptz[], $8::jsonb[], $9::bigint[], $10::bigint[], $11::timestamptz[],
                $12::timestamptz[])
         AS t(id, customer_id, status, total, method, payment, deadline, delivery, attempt,
              agent, placed, paid)
), l AS (
    INSERT INTO order_lines (id, order_id, sku_id, qty, unit_price_krw)
    SELECT * FROM unnest($13::bigint[], $14::bigint[], $15::bigint[], $16::int[], $17::bigint[])
), a AS (
    INSERT INTO order_allocations (order_id, order_line_id, stock_id, sku_id, qty)
    SELECT * FROM unnest($18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[], $22::int[])
), e AS (
    INSERT INTO order_events (order_id, type, actor, details, at)
    SELECT * FROM unnest($23::bigint[], $24::text[], $25::text[], $26::jsonb[],
                         $27::timestamptz[])
), x AS (
    INSERT INTO outbox (topic, key, payload)
    SELECT * FROM unnest($28::text[], $29::text[], $30::jsonb[])
)
UPDATE idempotency_keys k
SET state = 'done', response_status = t.status, response_body = t.body, order_id = t.order_id,
    completed_at = now()
FROM unnest($31::bigint[], $32::text[], $33::int[], $34::jsonb[], $35::bigint[])
     AS t(user_id, key, status, body, order_id)
WHERE k.user_id = t.user_id AND k.key = t.key;

-- insert_events --
-- Append order events. $1 order ids, $2 types, $3 actors, $4 details, $5 at
INSERT INTO order_events (order_id, type, actor, details, at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[]);

-- insert_outbox --
-- Events for other domains, same transaction. $1 topics, $2 keys, $3 payloads
INSERT INTO outbox (topic, key, payload)
SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]);

-- lock_order --
-- One order, locked for a status change. $1 order id
SELECT * FROM orders WHERE id = $1 FOR UPDATE;

-- order_by_id --
-- $1 order id
SELECT * FROM orders WHERE id = $1;

-- lines_of_orders --
-- Lines with SKU codes. $1 order ids
SELECT l.*, k.code AS sku_code FROM order_lines l JOIN skus k ON k.id = l.sku_id
WHERE l.order_id = ANY($1::bigint[]) ORDER BY l.order_id, l.id;

-- events_of_order --
-- $1 order id
SELECT id, at, type, actor, details FROM order_events WHERE order_id = $1 ORDER BY id;

-- allocations_of_order --
-- An order's allocations still holding stock. $1 order id
SELECT id, order_line_id, stock_id, sku_id, qty FROM order_allocations
WHERE order_id = $1 AND qty > 0 ORDER BY id;

-- components_of_skus --
-- Set components. $1 set sku ids
SELECT set_sku_id, component_sku_id, qty FROM set_components
WHERE set_sku_id = ANY($1::bigint[]);

-- set_allocation_qty --
-- $1 allocation ids, $2 new reserved qtys, $3 shipped increments
UPDATE order_allocations a SET qty = t.qty, shipped_qty = a.shipped_qty + t.shipped
FROM unnest($1::bigint[], $2::int[], $3::int[]) AS t(id, qty, shipped)
WHERE a.id = t.id;

-- cancel_line_units --
-- $1 line ids, $2 units cancelled now
UPDATE order_lines l SET cancelled_qty = l.cancelled_qty + t.n
FROM unnest($1::bigint[], $2::int[]) AS t(id, n) WHERE l.id = t.id;

-- set_status --
-- $1 order id, $2 status, $3 at, $4 total (NULL keeps it)
UPDATE orders SET status = $2, updated_at = $3, total_krw = coalesce($4, total_krw),
    paid_at = CASE WHEN $2 = 'paid' THEN $3 ELSE paid_at END,
    shipped_at = CASE WHEN $2 = 'shipped' THEN $3 ELSE shipped_at END,
    delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END,
    cancelled_at = CASE WHEN $2 IN ('cancelled', 'expired') THEN $3 ELSE cancelled_at END
WHERE id = $1;

-- due_unpaid --
-- Unpaid virtual-account orders past their deadline; skips orders locked elsewhere.
-- $1 now, $2 limit
SELECT id FROM orders
WHERE status = 'placed' AND payment_method = 'virtual_account' AND pay_deadline < $1
ORDER BY pay_deadline, id LIMIT $2
FOR UPDATE SKIP LOCKED;

-- list_orders --
-- Newest first, from a cursor. $1 before id (0 = from the newest), $2 status, $3 customer id,
-- $4 agent id, $5 placed from, $6 placed until, $7 limit
SELECT * FROM orders
WHERE ($1::bigint = 0 OR id < $1)
  AND ($2::text IS NULL OR status = $2)
  AND ($3::bigint IS NULL OR customer_id = $3)
  AND ($4::bigint IS NULL OR agent_id = $4)
  AND ($5::timestamptz IS NULL OR placed_at >= $5)
  AND ($6::timestamptz IS NULL OR placed_at < $6)
ORDER BY id DESC LIMIT $7;

-- read_keys --
-- Keys a batch could not claim, with whether a 'running' claim is stale.
-- $1 user ids, $2 keys, $3 lease seconds
SELECT k.user_id, k.key, k.request_hash, k.state, k.response_status, k.response_body,
       now() - k.created_at > make_interval(secs => $3) AS stale
FROM idempotency_keys k JOIN unnest($1::bigint[], $2::text[]) AS t(user_id, key)
  ON k.user_id = t.user_id AND k.key = t.key;

-- take_over_key --
-- Take over a claim whose holder died. $1 user id, $2 key, $3 lease seconds
UPDATE idempotency_keys SET created_at = now()
WHERE user_id = $1 AND key = $2 AND state = 'running'
  AND now() - created_at > make_interval(secs => $3)
RETURNING key;

-- purge_keys --
-- Forget answered keys older than the retention. $1 retention seconds
DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1);

-- recent_for_customer --
-- A customer's last orders with their items in one line, newest first.
-- $1 customer id, $2 limit
SELECT o.id, o.placed_at, o.status, o.total_krw,
       (SELECT string_agg(p.name || ' x' || l.qty, ', ' ORDER BY l.id)
        FROM order_lines l JOIN skus s ON s.id = l.sku_id JOIN products p ON p.id = s.product_id
        WHERE l.order_id = o.id) AS items
FROM orders o WHERE o.customer_id = $1 ORDER BY o.placed_at DESC LIMIT $2;

-- call_orders_since --
-- Orders taken on calls (attempt id set) since a time, cancelled ones left out.
-- $1 since
SELECT id, attempt_id, total_krw, placed_at
FROM orders
WHERE placed_at >= $1 AND attempt_id IS NOT NULL AND status <> 'cancelled';

-- orders_of_attempts --
-- The first order taken on each of these calls, with when its first event was written.
-- $1 attempt ids
SELECT DISTINCT ON (o.attempt_id) o.id, o.attempt_id, o.total_krw, o.placed_at,
       (SELECT min(e.at) FROM order_events e WHERE e.order_id = o.id) AS first_event_at
FROM orders o
WHERE o.attempt_id = ANY ($1::bigint[])
ORDER BY o.attempt_id, o.id;

-- products_bought --
-- The products a customer has ordered (not cancelled), most recent first. $1 customer id
SELECT k.product_id, max(o.placed_at) AS last_at
FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN skus k ON k.id = l.sku_id
WHERE o.customer_id = $1 AND o.status <> 'cancelled'
GROUP BY k.product_id ORDER BY last_at DESC;
