-- Stock: a default warehouse, an append-only ledger, lookups for low stock.

INSERT INTO warehouses (code, name) VALUES ('MAIN', 'Main warehouse')
    ON CONFLICT (code) DO NOTHING;

CREATE INDEX stock_sku_idx ON stock (sku_id, id);
CREATE INDEX stock_movements_order_idx ON stock_movements (order_id) WHERE order_id IS NOT NULL;

-- The ledger is the proof of the counters: rows are never changed or removed.
CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_movements is append-only';
END $$;
CREATE TRIGGER stock_movements_no_change BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
