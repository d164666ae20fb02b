-- Shipments that need a person: stuck, failed delivery, carrier exceptions.

-- shipment_exceptions --
-- Shipments to call about, oldest trouble first, with the phone to call.
-- $1 now, $2 stale after (interval), $3 limit
SELECT s.id, s.order_id, s.seq, s.status, s.carrier, s.tracking_number, s.dispatched_at,
       s.last_event_at, s.created_at, s.delivery ->> 'name' AS recipient,
       coalesce(s.phone_e164, c.phone_e164) AS phone, c.name AS customer_name,
       CASE
         WHEN s.status = 'exception' THEN 'exception'
         WHEN s.status = 'attempt_fail' THEN 'attempt_fail'
         WHEN s.status = 'returned_to_sender' THEN 'returned_to_sender'
         WHEN s.tracking_number IS NULL THEN 'not_dispatched'
         ELSE 'stale'
       END AS reason,
       (SELECT t.message FROM tracking_checkpoints t WHERE t.shipment_id = s.id
        ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) AS last_message,
       coalesce(s.last_event_at, s.dispatched_at, s.created_at) AS since
FROM shipments s LEFT JOIN customers c ON c.id = s.customer_id
WHERE s.status IN ('exception', 'attempt_fail')
   OR (s.status = 'returned_to_sender' AND s.status_at > $1::timestamptz - interval '14 days')
   OR (s.status_tier < 2 AND s.tracking_number IS NOT NULL
       AND coalesce(s.last_event_at, s.dispatched_at) < $1::timestamptz - $2::interval)
   OR (s.status = 'pending' AND s.tracking_number IS NULL AND s.created_at < $1::timestamptz - $2::interval)
ORDER BY since, s.id
LIMIT $3;

-- insert_action --
-- Record what staff did about a shipment. $1 shipment id, $2 action, $3 redeliver on,
-- $4 note, $5 actor
INSERT INTO shipment_actions (shipment_id, action, redeliver_on, note, actor)
SELECT id, $2, $3, $4, $5 FROM shipments WHERE id = $1
RETURNING id, shipment_id, action, redeliver_on, note, actor, at;

-- actions_of --
-- A shipment's staff actions, oldest first. $1 shipment id
SELECT id, shipment_id, action, redeliver_on, note, actor, at
FROM shipment_actions WHERE shipment_id = $1 ORDER BY at, id;

-- last_actions --
-- The latest staff action of each shipment. $1 shipment ids
SELECT DISTINCT ON (shipment_id) id, shipment_id, action, redeliver_on, note, actor, at
FROM shipment_actions WHERE shipment_id = ANY($1::bigint[]) ORDER BY shipment_id, at DESC, id DESC;
