-- Call recordings: the rows, retention and the customer's list.

-- insert_recording --
-- A finished recording. $1 attempt, $2 campaign, $3 name, $4 port, $5 format,
-- $6 duration s, $7 recorded at, $8 retention days (NULL: the campaign's, else 90).
-- Idempotent by name.
INSERT INTO call_recordings (attempt_id, campaign_id, name, port, format, duration_s,
                             recorded_at, delete_after)
VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $7::timestamptz + make_interval(days => COALESCE(
    $8::int,
    (SELECT (telephony ->> 'recording_retention_days')::int FROM campaigns WHERE id = $2),
    90)))
ON CONFLICT (name) DO NOTHING
RETURNING id;

-- get_recording --
-- One recording by id, with the attempt's customer. $1 id
SELECT r.id, r.attempt_id, r.campaign_id, r.name, r.port, r.format, r.duration_s,
       r.recorded_at, r.delete_after, r.deleted_at, a.customer_id
FROM call_recordings r
LEFT JOIN contact_attempts a ON a.id = r.attempt_id
WHERE r.id = $1;

-- customer_recordings --
-- A customer's recordings still kept, newest first. $1 customer id, $2 limit
SELECT r.id, r.attempt_id, r.campaign_id, r.name, r.port, r.format, r.duration_s,
       r.recorded_at, r.delete_after, r.deleted_at, a.customer_id
FROM call_recordings r
JOIN contact_attempts a ON a.id = r.attempt_id
WHERE a.customer_id = $1 AND r.deleted_at IS NULL
ORDER BY r.recorded_at DESC
LIMIT $2;

-- due_for_deletion --
-- Recordings past their retention, oldest first. $1 now, $2 limit
SELECT id, name, port
FROM call_recordings
WHERE deleted_at IS NULL AND delete_after <= $1
ORDER BY delete_after
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- mark_deleted --
-- $1 id, $2 when
UPDATE call_recordings SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL;
