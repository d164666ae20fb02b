-- Shipments, what the outbox relay reads of orders, and tracking checkpoints.

-- order_for_shipment --
-- What a shipment needs from its order when the event payload lacks it. $1 order id
SELECT o.id, o.customer_id, o.delivery, o.payment_method, o.status,
       coalesce((SELECT jsonb_agg(jsonb_build_object('sku_id', l.sku_id,
                                                     'qty', l.qty - l.cancelled_qty)
                                  ORDER BY l.id)
                 FROM order_lines l WHERE l.order_id = o.id AND l.qty > l.cancelled_qty),
                '[]'::jsonb) AS lines
FROM orders o WHERE o.id = $1;

-- insert_shipment --
-- A shipment; nothing if (order, seq) exists. $1 order id, $2 seq, $3 customer id,
-- $4 lines jsonb, $5 delivery jsonb, $6 phone e164, $7 cod, $8 kind
INSERT INTO shipments (order_id, seq, customer_id, lines, delivery, phone_e164, cod, kind)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (order_id, seq) DO NOTHING
RETURNING id;

-- cancel_undispatched --
-- An order was cancelled: its shipments not yet handed to a carrier stop here.
-- $1 order id
UPDATE shipments
SET status = 'cancelled', status_tier = 5, status_rank = 8, status_at = now(), updated_at = now()
WHERE order_id = $1 AND tracking_number IS NULL AND status = 'pending'
RETURNING id;

-- shipment_by_id --
-- One shipment with its order's sale channel. $1 shipment id
SELECT s.*, o.attempt_id, o.agent_id, o.status AS order_status, c.name AS customer_name
FROM shipments s JOIN orders o ON o.id = s.order_id
LEFT JOIN customers c ON c.id = s.customer_id
WHERE s.id = $1;

-- lock_shipment --
-- Lock one shipment for a change. $1 shipment id
SELECT * FROM shipments WHERE id = $1 FOR UPDATE;

-- next_seq --
-- The next shipment number of an order. $1 order id
SELECT coalesce(max(seq), 0) + 1 FROM shipments WHERE order_id = $1;

-- set_lines --
-- Replace a shipment's lines (a split moved some away). $1 shipment id, $2 lines jsonb
UPDATE shipments SET lines = $2, updated_at = now() WHERE id = $1;

-- set_tracking --
-- Hand a shipment to a carrier. $1 shipment id, $2 carrier, $3 tracking number,
-- $4 dispatched at, $5 next poll at (NULL for push carriers)
UPDATE shipments
SET carrier = $2, tracking_number = $3, dispatched_at = coalesce(dispatched_at, $4),
    next_poll_at = $5, updated_at = now()
WHERE id = $1;

-- first_undispatched --
-- The order's lowest-numbered shipment still waiting for a tracking number. $1 order id
SELECT id FROM shipments
WHERE order_id = $1 AND tracking_number IS NULL AND status = 'pending'
ORDER BY seq LIMIT 1;

-- checkpoints_of --
-- A shipment's checkpoints, oldest first. $1 shipment id
SELECT id, provider, status, raw_status, occurred_at, location, message, received_at
FROM tracking_checkpoints WHERE shipment_id = $1
ORDER BY occurred_at, id;

-- shipments_by_tracking --
-- Shipments for tracking numbers (one number may exist at two carriers). $1 numbers text[]
SELECT id, order_id, carrier, tracking_number
FROM shipments WHERE tracking_number = ANY($1::text[]);

-- lock_shipments --
-- Lock shipments in id order before moving their status, so concurrent webhook
-- batches queue instead of deadlocking. NO KEY UPDATE: the checkpoints' foreign
-- key holds KEY SHARE on the same rows, which FOR UPDATE would wait on.
-- $1 ids bigint[]
SELECT id FROM shipments WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE;

-- insert_checkpoints --
-- Store checkpoints; a duplicate (same shipment and dedup key) is skipped.
-- $1 shipment ids, $2 provider, $3 dedup keys, $4 statuses, $5 raw statuses,
-- $6 times, $7 locations, $8 messages
INSERT INTO tracking_checkpoints
    (shipment_id, provider, dedup_key, status, raw_status, occurred_at, location, message)
SELECT u.sid, $2, u.dk, u.st, u.raw, u.at, u.loc, u.msg
FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
            $7::text[], $8::text[]) AS u (sid, dk, st, raw, at, loc, msg)
