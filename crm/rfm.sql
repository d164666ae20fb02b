-- refresh_customer_stats --
-- Rebuild every purchasing customer's summary and R/F/M scores (1-5 by quintile:
-- ties share a score). Cancelled and expired orders do not count. $1 refresh time
WITH purchases AS (
    SELECT o.customer_id,
           count(*)::int        AS order_count,
           sum(o.total_krw)     AS total_spend_krw,
           min(o.placed_at)     AS first_purchase_at,
           max(o.placed_at)     AS last_purchase_at
    FROM orders o
    WHERE o.status NOT IN ('cancelled', 'expired')
    GROUP BY o.customer_id
), scored AS (
    SELECT p.*,
           GREATEST(1, ceil(cume_dist() OVER (ORDER BY last_purchase_at) * 5))::smallint AS r,
           GREATEST(1, ceil(cume_dist() OVER (ORDER BY order_count) * 5))::smallint AS f,
           GREATEST(1, ceil(cume_dist() OVER (ORDER BY total_spend_krw) * 5))::smallint AS m
    FROM purchases p
)
INSERT INTO customer_stats AS cs (customer_id, order_count, total_spend_krw, first_purchase_at,
                                  last_purchase_at, rfm_r, rfm_f, rfm_m, refreshed_at)
SELECT customer_id, order_count, total_spend_krw, first_purchase_at, last_purchase_at, r, f, m, $1
FROM scored
ON CONFLICT (customer_id) DO UPDATE SET
    order_count = EXCLUDED.order_count, total_spend_krw = EXCLUDED.total_spend_krw,
    first_purchase_at = EXCLUDED.first_purchase_at, last_purchase_at = EXCLUDED.last_purchase_at,
    rfm_r = EXCLUDED.rfm_r, rfm_f = EXCLUDED.rfm_f, rfm_m = EXCLUDED.rfm_m,
    refreshed_at = EXCLUDED.refreshed_at;

-- delete_stale_stats --
-- Customers whose purchases all went away (cancelled since): no summary. $1 refresh time
DELETE FROM customer_stats WHERE refreshed_at < $1;

-- insert_rfm_run --
-- Record a refresh. $1 trigger, $2 started at, $3 finished at, $4 customers scored
INSERT INTO rfm_runs (trigger, started_at, finished_at, customers) VALUES ($1, $2, $3, $4)
RETURNING id;

-- last_rfm_run --
-- The latest refresh, if any.
SELECT id, trigger, started_at, finished_at, customers FROM rfm_runs ORDER BY id DESC LIMIT 1;

-- customer_stats --
-- One customer's summary. $1 customer id
SELECT customer_id, order_count, total_spend_krw, first_purchase_at, last_purchase_at,
       rfm_r, rfm_f, rfm_m, refreshed_at
FROM customer_stats WHERE customer_id = $1;

-- insert_missing_facts --
-- Customers without a segment row yet (inserted while triggers were off, e.g. a bulk
-- load): add them with their summary, contact history and do-not-call flag. No arguments
INSERT INTO customer_facts (id, phone_e164, region, gender, birth_date, consent_marketing,
                            consent_night, order_count, total_spend_krw, last_purchase_at,
                            rfm_r, rfm_f, rfm_m, last_contacted_at, last_disposition,
                            last_disposition_at, last_disposition_id, dnc)
SELECT c.id, c.phone_e164, c.region, c.gender, c.birth_date, c.consent_marketing,
       c.consent_night, COALESCE(s.order_count, 0), COALESCE(s.total_spend_krw, 0),
       s.last_purchase_at, s.rfm_r, s.rfm_f, s.rfm_m, la.at, ld.disposition, ld.at, ld.id,
       EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = c.phone_e164)
FROM customers c LEFT JOIN customer_stats s ON s.customer_id = c.id
LEFT JOIN (SELECT customer_id, max(at) AS at FROM contact_attempts GROUP BY customer_id) la
    ON la.customer_id = c.id
