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
