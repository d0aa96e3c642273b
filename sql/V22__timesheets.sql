-- Timesheets of personal assistants (payees of kind personal_assistant): the hours a PA worked for
-- a person in one week, submitted by whoever holds the money the PA is paid from (provider staff
-- for a managed account, the person or their representatives for a direct payment) and approved by
-- someone with an `approve` grant on the budget who did not submit it. One timesheet per budget,
-- PA and week. Hours over the plan's weekly allowance for personal assistants are flagged.
CREATE TABLE timesheets (
    council_id        uuid NOT NULL REFERENCES councils (id),
    id                uuid NOT NULL,
    budget_id         uuid NOT NULL,
    deployment        text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account', 'isf',
                          'council_managed')),
    payee_id          uuid NOT NULL,
    -- The last day of the week; entries fall within the seven days ending on it.
    week_ending       date NOT NULL,
    -- [{date, hours, hourly_rate, amount}] as submitted.
    entries           jsonb NOT NULL,
    total_hours       numeric(6,2) NOT NULL CHECK (total_hours > 0 AND total_hours <= 168),
    total             numeric(14,2) NOT NULL CHECK (total > 0),
    -- The plan's weekly amount for personal assistants of this deployment when it was submitted,
    -- and whether the week's timesheets of the budget come to more.
    weekly_allowance  numeric(14,2) NOT NULL CHECK (weekly_allowance >= 0),
    over_allowance    boolean NOT NULL,
    status            text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved')),
    submitted_by      uuid NOT NULL,
    submitted_at      timestamptz NOT NULL,
    approved_by       uuid,
    approved_at       timestamptz,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, budget_id, payee_id, week_ending),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    FOREIGN KEY (council_id, submitted_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, approved_by) REFERENCES users (council_id, id),
    CHECK ((status = 'approved') = (approved_by IS NOT NULL AND approved_at IS NOT NULL)),
    CHECK (approved_by IS NULL OR approved_by <> submitted_by)
);
CREATE INDEX timesheets_budget_idx ON timesheets (council_id, budget_id, status);

ALTER TABLE timesheets ENABLE ROW LEVEL SECURITY;
ALTER TABLE timesheets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON timesheets USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON timesheets TO allot_app;
GRANT UPDATE (status, approved_by, approved_at) ON timesheets TO allot_app;

-- Payroll runs: the payroll bureau's payslips for a pay period, checked (each adds up; no more
-- gross than approved timesheets where there are any) and paid through the payment path: net pay
-- to each PA, tax and both NI to HMRC, both pensions to the pension scheme. `results` is what each
-- payslip came to (the payments made, held or refused, with their rule codes).
CREATE TABLE payroll_runs (
    council_id    uuid NOT NULL REFERENCES councils (id),
    id            uuid NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    pay_date      date NOT NULL,
    payslips      jsonb NOT NULL,
    results       jsonb NOT NULL,
    recorded_by   uuid NOT NULL,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, recorded_by) REFERENCES users (council_id, id),
    CHECK (period_end >= period_start AND pay_date >= period_start)
);

ALTER TABLE payroll_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE payroll_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payroll_runs USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON payroll_runs TO allot_app;

-- A personal assistant is paid once for a period: each payslip of a run claims its budget, PA and
-- period before anything is paid (a claim of another run whose period overlaps refuses the new run,
-- 409 `payslip_already_paid`), and a payslip whose net pay was refused gives its claim back when
-- the run is recorded, so it can be paid by a later run.
CREATE TABLE payroll_payslip_claims (
    council_id    uuid NOT NULL REFERENCES councils (id),
    budget_id     uuid NOT NULL,
    payee_id      uuid NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    run_key       text NOT NULL,
    recorded_by   uuid NOT NULL,
    PRIMARY KEY (council_id, budget_id, payee_id, period_start, period_end, recorded_by, run_key),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    CHECK (period_end >= period_start)
);
ALTER TABLE payroll_payslip_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE payroll_payslip_claims FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payroll_payslip_claims USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT, DELETE ON payroll_payslip_claims TO allot_app;
