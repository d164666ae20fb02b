-- insert_campaign --
-- A new draft campaign. $1 name, $2 strategy, $3 pacing settings, $4 calling window,
-- $5 compliance, $6 script, $7 data source line, $8 dispositions, $9 callbacks,
-- $10 telephony, $11 created by
INSERT INTO campaigns (name, pacing_strategy, pacing_settings, calling_window, compliance,
                       script, data_source_line, dispositions, callbacks, telephony,
                       created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id;

-- update_campaign --
-- Replace a campaign's settings. $1 id, then as insert_campaign $2..$11 (name .. telephony)
UPDATE campaigns SET name = $2, pacing_strategy = $3, pacing_settings = $4, calling_window = $5,
       compliance = $6, script = $7, data_source_line = $8, dispositions = $9, callbacks = $10,
       telephony = $11, updated_at = now()
WHERE id = $1;

-- get_campaign --
-- One campaign with its lead counts by status. $1 id; $2 lock it (FOR UPDATE) or not
SELECT k.*, COALESCE(l.counts, '{}'::jsonb) AS lead_counts
FROM campaigns k
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(status, n) AS counts
    FROM (SELECT status, count(*) AS n FROM campaign_leads
          WHERE campaign_id = k.id GROUP BY status) s
) l ON true
WHERE k.id = $1;

-- lock_campaign --
-- Serialise changes to one campaign. $1 id
SELECT status FROM campaigns WHERE id = $1 FOR UPDATE;

-- list_campaigns --
-- Every campaign, newest first, with its lead counts by status.
SELECT k.*, COALESCE(l.counts, '{}'::jsonb) AS lead_counts
FROM campaigns k
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(status, n) AS counts
    FROM (SELECT status, count(*) AS n FROM campaign_leads
          WHERE campaign_id = k.id GROUP BY status) s
) l ON true
ORDER BY k.id DESC;

-- set_status --
-- Move a campaign to a status if it is in one of the allowed ones.
-- $1 id, $2 new status, $3 allowed current statuses (text[])
UPDATE campaigns SET status = $2, updated_at = now(),
       started_at = CASE WHEN $2 = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
       stopped_at = CASE WHEN $2 = 'stopped' THEN now() ELSE stopped_at END
WHERE id = $1 AND status = ANY($3::text[])
RETURNING id;

-- insert_event --
-- Record a status change. $1 campaign id, $2 from, $3 to, $4 actor
INSERT INTO campaign_events (campaign_id, from_status, to_status, actor) VALUES ($1, $2, $3, $4);

-- list_events --
-- A campaign's status history. $1 campaign id
SELECT at, from_status, to_status, actor FROM campaign_events WHERE campaign_id = $1 ORDER BY id;

-- first_lead_customer --
-- A customer from the campaign's leads, to preview the script with. $1 campaign id
SELECT c.name, c.region FROM campaign_leads l JOIN customers c ON c.id = l.customer_id
WHERE l.campaign_id = $1 ORDER BY l.priority, l.list_id, l.position LIMIT 1;
