-- Sessions that expire when idle, login throttling, and when a user's sessions last changed.

-- A session unused for longer than the idle timeout is refused (server/auth.py).
ALTER TABLE auth_tokens ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

-- Failed logins by account ('user:<name>') and by address ('addr:<ip>'): each failure past
-- a free allowance doubles the wait before the next try.
CREATE TABLE login_throttle (
    key              text PRIMARY KEY,
    failures         integer NOT NULL,
    last_failure_at  timestamptz NOT NULL,
    blocked_until    timestamptz NOT NULL
);
