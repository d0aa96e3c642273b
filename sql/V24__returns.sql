-- Monitoring returns of organisations holding client accounts (managed-account and ISF
-- providers): a submitted return is the JSON of the return as computed from the ledger, stored
-- byte for byte with its SHA-256, and never changed. One return per organisation and period.
CREATE TABLE organisation_returns (
    council_id       uuid NOT NULL REFERENCES councils (id),
    id               uuid NOT NULL,
    organisation_id  uuid NOT NULL,
    period_from      date NOT NULL,
    period_to        date NOT NULL,
    -- The return's JSON exactly as hashed (text, not jsonb, so the bytes are kept).
    snapshot         text NOT NULL,
    snapshot_sha256  text NOT NULL CHECK (snapshot_sha256 ~ '^[0-9a-f]{64}$'),
    submitted_by     uuid NOT NULL,
    submitted_at     timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, organisation_id, period_from, period_to),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, submitted_by) REFERENCES users (council_id, id),
    CHECK (period_to >= period_from)
);
CREATE INDEX organisation_returns_period_idx ON organisation_returns
    (council_id, organisation_id, period_to);

ALTER TABLE organisation_returns ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisation_returns FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organisation_returns USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON organisation_returns TO allot_app;
