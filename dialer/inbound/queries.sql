-- The inbound side's statements (tables from dialer/migrations/0090_inbound.sql).

-- list_queues --
-- Every queue with its called numbers. No arguments.
SELECT q.*, coalesce(array_agg(n.called ORDER BY n.called) FILTER (WHERE n.called IS NOT NULL),
                     '{}') AS numbers,
       coalesce(bool_or(n.ars), false) AS ars
FROM inbound_queues q LEFT JOIN inbound_numbers n ON n.queue_id = q.id
GROUP BY q.id ORDER BY q.priority DESC, q.id;

-- upsert_queue --
-- Create or change a queue by name. $1 name, $2 kind, $3 priority, $4 overflow_s,
-- $5 announce_every_s, $6 callback_after_s, $7 wrap_s, $8 aht_s
INSERT INTO inbound_queues AS q (name, kind, priority, overflow_s, announce_every_s,
                                 callback_after_s, wrap_s, aht_s)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, priority = EXCLUDED.priority,
    overflow_s = EXCLUDED.overflow_s, announce_every_s = EXCLUDED.announce_every_s,
    callback_after_s = EXCLUDED.callback_after_s, wrap_s = EXCLUDED.wrap_s,
    aht_s = EXCLUDED.aht_s
RETURNING id;

-- queue_id_by_name --
-- $1 name
SELECT id FROM inbound_queues WHERE name = $1;

-- set_number --
-- Point a called number at a queue. $1 called, $2 queue id, $3 ARS first
INSERT INTO inbound_numbers (called, queue_id, ars) VALUES ($1, $2, $3)
ON CONFLICT (called) DO UPDATE SET queue_id = EXCLUDED.queue_id, ars = EXCLUDED.ars;

-- route_number --
-- The queue a called number feeds, or the default queue (flagged unknown). $1 called
SELECT q.id AS queue_id, n.called IS NULL AS unknown, coalesce(n.ars, false) AS ars
FROM inbound_queues q LEFT JOIN inbound_numbers n ON n.called = $1 AND n.queue_id = q.id
WHERE q.id = coalesce((SELECT queue_id FROM inbound_numbers WHERE called = $1),
                      (SELECT id FROM inbound_queues WHERE is_default));

-- set_skill --
-- $1 agent id, $2 queue id, $3 level
INSERT INTO agent_skills (agent_id, queue_id, level) VALUES ($1, $2, $3)
ON CONFLICT (agent_id, queue_id) DO UPDATE SET level = EXCLUDED.level;

-- delete_skill --
-- $1 agent id, $2 queue id
DELETE FROM agent_skills WHERE agent_id = $1 AND queue_id = $2;

-- skills --
-- Every agent's skills. No arguments.
SELECT s.agent_id, s.queue_id, q.name AS queue, s.level
FROM agent_skills s JOIN inbound_queues q ON q.id = s.queue_id
ORDER BY s.agent_id, q.name;

-- insert_broadcasts --
-- Many broadcasts at once. $1 starts, $2 ends, $3 titles, $4 products (one text per row,
-- codes split by ';'), $5 expected calls, $6 queue ids, $7 created by
INSERT INTO broadcasts (starts_at, ends_at, title, products, expected_calls, queue_id,
                        created_by)
SELECT s, e, t, string_to_array(p, ';'), c, q, $7
FROM unnest($1::timestamptz[], $2::timestamptz[], $3::text[], $4::text[], $5::int[],
            $6::bigint[]) AS x (s, e, t, p, c, q)
RETURNING id;

-- overlapping_broadcasts --
-- Broadcasts already stored that overlap a window on a queue. $1 queue id, $2 start, $3 end
SELECT id, starts_at, ends_at FROM broadcasts
WHERE queue_id = $1 AND starts_at < $3 AND $2 < ends_at;

-- list_broadcasts --
-- Broadcasts that end after $1 and start before $2, by start.
SELECT b.*, q.name AS queue FROM broadcasts b JOIN inbound_queues q ON q.id = b.queue_id
WHERE b.ends_at > $1 AND b.starts_at < $2 ORDER BY b.starts_at, b.id;

-- delete_broadcast --
-- $1 id
DELETE FROM broadcasts WHERE id = $1 RETURNING id;

-- on_air --
-- The broadcast on air now on a queue, if any. $1 queue id, $2 now
SELECT * FROM broadcasts WHERE queue_id = $1 AND starts_at <= $2 AND $2 < ends_at
ORDER BY starts_at DESC LIMIT 1;