LEFT JOIN (SELECT DISTINCT ON (customer_id) customer_id, id, at, disposition
           FROM contact_attempts WHERE disposition IS NOT NULL
           ORDER BY customer_id, at DESC, id DESC) ld ON ld.customer_id = c.id
-- EXCEPT reads customer_facts once; a NOT EXISTS planned as a nested loop over a table
-- that starts empty would re-read the rows this statement inserts, for every customer.
WHERE c.id IN (SELECT id FROM customers EXCEPT SELECT id FROM customer_facts)
ON CONFLICT (id) DO NOTHING;

-- repair_dnc_facts --
-- Re-derive the do-not-call flag where it differs (a repair: the triggers keep it, but a
-- customer created while another transaction listed its phone sees neither). No arguments
UPDATE customer_facts f SET dnc = NOT f.dnc
WHERE f.dnc IS DISTINCT FROM (f.phone_e164 IN (SELECT d.phone_e164 FROM do_not_call d));

-- copy_stats_to_facts --
-- Copy the fresh summary into the segment rows that differ (customer columns are the
-- triggers' business). No arguments
UPDATE customer_facts f
SET order_count = s.order_count, total_spend_krw = s.total_spend_krw,
    last_purchase_at = s.last_purchase_at, rfm_r = s.rfm_r, rfm_f = s.rfm_f, rfm_m = s.rfm_m
FROM customer_stats s
WHERE s.customer_id = f.id
  AND (f.order_count, f.total_spend_krw, f.last_purchase_at, f.rfm_r, f.rfm_f, f.rfm_m)
      IS DISTINCT FROM (s.order_count, s.total_spend_krw, s.last_purchase_at, s.rfm_r,
                        s.rfm_f, s.rfm_m);

-- delete_orphan_facts --
-- Rows of customers deleted while a refresh was adding their row. No arguments
DELETE FROM customer_facts f WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = f.id);

-- clear_stale_facts --
-- Customers with no counted purchase (any more): zeros and no scores. No arguments
UPDATE customer_facts f
SET order_count = 0, total_spend_krw = 0, last_purchase_at = NULL,
    rfm_r = NULL, rfm_f = NULL, rfm_m = NULL
WHERE (f.order_count <> 0 OR f.total_spend_krw <> 0 OR f.last_purchase_at IS NOT NULL
       OR f.rfm_r IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM customer_stats s WHERE s.customer_id = f.id);

-- purchases_settled_until --
-- Orders placed or changed from this time on may be missing from the product summary
-- (-infinity: never refreshed). No arguments
SELECT crm_purchases_settled_until();

-- delete_all_product_purchases --
-- Empty the product summary before a full rebuild. No arguments
DELETE FROM customer_product_purchases;

-- delete_changed_product_purchases --
-- Drop the summary rows of customers with orders placed or changed since $1
DELETE FROM customer_product_purchases pp
WHERE pp.customer_id IN (SELECT d.customer_id FROM orders d
                         WHERE d.placed_at >= $1 OR d.updated_at >= $1);

-- insert_product_purchases --
-- Summarise counted order lines per customer and product, for every customer
-- (`{scope}` is empty) or those with orders placed or changed since $1. $1 since (or none)
INSERT INTO customer_product_purchases (customer_id, product_id, last_at, orders)
SELECT o.customer_id, k.product_id, max(o.placed_at), count(*)::int
FROM orders o
JOIN order_lines ol ON ol.order_id = o.id
JOIN skus k ON k.id = ol.sku_id
WHERE o.status NOT IN ('cancelled', 'expired') AND ol.qty > ol.cancelled_qty {scope}
GROUP BY o.customer_id, k.product_id;

-- set_product_purchases_refreshed --
-- Record the summary's refresh time. $1 refresh time
INSERT INTO purchase_summary_state (only_row, refreshed_at) VALUES (true, $1)
ON CONFLICT (only_row) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at;
