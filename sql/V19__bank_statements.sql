-- Bank statements of client accounts (ISO 20022 camt.053), their booked lines, and which ledger
-- posting each line is matched to. A statement is imported once: by the bank's statement id and
-- sequence, and by the SHA-256 of its content.
CREATE TABLE bank_statements (
    council_id       uuid NOT NULL REFERENCES councils (id),
    id               uuid NOT NULL,
    account_id       uuid NOT NULL,
    format           text NOT NULL CHECK (format IN ('camt.053.001.02', 'camt.053.001.08')),
    statement_ref    text NOT NULL CHECK (length(statement_ref) BETWEEN 1 AND 35),
    -- The bank's electronic sequence number (0 when the statement has none).
    sequence         numeric(18,0) NOT NULL DEFAULT 0,
    content_sha256   bytea NOT NULL CHECK (length(content_sha256) = 32),
    bank_account     text CHECK (length(bank_account) BETWEEN 1 AND 70),
    from_date        date,
    to_date          date,
    opening_balance  numeric(14,2) NOT NULL,
    closing_balance  numeric(14,2) NOT NULL,
    imported_by      uuid NOT NULL,
    imported_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, account_id, statement_ref, sequence),
    UNIQUE (council_id, account_id, content_sha256),
    FOREIGN KEY (council_id, account_id) REFERENCES ledger_accounts (council_id, id),
    FOREIGN KEY (council_id, imported_by) REFERENCES users (council_id, id)
);

CREATE TABLE bank_statement_lines (
    council_id        uuid NOT NULL REFERENCES councils (id),
    id                uuid NOT NULL,
    statement_id      uuid NOT NULL,
    account_id        uuid NOT NULL,
    line_no           integer NOT NULL CHECK (line_no >= 1),
    direction         text NOT NULL CHECK (direction IN ('credit', 'debit')),
    amount            numeric(14,2) NOT NULL CHECK (amount > 0),
    booked_on         date NOT NULL,
    value_on          date,
    end_to_end_id     text CHECK (length(end_to_end_id) BETWEEN 1 AND 35),
    bank_reference    text CHECK (length(bank_reference) BETWEEN 1 AND 35),
    remittance        text CHECK (length(remittance) BETWEEN 1 AND 500),
    counterparty      text CHECK (length(counterparty) BETWEEN 1 AND 140),
    -- The ledger entry (posting) this line is matched to, how, by whom.
    matched_entry_id  uuid,
    matched_by        text CHECK (matched_by IN ('reference', 'amount_and_date', 'person')),
    matched_by_user   uuid,
    matched_at        timestamptz,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, statement_id, line_no),
    FOREIGN KEY (council_id, statement_id) REFERENCES bank_statements (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES ledger_accounts (council_id, id),
    FOREIGN KEY (council_id, matched_entry_id) REFERENCES ledger_entries (council_id, id),
    FOREIGN KEY (council_id, matched_by_user) REFERENCES users (council_id, id),
    CHECK ((matched_entry_id IS NULL) = (matched_by IS NULL)),
    CHECK ((matched_entry_id IS NULL) = (matched_at IS NULL))
);
-- A posting is matched to one bank line of its account at most.
CREATE UNIQUE INDEX bank_statement_lines_one_per_posting ON bank_statement_lines
    (council_id, account_id, matched_entry_id) WHERE matched_entry_id IS NOT NULL;
CREATE INDEX bank_statement_lines_unmatched ON bank_statement_lines (council_id, account_id)
    WHERE matched_entry_id IS NULL;

ALTER TABLE bank_statements ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank_statements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bank_statements USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
ALTER TABLE bank_statement_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank_statement_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bank_statement_lines USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON bank_statements, bank_statement_lines TO allot_app;
GRANT UPDATE (matched_entry_id, matched_by, matched_by_user, matched_at) ON bank_statement_lines TO allot_app;
