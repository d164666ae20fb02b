-- The customer import writes every customer row; each index on `customers` slows it down.
-- Segment filters read region and birth date from `customer_facts` (0032), and nothing else
-- looks customers up by them, so these two indexes only cost writes.
DROP INDEX IF EXISTS customers_region_idx;
DROP INDEX IF EXISTS customers_birth_date_idx;
