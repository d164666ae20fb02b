-- What staff did about a shipment in trouble: a new delivery date agreed, the address
-- fixed, the customer called. Append-only; shown on the shipment's timeline.
CREATE TABLE shipment_actions (
    id            bigserial PRIMARY KEY,
    shipment_id   bigint NOT NULL REFERENCES shipments (id),
    action        text NOT NULL CHECK (action IN ('redelivery_date', 'address_fixed',
                                                  'customer_called')),
    redeliver_on  date,
    note          text NOT NULL DEFAULT '',
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((action = 'redelivery_date') = (redeliver_on IS NOT NULL))
);
CREATE INDEX shipment_actions_shipment_idx ON shipment_actions (shipment_id, at);
