-- Calls in flight, durable before they are dialled, and the dialer processes that own them.

-- insert_call --
-- A call about to be dialled. $1 attempt id, $2 call id, $3 campaign id, $4 lead id,
-- $5 customer id, $6 phone, $7 owner, $8 mode, $9 dialed at
INSERT INTO live_calls (attempt_id, call_id, campaign_id, lead_id, customer_id, phone_e164,
                        owner, mode, state, dialed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'dialing', $9);

-- set_state --
-- The call moved on (answered, connected to an agent with its pop, in wrap-up).
-- $1 attempt id, $2 owner, $3 state, $4 agent id, $5 pop
UPDATE live_calls
SET state = $3, agent_id = coalesce($4, agent_id), pop = coalesce($5, pop), updated_at = now()
WHERE attempt_id = $1 AND owner = $2;

-- delete_call --
-- The call is closed by its owner; no row: another process closed it first.
-- $1 attempt id, $2 owner
DELETE FROM live_calls WHERE attempt_id = $1 AND owner IS NOT DISTINCT FROM $2
RETURNING attempt_id;

-- node_heartbeat --
-- This dialer process is alive. $1 owner
INSERT INTO dialer_nodes (owner) VALUES ($1)
ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now();

-- node_gone --
-- This dialer process stops (its calls are closed by whoever runs next). $1 owner
DELETE FROM dialer_nodes WHERE owner = $1;

-- dead_owners --
-- Owners of calls in flight whose process is gone: no heartbeat for $2 seconds, or none.
-- $1 this process (never itself), $2 seconds
SELECT DISTINCT c.owner
FROM live_calls c LEFT JOIN dialer_nodes n ON n.owner = c.owner
WHERE c.owner IS NOT NULL AND c.owner <> $1
  AND (n.owner IS NULL OR n.heartbeat_at < now() - make_interval(secs => $2));

-- take_calls --
-- Take over a dead owner's calls (one survivor wins each row). $1 dead owner, $2 new owner
UPDATE live_calls SET owner = $2, updated_at = now()
WHERE attempt_id IN (SELECT attempt_id FROM live_calls WHERE owner = $1
                     FOR UPDATE SKIP LOCKED)
RETURNING *;

-- forget_node --
-- A dead process's node row, once its calls are taken. $1 owner
DELETE FROM dialer_nodes n WHERE n.owner = $1
  AND NOT EXISTS (SELECT 1 FROM live_calls c WHERE c.owner = $1);

-- mark_recovered --
-- A dead process's connected call waits for its agent's disposition. $1 attempt id, $2 owner
UPDATE live_calls SET state = 'recovered', owner = NULL, updated_at = now()
WHERE attempt_id = $1 AND owner = $2;

-- recovered_for_agents --
-- Recovered calls of these agents. $1 agent ids
SELECT * FROM live_calls WHERE state = 'recovered' AND agent_id = ANY ($1::bigint[])
ORDER BY attempt_id;

-- stale_recovered --
-- Recovered calls nobody disposed within $1 seconds, or whose agent has had no desktop
-- for $3 seconds. (take them: $2 new owner)
UPDATE live_calls SET owner = $2, updated_at = now()
WHERE attempt_id IN (
    SELECT c.attempt_id FROM live_calls c
    LEFT JOIN agent_sessions s ON s.agent_id = c.agent_id
    WHERE c.state = 'recovered'
      AND (c.updated_at < now() - make_interval(secs => $1)
           OR s.agent_id IS NULL
           OR (s.heartbeat_at < now() - make_interval(secs => $3)
               AND c.updated_at < now() - make_interval(secs => $3)))
    FOR UPDATE OF c SKIP LOCKED)
RETURNING *;

-- journey_of --
-- What a call's journey recorded (to close it after a crash). $1 attempt id
SELECT * FROM call_journeys WHERE attempt_id = $1;

-- existing --
-- Which of these calls are still open (in flight or waiting for a disposition).
-- $1 attempt ids
SELECT attempt_id FROM live_calls WHERE attempt_id = ANY ($1::bigint[]);

-- calls_of_agents --
-- The call each of these agents is on or still has to dispose of (connected, in wrap-up,
-- or recovered from a dead process), newest first: the truth where their sessions, saved
-- in batches, may not have caught up. $1 agent ids
SELECT DISTINCT ON (agent_id) agent_id, attempt_id, campaign_id FROM live_calls
WHERE agent_id = ANY ($1::bigint[]) AND state IN ('connected', 'wrap_up', 'recovered')
ORDER BY agent_id, attempt_id DESC;

-- pops --
-- The screen pops of these calls (an agent waiting for the call to come back sees it).
-- $1 attempt ids
SELECT attempt_id, pop FROM live_calls
WHERE attempt_id = ANY ($1::bigint[]) AND pop IS NOT NULL;
