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
