-- Call recordings: one row per recorded part of an attempt (a transfer makes a second
-- part). The audio stays where the media server wrote it; `name` finds it there.

CREATE TABLE call_recordings (
    id            bigserial PRIMARY KEY,
    attempt_id    bigint NOT NULL,        -- contact_attempts.id (written when the call ends)
    campaign_id   bigint,
    name          text NOT NULL UNIQUE,   -- the file's name without extension: the call id
    port          text NOT NULL,          -- telephony that holds the file: 'ari' | 'sim'
    format        text NOT NULL DEFAULT 'wav',
    duration_s    real NOT NULL,
    recorded_at   timestamptz NOT NULL,   -- when the recording ended
    delete_after  timestamptz NOT NULL,   -- retention: the deletion job removes it then
    deleted_at    timestamptz
);
CREATE INDEX call_recordings_attempt_idx ON call_recordings (attempt_id);
CREATE INDEX call_recordings_due_idx ON call_recordings (delete_after) WHERE deleted_at IS NULL;
