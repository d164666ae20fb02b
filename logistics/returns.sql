-- Returns and exchanges.

-- order_for_return --
-- The order, its sale channel and its lines. $1 order id
SELECT o.id, o.status, o.attempt_id, o.agent_id, o.customer_id, o.delivery,
       coalesce((SELECT jsonb_agg(jsonb_build_object('sku_id', l.sku_id,
                                                     'qty', l.qty - l.cancelled_qty))
                 FROM order_lines l WHERE l.order_id = o.id), '[]'::jsonb) AS lines
FROM orders o WHERE o.id = $1 FOR UPDATE;

-- order_receipts --
-- The order's live shipments and when each was received. $1 order id
SELECT id, status, delivered_at, lines FROM shipments
WHERE order_id = $1 AND status <> 'cancelled' ORDER BY seq;

-- returned_qty --
-- Quantities already in live returns of an order, per sku. $1 order id
SELECT (l ->> 'sku_id')::bigint AS sku_id, sum((l ->> 'qty')::int) AS qty
FROM returns r, jsonb_array_elements(r.lines) AS l
WHERE r.order_id = $1 AND r.status NOT IN ('rejected', 'cancelled')
GROUP BY 1;

-- insert_return --
-- A return request. $1 order id, $2 shipment id, $3 kind, $4 reason, $5 note,
-- $6 lines jsonb, $7 deadline, $8 requested by, $9 refund status
INSERT INTO returns (order_id, shipment_id, kind, reason, note, lines, deadline,
                     requested_by, refund_status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *;

-- lock_return --
-- One return, locked for a status change. $1 return id
SELECT * FROM returns WHERE id = $1 FOR UPDATE;

-- return_by_id --
-- One return. $1 return id
SELECT * FROM returns WHERE id = $1;

-- set_return_status --
-- Move a return. $1 id, $2 status, $3 refund status, $4 pickup carrier,
-- $5 pickup tracking number, $6 replacement shipment id
UPDATE returns
SET status = $2, refund_status = $3, pickup_carrier = coalesce($4, pickup_carrier),
    pickup_tracking_number = coalesce($5, pickup_tracking_number),
    replacement_shipment_id = coalesce($6, replacement_shipment_id), updated_at = now()
WHERE id = $1
RETURNING *;

-- insert_return_event --
-- Append to a return's history. $1 return id, $2 status, $3 actor, $4 note
INSERT INTO return_events (return_id, status, actor, note) VALUES ($1, $2, $3, $4);

-- list_returns --
-- Returns, newest first. $1 status (NULL = any), $2 before id, $3 limit
SELECT r.*, c.phone_e164 AS phone, c.name AS customer_name
FROM returns r JOIN orders o ON o.id = r.order_id
LEFT JOIN customers c ON c.id = o.customer_id
WHERE ($1::text IS NULL OR r.status = $1) AND ($2::bigint IS NULL OR r.id < $2)
ORDER BY r.id DESC
LIMIT $3;


-- order_channel --
-- Whether an order was a telephone sale, and its status. $1 order id
SELECT (attempt_id IS NOT NULL OR agent_id IS NOT NULL) AS telephone, status
FROM orders WHERE id = $1;
