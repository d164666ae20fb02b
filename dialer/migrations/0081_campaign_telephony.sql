-- A campaign's telephony: caller number shown, AMD mode, recording and its retention
-- (dialer/store/campaigns_config.py TelephonyIn; docs/telephony.md).
ALTER TABLE campaigns ADD COLUMN telephony jsonb NOT NULL DEFAULT '{}'::jsonb;
