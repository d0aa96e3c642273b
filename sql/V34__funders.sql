-- Budgets with several funders (individual budgets, personal health budgets). A budget's weekly
-- cost is split between funders: the council's adult social care, an NHS body (a personal health
-- budget) and other named funds; the parts add up to the weekly cost (annual cost over 52 weeks,
-- to the penny). Each funder draws from its own funding account in the ledger: the council's is
-- the council's existing funding account; the NHS and each other fund (by name) get one per
-- council, opened on first use. Existing budgets are funded wholly by the funder they named.

CREATE TABLE budget_funders (
    council_id    uuid NOT NULL REFERENCES councils (id),
    budget_id     uuid NOT NULL,
    position      smallint NOT NULL CHECK (position BETWEEN 1 AND 10),
    funder        text NOT NULL CHECK (funder IN ('council', 'nhs', 'other')),
    name          text CHECK (length(name) BETWEEN 1 AND 200),
    weekly_amount numeric(14,2) NOT NULL CHECK (weekly_amount >= 0),
    PRIMARY KEY (council_id, budget_id, position),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    CHECK (funder <> 'other' OR name IS NOT NULL)
);
-- One part per funder (an `other` fund by its name).
CREATE UNIQUE INDEX budget_funders_one_each
    ON budget_funders (council_id, budget_id, funder, lower(coalesce(name, '')))
    WHERE funder = 'other';
CREATE UNIQUE INDEX budget_funders_one_public
    ON budget_funders (council_id, budget_id, funder)
    WHERE funder <> 'other';

-- The funding accounts of the NHS and of other funds (the council's stays in council_accounts).
CREATE TABLE funder_accounts (
    council_id  uuid NOT NULL REFERENCES councils (id),
    funder      text NOT NULL CHECK (funder IN ('nhs', 'other')),
    -- '' for the NHS; the fund's name, as first given, for other funds (matched case-blind).
    name_key    text NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    account_id  uuid NOT NULL,
    PRIMARY KEY (council_id, funder, name_key),
    UNIQUE (council_id, account_id),
    FOREIGN KEY (council_id, account_id) REFERENCES ledger_accounts (council_id, id)
);

-- NHS Direct Payments Regulations 2013 reg 10: an NHS direct payment is paid into an account used
-- only for it. The budget says whether its direct-payment account is such an account.
ALTER TABLE budgets ADD COLUMN nhs_dp_separate_account boolean NOT NULL DEFAULT false;

-- Existing budgets: one funder, the one they named, paying the whole weekly cost.
DO $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT ledger_council_ids() LOOP
        PERFORM set_config('app.council_id', c::text, true);
        INSERT INTO budget_funders (council_id, budget_id, position, funder, weekly_amount)
        SELECT b.council_id, b.id, 1, b.funder, round(b.annual_cost / 52, 2)
        FROM budgets b
        WHERE b.council_id = c;
    END LOOP;
    PERFORM set_config('app.council_id', '', true);
END
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['budget_funders', 'funder_accounts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END $$;
-- A budget's funding is replaced whole when it changes (no row is ever updated in place).
GRANT SELECT, INSERT, DELETE ON budget_funders TO allot_app;
GRANT SELECT, INSERT ON funder_accounts TO allot_app;
