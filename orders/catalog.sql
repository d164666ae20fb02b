-- The catalog: products, their SKUs (size x colour variants and bundle sets).

-- insert_product --
-- $1 code, $2 name, $3 category, $4 price, $5 broadcast price, $6 broadcast from,
-- $7 broadcast until, $8 per-customer limit
INSERT INTO products (code, name, category, price_krw, broadcast_price_krw, broadcast_from,
                      broadcast_until, per_customer_limit)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id;

-- insert_sku --
-- $1 product id, $2 code, $3 size, $4 colour, $5 price (NULL: the product's), $6 is a set
INSERT INTO skus (product_id, code, option_size, option_color, price_krw, is_set)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id;

-- insert_component --
-- $1 set sku id, $2 component sku id, $3 units per set
INSERT INTO set_components (set_sku_id, component_sku_id, qty) VALUES ($1, $2, $3);

-- sku_ids_by_code --
-- Plain (non-set) SKUs by code. $1 codes
SELECT id, code, is_set FROM skus WHERE code = ANY($1::text[]);

-- sku_ids_by_id --
-- $1 ids
SELECT id, code, is_set FROM skus WHERE id = ANY($1::bigint[]);

-- search_products --
-- Active products in id order from a cursor. $1 text (NULL = any) matched against name,
-- code and SKU codes, $2 category (NULL = any), $3 after id, $4 limit
SELECT p.* FROM products p
WHERE p.active AND p.id > $3
  AND ($2::text IS NULL OR p.category = $2)
  AND ($1::text IS NULL OR p.name ILIKE '%' || $1 || '%' OR p.code ILIKE '%' || $1 || '%'
       OR EXISTS (SELECT 1 FROM skus k WHERE k.product_id = p.id AND k.code ILIKE '%' || $1 || '%'))
ORDER BY p.id LIMIT $4;

-- product_by_id --
-- $1 product id
SELECT * FROM products WHERE id = $1;

-- skus_of_products --
-- SKUs with their set components. $1 product ids
SELECT k.*,
       coalesce(array_agg(c.component_sku_id ORDER BY c.component_sku_id)
                FILTER (WHERE c.component_sku_id IS NOT NULL), '{}') AS component_ids,
       coalesce(array_agg(c.qty ORDER BY c.component_sku_id)
                FILTER (WHERE c.component_sku_id IS NOT NULL), '{}') AS component_qtys
FROM skus k LEFT JOIN set_components c ON c.set_sku_id = k.id
WHERE k.product_id = ANY($1::bigint[])
GROUP BY k.id ORDER BY k.product_id, k.id;
