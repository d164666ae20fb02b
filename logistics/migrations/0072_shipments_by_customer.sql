-- The customer page lists a customer's shipments.
CREATE INDEX shipments_customer_idx ON shipments (customer_id, id DESC);
