-- Segment statements. `{source}` and `{where}` are filled only with SQL the filter
-- compiler produced from its fixed tables (crm/segments_filter.py); values stay `$n`.

-- count_matching --
-- How many customers match a compiled filter. $1.. the filter's parameters
SELECT count(*) FROM {source} WHERE {where};

-- sample_matching --
-- The first customers matching a compiled filter. $1.. the filter's parameters, then the limit
SELECT c.id, c.name, c.phone_e164, c.region, c.gender, c.birth_date,
       c.consent_marketing, c.consent_night,
       st.order_count, st.total_spend_krw, st.last_purchase_at, st.rfm_r, st.rfm_f, st.rfm_m
FROM (SELECT c.id FROM {source} WHERE {where} ORDER BY c.id LIMIT ${limit}) m
JOIN customers c ON c.id = m.id
LEFT JOIN customer_stats st ON st.customer_id = c.id
ORDER BY c.id;

-- matching_ids --
-- Ids of the customers matching a compiled filter (a sub-select). $1.. the filter's parameters
SELECT c.id FROM {source} WHERE {where};

-- static_member_ids --
-- Ids in a static segment's snapshot (a sub-select). ${n} segment id
SELECT sm.customer_id AS id FROM segment_members sm WHERE sm.segment_id = ${n};

-- insert_segment --
-- Save a segment. $1 name, $2 kind, $3 filter, $4 member count, $5 created by, $6 snapshot time
INSERT INTO segments (name, kind, filter, member_count, created_by, snapshot_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, name, kind, filter, member_count, created_by, created_at, snapshot_at;

-- insert_static_members --
-- Freeze a filter's members into a static segment. $1 segment id, $2.. the filter's parameters
INSERT INTO segment_members (segment_id, customer_id)
SELECT $1, c.id FROM {source} WHERE {where};

-- set_member_count --
-- Record the snapshot size. $1 segment id, $2 count
UPDATE segments SET member_count = $2 WHERE id = $1;

-- list_segments --
-- Saved segments, newest first.
SELECT id, name, kind, filter, member_count, created_by, created_at, snapshot_at
FROM segments ORDER BY id DESC;

-- get_segment --
-- One segment. $1 id
SELECT id, name, kind, filter, member_count, created_by, created_at, snapshot_at
FROM segments WHERE id = $1;

-- delete_segment --
-- Delete a segment (its snapshot goes with it). $1 id
DELETE FROM segments WHERE id = $1 RETURNING id;

-- update_segment --
-- Change a segment's name, kind and filter. $1 id, $2 name, $3 kind, $4 filter,
-- $5 member count, $6 snapshot time
UPDATE segments SET name = $2, kind = $3, filter = $4, member_count = $5, snapshot_at = $6
WHERE id = $1
RETURNING id, name, kind, filter, member_count, created_by, created_at, snapshot_at;

-- clear_static_members --
-- Forget a static segment's snapshot before taking a new one. $1 segment id
DELETE FROM segment_members WHERE segment_id = $1;
