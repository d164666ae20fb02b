-- Customers, their consents, the do-not-call lists and the audit log.

CREATE TABLE customers (
    id                bigserial PRIMARY KEY,
    external_ref      text UNIQUE,
    name              text NOT NULL DEFAULT '',
    phone_e164        text NOT NULL UNIQUE,
    phone_type        text NOT NULL DEFAULT 'unknown',
    email             text,
    address           text,
    postal_code       text,
    region            text,
    tz                text,            -- IANA zone from the address; overrides the phone's zone
    birth_date        date,
    gender            char(1) CHECK (gender IN ('M', 'F')),
    -- Current consent, kept in step with consent_records for fast segment filters.
    consent_marketing boolean NOT NULL DEFAULT false,
    consent_night     boolean NOT NULL DEFAULT false,
    source            text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_region_idx ON customers (region);
CREATE INDEX customers_birth_date_idx ON customers (birth_date);

-- Append-only history of consent: the current value is the latest row.
CREATE TABLE consent_records (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel      text NOT NULL CHECK (channel IN ('phone', 'sms', 'email')),
    purpose      text NOT NULL CHECK (purpose IN ('marketing', 'night_time')),
    granted      boolean NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL
);
CREATE INDEX consent_records_customer_idx ON consent_records (customer_id, purpose, at DESC);

CREATE TABLE do_not_call (
    phone_e164     text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('national', 'financial', 'internal')),
    source         text NOT NULL,
    registered_on  date NOT NULL DEFAULT current_date,
    added_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (phone_e164, kind)
);

CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    subject  text,
    details  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);

-- One row per import run, so a re-run after an interruption can be told apart.
CREATE TABLE import_runs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('customers', 'dnc')),
    filename     text NOT NULL,
    source       text NOT NULL,
    actor        text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    summary      jsonb
);
