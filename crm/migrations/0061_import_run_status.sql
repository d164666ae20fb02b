-- An import run is running, finished or failed (a failed one keeps the error in summary).
ALTER TABLE import_runs ADD COLUMN status text NOT NULL DEFAULT 'running'
    CHECK (status IN ('running', 'finished', 'failed'));
UPDATE import_runs SET status = 'finished' WHERE finished_at IS NOT NULL;
