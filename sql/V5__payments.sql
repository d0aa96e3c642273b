-- Payments out of deployment accounts (RULES.md › Spending): every request is decided by the rules
-- and the decision is kept, refusals too (as decisions that moved no money). A payment posts at
-- once, or is held (a ledger hold reserves the money) until every approval it needs is given.

-- Money paid out of a deployment account is credited to that account's own "paid out"
-- counterpart (money that has left the council's books for a payee), one per deployment account,
-- so payments from different accounts never queue on a shared account row.
CREATE TABLE paid_out_accounts (
    council_id      uuid NOT NULL REFERENCES councils (id),
    account_id      uuid NOT NULL,
    paid_out_id     uuid NOT NULL,
    PRIMARY KEY (council_id, account_id),
    UNIQUE (council_id, paid_out_id)
);

CREATE TABLE payments (
    council_id        uuid NOT NULL REFERENCES councils (id),
    id                uuid NOT NULL,
    budget_id         uuid NOT NULL,
    -- The deployment account the money leaves (NULL only when the budget has none to leave).
    account_id        uuid,
    deployment        text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account', 'isf',
                          'council_managed')),
    payee_id          uuid NOT NULL,
    category          text NOT NULL,
    amount            numeric(14,2) NOT NULL CHECK (amount > 0),
    service_date      date NOT NULL,
    memo              text CHECK (length(memo) BETWEEN 1 AND 500),
    stay_from         date,
    stay_to           date CHECK (stay_to >= stay_from),
    merchant_category text CHECK (length(merchant_category) BETWEEN 1 AND 100),
    is_cash           boolean NOT NULL DEFAULT false,
    evidence_sha256   text CHECK (evidence_sha256 ~ '^[0-9a-f]{64}$'),
    requested_by      uuid NOT NULL,
    requested_at      timestamptz NOT NULL DEFAULT now(),
    status            text NOT NULL CHECK (status IN ('posted', 'pending_approval', 'rejected', 'expired',
                          'refused')),
    -- The rules' decision as made (outcome, refusals, approvals required, flags).
    decision          jsonb NOT NULL,
    ruleset_version   text NOT NULL,
    policy_version    integer NOT NULL,
    -- Approvals still needed while held.
    outstanding       jsonb NOT NULL DEFAULT '[]',
    hold_entry_id     uuid,
    hold_expires_at   timestamptz,
    posted_entry_id   uuid,
    resolved_at       timestamptz,
    resolved_by       uuid,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    FOREIGN KEY (council_id, requested_by) REFERENCES users (council_id, id),
    CHECK ((status = 'refused') = (hold_entry_id IS NULL AND posted_entry_id IS NULL)),
    CHECK ((status = 'posted') = (posted_entry_id IS NOT NULL))
);
CREATE INDEX payments_budget_idx ON payments (council_id, budget_id, requested_at);
CREATE INDEX payments_pending_idx ON payments (council_id, hold_expires_at) WHERE status = 'pending_approval';
CREATE INDEX payments_posted_entry_idx ON payments (council_id, posted_entry_id) WHERE posted_entry_id IS NOT NULL;

CREATE TABLE payment_approvals (
    council_id   uuid NOT NULL REFERENCES councils (id),
    payment_id   uuid NOT NULL,
    approver_id  uuid NOT NULL,
    approved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, payment_id, approver_id),
    FOREIGN KEY (council_id, payment_id) REFERENCES payments (council_id, id),
    FOREIGN KEY (council_id, approver_id) REFERENCES users (council_id, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['payments', 'payment_approvals', 'paid_out_accounts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT ON payments, payment_approvals, paid_out_accounts TO allot_app;
GRANT UPDATE (status, outstanding, posted_entry_id, resolved_at, resolved_by) ON payments TO allot_app;
