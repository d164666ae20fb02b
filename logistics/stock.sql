-- Stock counters and the append-only movement ledger.

-- sku_by_id --
-- A SKU by id, with whether it is a set. $1 sku id
SELECT id, code, is_set FROM skus WHERE id = $1;

-- sku_by_code --
-- A SKU by code. $1 sku code
SELECT id, code, is_set FROM skus WHERE code = $1;

-- warehouse_by_code --
-- $1 warehouse code
SELECT id, code, name FROM warehouses WHERE code = $1;

-- default_warehouse --
-- The warehouse used when none is named: the lowest id.
SELECT id, code, name FROM warehouses ORDER BY id LIMIT 1;

-- list_warehouses --
-- Every warehouse in id order.
SELECT id, code, name FROM warehouses ORDER BY id;

-- insert_warehouse --
-- $1 code, $2 name
INSERT INTO warehouses (code, name) VALUES ($1, $2)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
RETURNING id, code, name;

-- ensure_stock_row --
-- Create the counter row for a SKU in a warehouse if missing. $1 sku id, $2 warehouse id
INSERT INTO stock (sku_id, warehouse_id) VALUES ($1, $2)
ON CONFLICT (sku_id, warehouse_id) DO NOTHING;

-- lock_stock_of_skus --
-- Lock every stock row of the SKUs, in primary-key order (the one lock order). $1 sku ids
SELECT id, sku_id, warehouse_id, on_hand, reserved, low_stock_threshold
FROM stock WHERE sku_id = ANY($1::bigint[])
ORDER BY id
FOR NO KEY UPDATE;

-- lock_stock_ids --
-- Lock stock rows by id, in primary-key order. $1 stock ids
SELECT id, sku_id, warehouse_id, on_hand, reserved, low_stock_threshold
FROM stock WHERE id = ANY($1::bigint[])
ORDER BY id
FOR NO KEY UPDATE;

-- lock_stock_row --
-- Lock one SKU's row in one warehouse. $1 sku id, $2 warehouse id
SELECT id, sku_id, warehouse_id, on_hand, reserved, low_stock_threshold
FROM stock WHERE sku_id = $1 AND warehouse_id = $2
FOR NO KEY UPDATE;

-- apply_movements --
-- Append ledger rows and move the counters by their sum, in one statement.
-- Callers hold the rows' locks (taken in id order). $1 stock ids, $2 kinds,
-- $3 on-hand deltas, $4 reserved deltas, $5 order ids, $6 reasons, $7 actors
WITH m AS (
    INSERT INTO stock_movements
        (stock_id, kind, on_hand_delta, reserved_delta, order_id, reason, actor)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[],
                         $5::bigint[], $6::text[], $7::text[])
    RETURNING stock_id, on_hand_delta, reserved_delta
), d AS (
    SELECT stock_id, sum(on_hand_delta)::int AS dh, sum(reserved_delta)::int AS dr
    FROM m GROUP BY stock_id
)
UPDATE stock s SET on_hand = s.on_hand + d.dh, reserved = s.reserved + d.dr
FROM d WHERE s.id = d.stock_id
RETURNING s.id, s.sku_id, s.warehouse_id, s.on_hand, s.reserved, s.low_stock_threshold;

-- reserve_guarded --
-- Reserve units only if every row still has them: lock the rows in primary-key order (the
-- one lock order; a row changed since the caller looked at it is seen as it is now), and
-- only if each row's on_hand - reserved covers its units append the 'reservation' ledger
-- rows and move the counters. Returns the locked rows as they were before, and `ok`.
-- $1 rows to lock (sorted ids, a superset of the movements' rows), $2 stock ids,
-- $3 reserved units, $4 order ids, $5 actors
WITH locked AS MATERIALIZED (
    SELECT id, sku_id, warehouse_id, on_hand, reserved, low_stock_threshold
    FROM stock WHERE id = ANY($1::bigint[]) ORDER BY id
    FOR NO KEY UPDATE
), m AS (
    SELECT * FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::text[])
        AS t(stock_id, n, order_id, actor)
), need AS (
    SELECT stock_id, sum(n)::int AS n FROM m GROUP BY stock_id
), verdict AS MATERIALIZED (
    SELECT count(l.id) = count(*) AND coalesce(bool_and(l.on_hand - l.reserved >= need.n), true)
           AS ok
    FROM need LEFT JOIN locked l ON l.id = need.stock_id
), ins AS (
    INSERT INTO stock_movements (stock_id, kind, reserved_delta, order_id, actor)
    SELECT stock_id, 'reservation', n, order_id, actor FROM m
    WHERE (SELECT ok FROM verdict)
), upd AS (
    UPDATE stock s SET reserved = s.reserved + need.n
    FROM need
    WHERE s.id = need.stock_id AND (SELECT ok FROM verdict)
)
SELECT l.*, (SELECT ok FROM verdict) AS ok FROM locked l ORDER BY l.id;

-- available_by_sku --
-- Available units (on hand - reserved, summed over warehouses) per SKU. $1 sku ids
SELECT sku_id, sum(on_hand - reserved)::int AS available
FROM stock WHERE sku_id = ANY($1::bigint[]) GROUP BY sku_id;

-- stock_levels --
-- Counter rows with SKU and warehouse codes, id order from a cursor.
-- $1 only low rows (available <= threshold), $2 after stock id, $3 limit
SELECT s.id, s.sku_id, k.code AS sku_code, s.warehouse_id, w.code AS warehouse_code,
       s.on_hand, s.reserved, s.low_stock_threshold
FROM stock s JOIN skus k ON k.id = s.sku_id JOIN warehouses w ON w.id = s.warehouse_id
WHERE (NOT $1::boolean OR s.on_hand - s.reserved <= s.low_stock_threshold) AND s.id > $2
ORDER BY s.id LIMIT $3;

-- set_low_threshold --
-- $1 stock id, $2 threshold
UPDATE stock SET low_stock_threshold = $2 WHERE id = $1;

-- check_counters --
-- Every counter row beside the sums of its ledger (one snapshot).
SELECT s.id, s.sku_id, s.warehouse_id, s.on_hand, s.reserved,
       coalesce(l.on_hand, 0)::bigint AS ledger_on_hand,
       coalesce(l.reserved, 0)::bigint AS ledger_reserved
FROM stock s
LEFT JOIN (
    SELECT stock_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
    FROM stock_movements GROUP BY stock_id
) l ON l.stock_id = s.id
ORDER BY s.id;

-- last_shipment_row --
-- The stock row an order's SKU last shipped from. $1 order id, $2 sku id
SELECT m.stock_id FROM stock_movements m JOIN stock s ON s.id = m.stock_id
WHERE m.order_id = $1 AND s.sku_id = $2 AND m.kind = 'shipment'
ORDER BY m.id DESC LIMIT 1;