ON CONFLICT (shipment_id, dedup_key) DO NOTHING
RETURNING shipment_id, status, occurred_at;

-- advance_status --
-- Move shipments to a new status only where the new key (tier, time, rank) is
-- greater than the current one: never backwards. Returns the shipments that moved.
-- $1 ids, $2 statuses, $3 tiers, $4 times, $5 ranks
UPDATE shipments s
SET status = v.st, status_tier = v.tier, status_at = v.at, status_rank = v.rnk,
    delivered_at = CASE WHEN v.st = 'delivered' THEN v.at ELSE s.delivered_at END,
    next_poll_at = CASE WHEN v.tier >= 2 THEN NULL ELSE s.next_poll_at END,
    updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::timestamptz[], $5::smallint[])
     AS v (id, st, tier, at, rnk)
WHERE s.id = v.id AND (v.tier, v.at, v.rnk) > (s.status_tier, s.status_at, s.status_rank)
RETURNING s.id, s.order_id, s.status;

-- touch_last_event --
-- Remember the newest checkpoint time per shipment. $1 ids, $2 times
UPDATE shipments s
SET last_event_at = greatest(s.last_event_at, v.at)
FROM unnest($1::bigint[], $2::timestamptz[]) AS v (id, at)
WHERE s.id = v.id;

-- order_all_delivered --
-- True when every live shipment of the order is delivered. $1 order id
SELECT bool_and(status = 'delivered')
FROM shipments WHERE order_id = $1 AND status <> 'cancelled';

-- due_for_poll --
-- Shipments of polled carriers whose next poll is due, oldest first. Locked so
-- that two pollers never ask twice. $1 carriers text[], $2 now, $3 limit
SELECT id, carrier, tracking_number, dispatched_at
FROM shipments
WHERE next_poll_at <= $2 AND carrier = ANY($1::text[]) AND status_tier < 2
ORDER BY next_poll_at
LIMIT $3
FOR UPDATE SKIP LOCKED;

-- set_next_poll --
-- When to poll these shipments again. $1 ids, $2 next poll at
UPDATE shipments SET next_poll_at = $2
WHERE id = ANY($1::bigint[]) AND status_tier < 2;

-- status_counts --
-- Shipments per status and carrier for the board.
SELECT status, coalesce(carrier, '') AS carrier, count(*) AS n
FROM shipments GROUP BY status, carrier;

-- list_shipments --
-- A page of shipments, newest first, with optional filters; a search matches a
-- tracking number, the delivery phone, the order id, or the start of the recipient's or
-- the customer's name.
-- $1 status, $2 carrier, $3 search text, $4 search phone e164, $5 before id, $6 limit,
-- $7 name prefix (LIKE pattern)
SELECT s.*, c.name AS customer_name
FROM shipments s LEFT JOIN customers c ON c.id = s.customer_id
WHERE ($1::text IS NULL OR s.status = $1)
  AND ($2::text IS NULL OR s.carrier = $2)
  AND ($3::text IS NULL OR s.tracking_number = $3 OR s.phone_e164 = $4
       OR s.order_id::text = $3
       OR s.delivery ->> 'name' LIKE $7 OR c.name LIKE $7)
  AND ($5::bigint IS NULL OR s.id < $5)
ORDER BY s.id DESC
LIMIT $6;

-- order_parcel --
-- The order's shipment under this tracking number, if any. $1 order id, $2 carrier,
-- $3 tracking number
SELECT id FROM shipments WHERE order_id = $1 AND carrier = $2 AND tracking_number = $3;

-- first_shipment --
-- The order's first shipment (template for an extra box). $1 order id
SELECT * FROM shipments WHERE order_id = $1 AND status <> 'cancelled' ORDER BY seq LIMIT 1;

-- orders_all_delivered --
-- Of these orders, those whose every live shipment is delivered. $1 order ids
SELECT DISTINCT s.order_id FROM shipments s
WHERE s.order_id = ANY($1::bigint[])
  AND NOT EXISTS (SELECT 1 FROM shipments x WHERE x.order_id = s.order_id
                  AND x.status NOT IN ('delivered', 'cancelled'))
ORDER BY s.order_id;

-- shipments_of_customer --
-- A customer's shipments, newest first. $1 customer id, $2 limit
SELECT s.*, NULL::text AS customer_name FROM shipments s WHERE s.customer_id = $1
ORDER BY s.id DESC LIMIT $2;
