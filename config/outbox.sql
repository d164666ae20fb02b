-- The outbox: events for other domains, written in the same transaction as the change
-- that causes them and relayed later by their consumer (safe to run twice). The table
-- (created by orders' first migration) is shared: any domain publishes, each consumer
-- claims its own topics.

-- publish --
-- Events to relay. $1 topics, $2 keys, $3 payloads (same order)
INSERT INTO outbox (topic, key, payload)
SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]);

-- claim --
-- Unprocessed events of the given topics, oldest first, locked so that a second relay
-- skips them. $1 topics, $2 limit
SELECT id, topic, key, payload
FROM outbox
WHERE processed_at IS NULL AND topic = ANY($1::text[])
ORDER BY id
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- mark_processed --
-- Claimed events done. $1 ids
UPDATE outbox SET processed_at = now() WHERE id = ANY($1::bigint[]);
