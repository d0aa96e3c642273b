-- Evidence on postings and reproducible audit samples (issue 11 §§1, 3).
--
-- Evidence is content-addressed: a file is stored once per council under its SHA-256 (the
-- default store keeps the bytes here, in `evidence_blobs`; another store keeps them elsewhere and
-- only the links below stay in PostgreSQL). Attaching links a stored file to a payment.
--
-- Append-only by grant: allot_app may INSERT and SELECT evidence, links, samples and findings,
-- never UPDATE or DELETE them (a retention purge runs as the owner and records what it removed).

CREATE TABLE evidence_blobs (
    council_id  uuid NOT NULL REFERENCES councils (id),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes       bytea NOT NULL CHECK (octet_length(bytes) BETWEEN 1 AND 10485760),
    stored_at   timestamptz NOT NULL,
    PRIMARY KEY (council_id, sha256)
);

CREATE TABLE payment_evidence (
    council_id    uuid NOT NULL REFERENCES councils (id),
    payment_id    uuid NOT NULL,
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind          text NOT NULL CHECK (kind IN ('receipt', 'invoice', 'timesheet', 'bank_statement',
                      'other')),
    content_type  text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg',
                      'image/png', 'image/heic', 'text/plain', 'text/csv')),
    size          integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
    attached_at   timestamptz NOT NULL,
    attached_by   uuid NOT NULL,
    PRIMARY KEY (council_id, payment_id, sha256),
    FOREIGN KEY (council_id, payment_id) REFERENCES payments (council_id, id),
    FOREIGN KEY (council_id, attached_by) REFERENCES users (council_id, id)
);
CREATE INDEX payment_evidence_sha_idx ON payment_evidence (council_id, sha256);

CREATE TABLE audit_samples (
    council_id   uuid NOT NULL REFERENCES councils (id),
    id           uuid NOT NULL,
    seed         text NOT NULL CHECK (length(seed) BETWEEN 1 AND 200),
    size         integer NOT NULL CHECK (size BETWEEN 1 AND 1000),
    date_from    date NOT NULL,
    date_to      date NOT NULL CHECK (date_to >= date_from),
    min_amount   numeric(14,2),
    deployments  text[],
    -- The sampled payments in sampling order.
    items        uuid[] NOT NULL,
    drawn_by     uuid NOT NULL,
    drawn_at     timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, drawn_by) REFERENCES users (council_id, id)
);

CREATE TABLE audit_findings (
    council_id   uuid NOT NULL REFERENCES councils (id),
    id           uuid NOT NULL,
    sample_id    uuid NOT NULL,
    payment_id   uuid NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'query', 'misuse')),
    note         text NOT NULL CHECK (length(note) <= 4000),
    recorded_by  uuid NOT NULL,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, sample_id) REFERENCES audit_samples (council_id, id),
    FOREIGN KEY (council_id, payment_id) REFERENCES payments (council_id, id),
    FOREIGN KEY (council_id, recorded_by) REFERENCES users (council_id, id)
);
CREATE INDEX audit_findings_sample_idx ON audit_findings (council_id, sample_id, recorded_at);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['evidence_blobs', 'payment_evidence', 'audit_samples',
                             'audit_findings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT ON evidence_blobs, payment_evidence, audit_samples, audit_findings
    TO allot_app;
