-- Invoices a managed-account provider (or a person paying from their direct payment) receives
-- and pays through the same rules and ledger as any payment. An invoice's payments carry its id;
-- what is paid and outstanding is worked out from them, so it cannot drift from the ledger.
CREATE TABLE invoices (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    budget_id       uuid NOT NULL,
    deployment      text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account', 'isf',
                        'council_managed')),
    payee_id        uuid NOT NULL,
    category        text NOT NULL,
    invoice_number  text NOT NULL CHECK (length(invoice_number) BETWEEN 1 AND 64),
    issued_on       date NOT NULL,
    due_on          date CHECK (due_on >= issued_on),
    period_from     date,
    period_to       date CHECK (period_to >= period_from),
    -- [{description, quantity, unit_price, amount}] as received.
    lines           jsonb NOT NULL,
    total           numeric(14,2) NOT NULL CHECK (total > 0),
    -- Paid and part-paid are worked out from the invoice's payments.
    status          text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'disputed', 'rejected')),
    status_reason   text CHECK (length(status_reason) BETWEEN 1 AND 500),
    recorded_by     uuid NOT NULL,
    recorded_at     timestamptz NOT NULL,
    updated_by      uuid,
    updated_at      timestamptz,
    PRIMARY KEY (council_id, id),
    -- The same payee's invoice number once.
    UNIQUE (council_id, payee_id, invoice_number),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    FOREIGN KEY (council_id, recorded_by) REFERENCES users (council_id, id)
);
CREATE INDEX invoices_budget_idx ON invoices (council_id, budget_id, status);

ALTER TABLE payments ADD COLUMN invoice_id uuid;
ALTER TABLE payments ADD FOREIGN KEY (council_id, invoice_id) REFERENCES invoices (council_id, id);
CREATE INDEX payments_invoice_idx ON payments (council_id, invoice_id) WHERE invoice_id IS NOT NULL;

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON invoices TO allot_app;
GRANT UPDATE (status, status_reason, updated_by, updated_at) ON invoices TO allot_app;
