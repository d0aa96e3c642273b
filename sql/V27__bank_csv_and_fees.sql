-- Bank statements also come as the CSV exports of Barclays, Lloyds and NatWest, or as any CSV
-- read through a column mapping (`csv`). A CSV statement has no id of its own: its statement_ref
-- is made from the SHA-256 of its content, so the same file is imported once.
ALTER TABLE bank_statements DROP CONSTRAINT bank_statements_format_check;
ALTER TABLE bank_statements ADD CONSTRAINT bank_statements_format_check
    CHECK (format IN ('camt.053.001.02', 'camt.053.001.08', 'csv.barclays', 'csv.lloyds',
                      'csv.natwest', 'csv'));

-- The fee a managed-account provider charges each client account it holds, a month at a time,
-- set by the organisation's own staff (who then pay it, under their agreement grant, through the
-- spending rules). Each change is a new row; the newest set for a month is the one charged.
CREATE TABLE organisation_fees (
    council_id       uuid NOT NULL REFERENCES councils (id),
    id               uuid NOT NULL,
    organisation_id  uuid NOT NULL,
    monthly_amount   numeric(14,2) NOT NULL CHECK (monthly_amount > 0 AND monthly_amount <= 10000),
    payee_id         uuid NOT NULL,
    -- The first month charged (its first day).
    from_month       date NOT NULL CHECK (extract(day FROM from_month) = 1),
    set_by           uuid NOT NULL,
    set_at           timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    FOREIGN KEY (council_id, set_by) REFERENCES users (council_id, id)
);
CREATE INDEX organisation_fees_org_idx ON organisation_fees (council_id, organisation_id, set_at);

-- One charge per client account and month: what the rules made of it (posted, held or refused,
-- with the payment it is recorded under and the rule codes of a refusal).
CREATE TABLE organisation_fee_charges (
    council_id       uuid NOT NULL REFERENCES councils (id),
    account_id       uuid NOT NULL,
    month            date NOT NULL CHECK (extract(day FROM month) = 1),
    fee_id           uuid NOT NULL,
    organisation_id  uuid NOT NULL,
    budget_id        uuid NOT NULL,
    amount           numeric(14,2) NOT NULL CHECK (amount > 0),
    outcome          text NOT NULL CHECK (outcome IN ('posted', 'held', 'refused')),
    payment_id       uuid,
    codes            text[] NOT NULL DEFAULT '{}',
    message          text,
    charged_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, account_id, month),
    FOREIGN KEY (council_id, fee_id) REFERENCES organisation_fees (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES ledger_accounts (council_id, id),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id)
);
CREATE INDEX organisation_fee_charges_org_idx ON organisation_fee_charges
    (council_id, organisation_id, month);

ALTER TABLE organisation_fees ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisation_fees FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organisation_fees USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
ALTER TABLE organisation_fee_charges ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisation_fee_charges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organisation_fee_charges USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON organisation_fees, organisation_fee_charges TO allot_app;

-- The councils with a fee set (for the monthly upkeep, which runs outside any council).
CREATE POLICY directory_lookup ON organisation_fees FOR SELECT TO allot_directory USING (true);
GRANT SELECT (council_id) ON organisation_fees TO allot_directory;
CREATE FUNCTION fee_councils()
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT DISTINCT council_id FROM organisation_fees ORDER BY 1 $$;
REVOKE ALL ON FUNCTION fee_councils() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fee_councils() TO allot_app;
GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION fee_councils() OWNER TO allot_directory;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;

-- Money in on a bank line that matches a contribution the person was expected to pay (a period's
-- contribution_to_pay_in of an approved payment run, net basis) is recorded as a contribution, and
-- the line is matched to it ('contribution'). Each expected contribution is received once.
ALTER TABLE bank_statement_lines DROP CONSTRAINT bank_statement_lines_matched_by_check;
ALTER TABLE bank_statement_lines ADD CONSTRAINT bank_statement_lines_matched_by_check
    CHECK (matched_by IN ('reference', 'amount_and_date', 'person', 'contribution'));
CREATE TABLE expected_contribution_receipts (
    council_id       uuid NOT NULL REFERENCES councils (id),
    run_id           uuid NOT NULL,
    budget_id        uuid NOT NULL,
    bank_line_id     uuid NOT NULL,
    contribution_id  uuid NOT NULL,
    -- 'reference' or 'amount_and_date'.
    matched_by       text NOT NULL CHECK (matched_by IN ('reference', 'amount_and_date')),
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, run_id, budget_id),
    UNIQUE (council_id, bank_line_id),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, bank_line_id) REFERENCES bank_statement_lines (council_id, id),
    FOREIGN KEY (council_id, contribution_id) REFERENCES contributions (council_id, id)
);
ALTER TABLE expected_contribution_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE expected_contribution_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON expected_contribution_receipts
    USING (council_id = app_council_id()) WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON expected_contribution_receipts TO allot_app;
