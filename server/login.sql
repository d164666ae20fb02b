-- Login throttling (server/login_guard.py) and the audit rows of logins.

-- throttle_blocked --
-- Throttles now refusing an attempt, with the seconds left. $1 keys (text[])
SELECT key, extract(epoch FROM blocked_until - now())::float8 AS wait_s
FROM login_throttle WHERE key = ANY($1) AND blocked_until > now();

-- throttle_fail --
-- Count a failure (a count older than $2 seconds starts again); the count. $1 key,
-- $2 seconds after which failures are forgotten
INSERT INTO login_throttle AS t (key, failures, last_failure_at, blocked_until)
VALUES ($1, 1, now(), now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2) THEN 1
                    ELSE t.failures + 1 END,
    last_failure_at = now()
RETURNING failures;

-- throttle_block --
-- Refuse attempts under this key for $2 seconds. $1 key, $2 seconds
UPDATE login_throttle SET blocked_until = now() + make_interval(secs => $2) WHERE key = $1;

-- throttle_clear --
-- A successful login clears its account's count. $1 key
DELETE FROM login_throttle WHERE key = $1;

-- throttle_forget --
-- Housekeeping: counts no one has added to for $1 seconds. $1 seconds
DELETE FROM login_throttle
WHERE last_failure_at < now() - make_interval(secs => $1) AND blocked_until < now();

-- audit --
-- A row of the audit log. $1 actor, $2 action, $3 subject, $4 details
INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4);