-- insert_call --
-- A call arrived. $1 call id, $2 caller, $3 called, $4 unknown number, $5 queue id,
-- $6 customer id, $7 broadcast id, $8 arrived at, $9 attempt id (live calls)
INSERT INTO inbound_calls (call_id, caller_e164, called, unknown_number, queue_id, customer_id,
                           broadcast_id, arrived_at, attempt_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (call_id) DO NOTHING;

-- answer_call --
-- $1 call id, $2 agent id, $3 answered at
UPDATE inbound_calls SET answered_at = $3, agent_id = $2 WHERE call_id = $1;

-- end_call --
-- $1 call id, $2 outcome, $3 ended at
UPDATE inbound_calls SET outcome = coalesce(outcome, $2), ended_at = coalesce(ended_at, $3)
WHERE call_id = $1;

-- queue_stats --
-- Per queue since $1: offered, answered, answered within $2 seconds, abandoned,
-- average speed of answer, callbacks pending, calls waiting now and the longest wait.
SELECT q.id, q.name, q.kind, q.priority,
       (SELECT count(*) FROM inbound_calls w WHERE w.queue_id = q.id AND w.arrived_at >= $1
          AND w.answered_at IS NULL AND w.ended_at IS NULL) AS waiting,
       (SELECT extract(epoch FROM now() - min(w.arrived_at))::float8 FROM inbound_calls w
        WHERE w.queue_id = q.id AND w.arrived_at >= $1
          AND w.answered_at IS NULL AND w.ended_at IS NULL) AS longest_wait_s,
       count(c.id) AS offered,
       count(c.answered_at) AS answered,
       count(*) FILTER (WHERE c.answered_at - c.arrived_at <= make_interval(secs => $2))
           AS answered_in_target,
       count(*) FILTER (WHERE c.outcome = 'abandoned') AS abandoned,
       avg(extract(epoch FROM c.answered_at - c.arrived_at))::float8 AS asa_s,
       (SELECT count(*) FROM inbound_callbacks b
        WHERE b.queue_id = q.id AND b.status IN ('pending', 'dialing')) AS callbacks_pending
FROM inbound_queues q
LEFT JOIN inbound_calls c ON c.queue_id = q.id AND c.arrived_at >= $1
    AND c.outcome IS DISTINCT FROM 'ars_order' AND c.outcome IS DISTINCT FROM 'ars_hangup'
GROUP BY q.id ORDER BY q.priority DESC, q.id;

-- measured_patience --
-- What the floor shows of callers' patience since $1: calls that waited for an agent (not
-- those that came through the ARS, whose arrival is not when they began to wait) and
-- were answered, abandoned or left a callback; how many, how many abandoned, and the
-- seconds they waited in all (an answered caller's patience is longer than their wait).
SELECT count(*) AS calls,
       count(*) FILTER (WHERE c.outcome = 'abandoned') AS abandoned,
       coalesce(sum(extract(epoch FROM coalesce(c.answered_at, c.ended_at) - c.arrived_at)),
                0)::float8 AS wait_s
FROM inbound_calls c
WHERE c.arrived_at >= $1 AND c.outcome IN ('answered', 'abandoned', 'callback')
  AND NOT EXISTS (SELECT 1 FROM ars_sessions a WHERE a.call_id = c.call_id);

-- measured_outbound_talk --
-- Outbound talk since $1: campaign calls an agent took and that ended, 5 s to 2 h long
-- (outside that, a glitch or a line left open); how many, mean and standard deviation.
SELECT count(*) AS calls, avg(t.talk_s)::float8 AS mean_s, stddev_samp(t.talk_s)::float8 AS sd_s
FROM (SELECT extract(epoch FROM j.ended_at - j.agent_connected_at) AS talk_s
      FROM call_journeys j
      WHERE j.queued_at >= $1 AND j.campaign_id IS NOT NULL
        AND j.agent_connected_at IS NOT NULL AND j.ended_at IS NOT NULL) t
WHERE t.talk_s BETWEEN 5 AND 7200;

-- insert_callback --
-- $1 queue id, $2 call id, $3 phone, $4 customer id, $5 place since, $6 owner (the dialer
-- process that will dial it; NULL: any)
INSERT INTO inbound_callbacks (queue_id, call_id, phone_e164, customer_id, place_since, owner)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (call_id) DO NOTHING
RETURNING id;

-- set_callback --
-- $1 id, $2 status, $3 agent id, $4 count an attempt
UPDATE inbound_callbacks
SET status = $2, agent_id = $3, attempts = attempts + CASE WHEN $4 THEN 1 ELSE 0 END,
    updated_at = now()
WHERE id = $1
RETURNING *;

-- pending_callbacks --
-- Callbacks not done yet, oldest place first. No arguments.
SELECT b.*, q.name AS queue FROM inbound_callbacks b JOIN inbound_queues q ON q.id = b.queue_id
WHERE b.status IN ('pending', 'dialing') ORDER BY b.place_since, b.id;

-- add_payment --
-- $1 customer id, $2 label, $3 last four digits
INSERT INTO registered_payments (customer_id, label, last4) VALUES ($1, $2, $3) RETURNING id;

-- payments_of --
-- A customer's active registered payments. $1 customer id
SELECT id, kind, label, last4 FROM registered_payments
WHERE customer_id = $1 AND active ORDER BY id;

-- active_menu --
-- The ARS menu in force, if one was saved. No arguments.
SELECT body, updated_by, updated_at FROM ars_menus WHERE active;

-- retire_menu --
-- No arguments.
UPDATE ars_menus SET active = false WHERE active;

-- save_menu --
-- $1 body, $2 by
INSERT INTO ars_menus (body, updated_by) VALUES ($1, $2) RETURNING updated_at;

-- save_session --
-- $1 call id, $2 customer id, $3 started, $4 ended, $5 path, $6 outcome, $7 order id,
-- $8 total
INSERT INTO ars_sessions (call_id, customer_id, started_at, ended_at, path, outcome, order_id,
                          total_krw)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (call_id) DO UPDATE SET ended_at = EXCLUDED.ended_at, path = EXCLUDED.path,
    outcome = EXCLUDED.outcome, order_id = EXCLUDED.order_id, total_krw = EXCLUDED.total_krw;

-- list_sessions --
-- The latest ARS calls. $1 limit
SELECT * FROM ars_sessions ORDER BY started_at DESC LIMIT $1;

-- dispose_call --
-- The agent's disposition of an inbound call. $1 call id, $2 disposition
UPDATE inbound_calls SET disposition = $2 WHERE call_id = $1;

-- claim_callbacks --
-- Pending callbacks nobody alive holds (no owner, or a dialer process that stopped
-- beating), taken by this process; oldest place first.
-- $1 owner (this process), $2 stale after seconds
UPDATE inbound_callbacks b SET owner = $1, status = 'pending', agent_id = NULL,
                               updated_at = now()
FROM inbound_queues q
WHERE q.id = b.queue_id AND b.status IN ('pending', 'dialing')
  AND (b.owner IS NULL OR b.owner = $1 OR NOT EXISTS (
        SELECT 1 FROM dialer_nodes n WHERE n.owner = b.owner
          AND n.heartbeat_at > now() - make_interval(secs => $2)))
RETURNING b.*, q.name AS queue;

-- callback_attempt --
-- The attempt id a callback's call is known by on the desktop. $1 id, $2 attempt id
UPDATE inbound_callbacks SET attempt_id = $2, updated_at = now() WHERE id = $1;

-- pending_callbacks_of_agent --
-- An agent's own callbacks not done yet: being dialled for them, or on their line until
-- the disposition (its journey is open). $1 agent id
SELECT b.*, q.name AS queue
FROM inbound_callbacks b JOIN inbound_queues q ON q.id = b.queue_id
LEFT JOIN call_journeys j ON j.attempt_id = b.attempt_id
WHERE b.agent_id = $1
  AND (b.status IN ('pending', 'dialing') OR (b.status = 'connected' AND j.ended_at IS NULL))
ORDER BY b.place_since, b.id;

-- calls_of_agent --
-- The inbound calls an agent took since a time, newest first: answered, or transferred to
-- them (the call's journey names who held it at the end). $1 agent id, $2 since, $3 limit
SELECT c.*, q.name AS queue FROM inbound_calls c LEFT JOIN inbound_queues q ON q.id = c.queue_id
WHERE (c.agent_id = $1 OR EXISTS (
        SELECT 1 FROM call_journeys j
        WHERE j.attempt_id = c.attempt_id AND j.agent_id = $1 AND j.transferred_from IS NOT NULL))
  AND c.arrived_at >= $2
ORDER BY c.arrived_at DESC LIMIT $3;

-- recent_calls --
-- Every inbound call since a time, newest first. $1 since, $2 limit
SELECT c.*, q.name AS queue FROM inbound_calls c LEFT JOIN inbound_queues q ON q.id = c.queue_id
WHERE c.arrived_at >= $1
ORDER BY c.arrived_at DESC LIMIT $2;


-- close_orphaned_calls --
-- Inbound calls and journeys left open by dialer processes that stopped beating (their
-- callers were cut off with them): ended as failed, so the wallboard does not count them
-- as waiting. A callback such a call became stays pending for another process to claim.
-- $1 stale after seconds
WITH dead AS (
    SELECT j.attempt_id FROM call_journeys j
    WHERE j.mode = 'inbound' AND j.ended_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM dialer_nodes n WHERE n.owner = j.dialer
                        AND n.heartbeat_at > now() - make_interval(secs => $1))
), calls AS (
    UPDATE inbound_calls c SET outcome = coalesce(c.outcome, 'failed'), ended_at = now()
    FROM dead WHERE c.attempt_id = dead.attempt_id AND c.ended_at IS NULL
    RETURNING c.id
)
UPDATE call_journeys j SET outcome = coalesce(j.outcome, 'failed'), ended_at = now()
FROM dead WHERE j.attempt_id = dead.attempt_id
RETURNING j.attempt_id, (SELECT count(*) FROM calls) AS calls;
