-- insert_user --
-- Create a user. $1 username, $2 password hash, $3 role
INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
RETURNING id, username, role;

-- set_user_password --
-- Replace a user's password and role. $1 username, $2 password hash, $3 role
UPDATE users SET password_hash = $2, role = $3, disabled = false WHERE username = $1
RETURNING id, username, role;

-- user_by_name --
-- A user for login. $1 username
SELECT id, username, role, password_hash, disabled FROM users WHERE username = $1;

-- insert_token --
-- Store a token's hash. $1 hash, $2 user id, $3 kind, $4 lifetime in seconds
INSERT INTO auth_tokens (token_hash, user_id, kind, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4));

-- user_by_token --
-- The live user behind a token. $1 hash, $2 kind
SELECT u.id, u.username, u.role
FROM auth_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.kind = $2 AND t.expires_at > now() AND NOT u.disabled;

-- delete_token --
-- Log out. $1 hash
DELETE FROM auth_tokens WHERE token_hash = $1;

-- delete_expired_tokens --
-- Housekeeping.
DELETE FROM auth_tokens WHERE expires_at <= now();

-- user_by_token_seen --
-- The live user behind a token, and seconds since the token was last used. $1 hash, $2 kind
SELECT u.id, u.username, u.role,
       extract(epoch FROM now() - t.last_seen_at)::float8 AS idle_s
FROM auth_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.kind = $2 AND t.expires_at > now() AND NOT u.disabled;

-- touch_token --
-- The token was used now. $1 hash
UPDATE auth_tokens SET last_seen_at = now() WHERE token_hash = $1;

-- delete_user_tokens --
-- Every session and API token of a user. $1 user id
DELETE FROM auth_tokens WHERE user_id = $1;

-- user_by_id_or_name --
-- A user. $1 username
SELECT id, username, role, disabled, created_at,
       (SELECT count(*) FROM auth_tokens t WHERE t.user_id = users.id AND t.expires_at > now())
           AS tokens
FROM users WHERE username = $1;

-- list_users --
-- Every user, with live tokens. (no arguments)
SELECT u.id, u.username, u.role, u.disabled, u.created_at,
       count(t.token_hash) FILTER (WHERE t.expires_at > now()) AS tokens,
       max(t.last_seen_at) AS last_seen_at
FROM users u LEFT JOIN auth_tokens t ON t.user_id = u.id
GROUP BY u.id ORDER BY u.username;

-- change_password --
-- A new password hash. $1 username, $2 hash
UPDATE users SET password_hash = $2 WHERE username = $1 RETURNING id, username, role;

-- change_role --
-- A new role. $1 username, $2 role
UPDATE users SET role = $2 WHERE username = $1 RETURNING id, username, role;

-- set_disabled --
-- Disable or enable a user. $1 username, $2 disabled
UPDATE users SET disabled = $2 WHERE username = $1 RETURNING id, username, role;
