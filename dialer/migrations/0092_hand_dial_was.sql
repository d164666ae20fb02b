-- A lead dialled by hand (issue 17) may be one the dialer had finished: done (the customer
-- ordered or said no), exhausted or do-not-call. While its hand-dial lease lasts the lead
-- is 'leased'; if the process holding it dies, the lease runs out and the dialer's own
-- lease queries would take it back as a dialable lead. The status it had is kept here so
-- they leave it alone and a give-back restores it (issue 13: a customer who ordered is
-- never re-dialled automatically).
ALTER TABLE campaign_leads ADD COLUMN hand_dial_was text
    CHECK (hand_dial_was IN ('done', 'exhausted', 'dnc'));
