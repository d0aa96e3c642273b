-- Budgets: people's contact and communication preferences, charging parameters, personal budgets
-- (Care Act s.26), versioned support plans, deployment accounts, urgent interim support, reviews,
-- payees, family-payment decisions, payment runs and contributions.
--
-- Same pattern as V1: council_id in every key, row-level security on every tenant table, the
-- application role allot_app gets only the privileges it needs (no DELETE anywhere: history is
-- kept; rows change state instead).

-- People -----------------------------------------------------------------------------------------

ALTER TABLE people
    ADD COLUMN contact_phone text CHECK (length(contact_phone) BETWEEN 1 AND 40),
    ADD COLUMN contact_email text CHECK (length(contact_email) BETWEEN 3 AND 254),
    ADD COLUMN contact_address text CHECK (length(contact_address) BETWEEN 1 AND 500),
    ADD COLUMN preferred_contact text CHECK (preferred_contact IN ('post', 'email', 'phone', 'text_message')),
    ADD COLUMN communication_formats text[] NOT NULL DEFAULT '{}'
        CHECK (communication_formats <@ ARRAY['large_print', 'easy_read', 'braille', 'audio',
                                              'british_sign_language', 'interpreter']::text[]),
    ADD COLUMN preferred_language text CHECK (length(preferred_language) BETWEEN 1 AND 100),
    ADD COLUMN communication_notes text CHECK (length(communication_notes) BETWEEN 1 AND 1000),
    ADD COLUMN updated_at timestamptz;

-- Who changed what on a person's record (capacity and exclusion decide whether money is released).
CREATE TABLE person_changes (
    council_id  uuid NOT NULL REFERENCES councils (id),
    id          uuid NOT NULL,
    person_id   uuid NOT NULL,
    changed_by  uuid NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changes     jsonb NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, changed_by) REFERENCES users (council_id, id)
);
CREATE INDEX person_changes_person_idx ON person_changes (council_id, person_id, changed_at);

-- Charging parameters (national, dated; not tenant data) ------------------------------------------

-- Capital limits and tariff income (Care and Support (Charging and Assessment of Resources)
-- Regulations 2014, regs 12 and 25; unchanged by every local authority circular since 2015).
CREATE TABLE charging_parameters (
    valid_from      date PRIMARY KEY,
    capital_upper   numeric(14,2) NOT NULL,
    capital_lower   numeric(14,2) NOT NULL CHECK (capital_lower >= 0),
    tariff_step     numeric(14,2) NOT NULL CHECK (tariff_step > 0),
    tariff_per_step numeric(14,2) NOT NULL CHECK (tariff_per_step >= 0),
    source          text NOT NULL,
    CHECK (capital_lower < capital_upper)
);
INSERT INTO charging_parameters VALUES
    ('2015-04-01', 23250.00, 14250.00, 250.00, 1.00,
     'SI 2014/2672 regs 12 and 25; capital limits confirmed by each DHSC local authority circular since');

-- Minimum Income Guarantee for people whose care is not in a care home, single person, by age band
-- (SI 2014/2672 reg 7(2)). Later uprating circulars add rows with their own valid_from.
CREATE TABLE charging_mig_bands (
    valid_from      date NOT NULL,
    band            text NOT NULL CHECK (band IN ('18_to_24', '25_to_pension_credit_age', 'pension_credit_age')),
    min_age         integer NOT NULL CHECK (min_age >= 18),
    weekly_amount   numeric(14,2) NOT NULL CHECK (weekly_amount > 0),
    source          text NOT NULL,
    PRIMARY KEY (valid_from, band)
);
INSERT INTO charging_mig_bands VALUES
    ('2015-04-01', '18_to_24', 18, 72.40, 'SI 2014/2672 reg 7(2)(a)'),
    ('2015-04-01', '25_to_pension_credit_age', 25, 91.40, 'SI 2014/2672 reg 7(2)(b)'),
    ('2015-04-01', 'pension_credit_age', 66, 189.00, 'SI 2014/2672 reg 7(2)(c); pension credit age 66 from 2020'),
    ('2025-04-07', '18_to_24', 18, 89.15, 'DHSC local authority circular: social care charging 2025 to 2026'),
    ('2025-04-07', '25_to_pension_credit_age', 25, 112.50, 'DHSC local authority circular: social care charging 2025 to 2026');

-- Council banking: the account payment files are drawn on, and the Bacs service user number ---------

CREATE TABLE council_banking (
    council_id          uuid PRIMARY KEY REFERENCES councils (id),
    service_user_number text NOT NULL CHECK (service_user_number ~ '^[0-9]{6}$'),
    sort_code           text NOT NULL CHECK (sort_code ~ '^[0-9]{6}$'),
    account_number      text NOT NULL CHECK (account_number ~ '^[0-9]{8}$'),
    account_name        text NOT NULL CHECK (length(account_name) BETWEEN 1 AND 70),
    updated_by          uuid NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (council_id, updated_by) REFERENCES users (council_id, id)
);

-- Ledger accounts the council itself holds: its funding (may go negative), and the counterpart of
-- contributions people pay in from outside allot.
CREATE TABLE council_accounts (
    council_id  uuid NOT NULL REFERENCES councils (id),
    purpose     text NOT NULL CHECK (purpose IN ('funding', 'contributions_received')),
    account_id  uuid NOT NULL,
    PRIMARY KEY (council_id, purpose),
    UNIQUE (council_id, account_id)
);

-- Budgets (Care Act s.26) ------------------------------------------------------------------------

CREATE SEQUENCE budget_reference_seq;

CREATE TABLE budgets (
    council_id              uuid NOT NULL REFERENCES councils (id),
    id                      uuid NOT NULL,
    -- Short reference for people, letters and bank payment references: PB000123.
    reference               text NOT NULL CHECK (reference ~ '^PB[0-9]{6,}$'),
    person_id               uuid NOT NULL,
    funder                  text NOT NULL CHECK (funder IN ('council', 'nhs')),
    kind                    text NOT NULL DEFAULT 'standard' CHECK (kind IN ('standard', 'reablement')),
    annual_cost             numeric(14,2) NOT NULL CHECK (annual_cost > 0),
    weekly_contribution     numeric(14,2) NOT NULL CHECK (weekly_contribution >= 0),
    contribution_basis      text NOT NULL CHECK (contribution_basis IN ('net', 'gross')),
    start_date              date NOT NULL,
    end_date                date,
    broker_organisation_id  uuid,
    -- Where a direct payment is paid (the person's, or their nominated/authorised person's, account).
    bank_sort_code          text CHECK (bank_sort_code ~ '^[0-9]{6}$'),
    bank_account_number     text CHECK (bank_account_number ~ '^[0-9]{8}$'),
    bank_account_name       text CHECK (length(bank_account_name) BETWEEN 1 AND 70),
    -- Direct-payment conditions (Care Act ss.31-32): consent, and who receives the payment.
    dp_consent_recorded     boolean NOT NULL DEFAULT false,
    dp_recipient            text NOT NULL DEFAULT 'person'
                            CHECK (dp_recipient IN ('person', 'nominated_person', 'authorised_person')),
    dp_recipient_user_id    uuid,
    dp_recipient_agreed     boolean NOT NULL DEFAULT false,
    created_by              uuid NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, reference),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, broker_organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, dp_recipient_user_id) REFERENCES users (council_id, id),
    CHECK (end_date IS NULL OR end_date >= start_date),
    CHECK ((bank_sort_code IS NULL) = (bank_account_number IS NULL)
           AND (bank_sort_code IS NULL) = (bank_account_name IS NULL)),
    -- Reablement is free and lasts at most six weeks (Charging Regulations reg 3(3)(a)).
    CHECK (kind <> 'reablement' OR (weekly_contribution = 0 AND end_date IS NOT NULL AND end_date < start_date + 42))
);
CREATE INDEX budgets_person_idx ON budgets (council_id, person_id);
CREATE INDEX budgets_broker_idx ON budgets (council_id, broker_organisation_id) WHERE broker_organisation_id IS NOT NULL;

-- Urgent interim support: council-managed, capped, time-limited, recorded by a care manager.
CREATE TABLE urgent_interim_support (
    council_id      uuid NOT NULL REFERENCES councils (id),
    budget_id       uuid NOT NULL,
    weekly_amount   numeric(14,2) NOT NULL CHECK (weekly_amount > 0),
    start_date      date NOT NULL,
    end_date        date NOT NULL,
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    recorded_by     uuid NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, budget_id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, recorded_by) REFERENCES users (council_id, id),
    CHECK (end_date >= start_date)
);

-- Support plans: every version kept. A new draft replaces an older draft ('replaced'); approving a
-- draft supersedes the approved version before it ('superseded').
CREATE TABLE support_plans (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    budget_id       uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    status          text NOT NULL CHECK (status IN ('draft', 'approved', 'superseded', 'replaced')),
    cash_allowed    boolean NOT NULL,
    weekly_total    numeric(14,2) NOT NULL CHECK (weekly_total >= 0),
    drafted_by      uuid NOT NULL,
    drafted_at      timestamptz NOT NULL DEFAULT now(),
    approved_by     uuid,
    approved_at     timestamptz,
    ended_at        timestamptz,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, budget_id, version),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, drafted_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, approved_by) REFERENCES users (council_id, id),
    CHECK ((status IN ('approved', 'superseded')) = (approved_by IS NOT NULL AND approved_at IS NOT NULL))
);
CREATE UNIQUE INDEX support_plans_one_approved ON support_plans (council_id, budget_id) WHERE status = 'approved';
CREATE UNIQUE INDEX support_plans_one_draft ON support_plans (council_id, budget_id) WHERE status = 'draft';

CREATE TABLE support_plan_lines (
    council_id              uuid NOT NULL REFERENCES councils (id),
    plan_id                 uuid NOT NULL,
    line_no                 integer NOT NULL CHECK (line_no >= 1),
    category                text NOT NULL CHECK (category IN (
        'personal_care', 'personal_assistant', 'domestic_support', 'respite_at_home', 'residential_respite',
        'day_activities', 'education', 'transport', 'equipment', 'home_adaptations', 'therapy', 'brokerage',
        'account_management', 'employment_costs', 'other')),
    need                    text NOT NULL CHECK (length(need) BETWEEN 1 AND 1000),
    weekly_amount           numeric(14,2) NOT NULL CHECK (weekly_amount > 0),
    deployment              text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account', 'isf', 'council_managed')),
    holder_organisation_id  uuid,
    PRIMARY KEY (council_id, plan_id, line_no),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    FOREIGN KEY (council_id, holder_organisation_id) REFERENCES organisations (council_id, id),
    CHECK ((deployment IN ('managed_account', 'isf')) = (holder_organisation_id IS NOT NULL))
);

-- One ledger account per deployment and holder of a budget (created when a plan is approved, or
-- when urgent interim support is recorded), and the account of contributions owed (gross basis).
CREATE TABLE budget_accounts (
    council_id              uuid NOT NULL REFERENCES councils (id),
    account_id              uuid NOT NULL,
    budget_id               uuid NOT NULL,
    purpose                 text NOT NULL CHECK (purpose IN ('deployment', 'contribution_owed')),
    deployment              text CHECK (deployment IN ('direct_payment', 'managed_account', 'isf', 'council_managed')),
    holder_kind             text NOT NULL CHECK (holder_kind IN ('person', 'organisation', 'council')),
    holder_organisation_id  uuid,
    created_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, account_id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, holder_organisation_id) REFERENCES organisations (council_id, id),
    CHECK ((purpose = 'deployment') = (deployment IS NOT NULL)),
    CHECK ((holder_kind = 'organisation') = (holder_organisation_id IS NOT NULL))
);
CREATE UNIQUE INDEX budget_accounts_one_per_holder ON budget_accounts
    (council_id, budget_id, purpose, coalesce(deployment, ''),
     coalesce(holder_organisation_id, '00000000-0000-0000-0000-000000000000'));
CREATE INDEX budget_accounts_holder_idx ON budget_accounts (council_id, holder_organisation_id)
    WHERE holder_organisation_id IS NOT NULL;

-- Reviews: first within 6 months of the first approved plan, then at most every 12 months.
CREATE TABLE reviews (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    budget_id       uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('first', 'annual')),
    due_on          date NOT NULL,
    completed_on    date,
    completed_by    uuid,
    outcome         text CHECK (length(outcome) BETWEEN 1 AND 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, completed_by) REFERENCES users (council_id, id),
    CHECK ((completed_on IS NULL) = (completed_by IS NULL))
);
CREATE UNIQUE INDEX reviews_one_open ON reviews (council_id, budget_id) WHERE completed_on IS NULL;
CREATE INDEX reviews_due_idx ON reviews (council_id, due_on) WHERE completed_on IS NULL;

-- Payees and the council's "necessary" decisions (DP Regs reg 3) -------------------------------------

CREATE TABLE payees (
    council_id          uuid NOT NULL REFERENCES councils (id),
    id                  uuid NOT NULL,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind                text NOT NULL CHECK (kind IN ('care_agency', 'personal_assistant', 'care_home',
                                                      'council_service', 'individual', 'retailer')),
    person_id           uuid,
    relationship        text NOT NULL DEFAULT 'none' CHECK (relationship IN (
        'spouse', 'civil_partner', 'partner', 'parent', 'parent_in_law', 'child', 'child_in_law', 'stepchild',
        'sibling', 'aunt_uncle', 'grandparent', 'relative_partner', 'other_relative', 'friend', 'none')),
    lives_with_person   boolean NOT NULL DEFAULT false,
    bank_sort_code      text NOT NULL CHECK (bank_sort_code ~ '^[0-9]{6}$'),
    bank_account_number text NOT NULL CHECK (bank_account_number ~ '^[0-9]{8}$'),
    bank_account_name   text NOT NULL CHECK (length(bank_account_name) BETWEEN 1 AND 70),
    active              boolean NOT NULL DEFAULT true,
    bank_verified       boolean NOT NULL DEFAULT false,
    organisation_id     uuid,
    created_by          uuid NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);
CREATE INDEX payees_person_idx ON payees (council_id, person_id) WHERE person_id IS NOT NULL;

CREATE TABLE family_payment_approvals (
    council_id  uuid NOT NULL REFERENCES councils (id),
    id          uuid NOT NULL,
    budget_id   uuid NOT NULL,
    payee_id    uuid NOT NULL,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    approved_by uuid NOT NULL,
    approved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, budget_id, payee_id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    FOREIGN KEY (council_id, approved_by) REFERENCES users (council_id, id)
);

-- Payment runs -------------------------------------------------------------------------------------

CREATE TABLE payment_runs (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    period_start    date NOT NULL,
    -- Last day paid for (inclusive).
    period_end      date NOT NULL,
    weeks           integer NOT NULL CHECK (weeks BETWEEN 1 AND 13),
    status          text NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    total_amount    numeric(14,2) NOT NULL CHECK (total_amount >= 0),
    created_by      uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    submitted_by    uuid,
    submitted_at    timestamptz,
    approved_by     uuid,
    approved_at     timestamptz,
    rejected_by     uuid,
    rejected_at     timestamptz,
    -- Bacs file serial, numbered per council in order of approval.
    file_serial     integer,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, file_serial),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, submitted_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, approved_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, rejected_by) REFERENCES users (council_id, id),
    CHECK (period_end = period_start + weeks * 7 - 1),
    -- Maker-checker, enforced here as well as in the service.
    CHECK (approved_by IS NULL OR (approved_by <> created_by AND approved_by IS DISTINCT FROM submitted_by)),
    CHECK ((status = 'approved') = (approved_by IS NOT NULL AND file_serial IS NOT NULL))
);
-- A period is released once: no two live runs may share a start (overlaps are refused in the service).
CREATE UNIQUE INDEX payment_runs_one_per_period ON payment_runs (council_id, period_start) WHERE status <> 'rejected';

CREATE TABLE payment_run_lines (
    council_id              uuid NOT NULL REFERENCES councils (id),
    run_id                  uuid NOT NULL,
    line_no                 integer NOT NULL CHECK (line_no >= 1),
    budget_id               uuid NOT NULL,
    deployment              text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account', 'isf', 'council_managed')),
    account_id              uuid NOT NULL,
    holder_organisation_id  uuid,
    weeks                   integer NOT NULL CHECK (weeks >= 1),
    amount                  numeric(14,2) NOT NULL CHECK (amount >= 0),
    contribution_owed       numeric(14,2) NOT NULL CHECK (contribution_owed >= 0),
    contribution_to_pay_in  numeric(14,2) NOT NULL CHECK (contribution_to_pay_in >= 0),
    -- Money paid out of the council's bank (direct payments, providers); council-managed money stays inside allot.
    in_bank_file            boolean NOT NULL,
    payee_name              text,
    payee_sort_code         text CHECK (payee_sort_code ~ '^[0-9]{6}$'),
    payee_account_number    text CHECK (payee_account_number ~ '^[0-9]{8}$'),
    payment_reference       text NOT NULL,
    entry_id                uuid,
    PRIMARY KEY (council_id, run_id, line_no),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    CHECK (NOT in_bank_file OR (payee_name IS NOT NULL AND payee_sort_code IS NOT NULL AND payee_account_number IS NOT NULL))
);
CREATE INDEX payment_run_lines_budget_idx ON payment_run_lines (council_id, budget_id);

CREATE TABLE payment_run_skips (
    council_id  uuid NOT NULL REFERENCES councils (id),
    run_id      uuid NOT NULL,
    skip_no     integer NOT NULL CHECK (skip_no >= 1),
    budget_id   uuid NOT NULL,
    deployment  text,
    reason      text NOT NULL,
    message     text NOT NULL,
    PRIMARY KEY (council_id, run_id, skip_no),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id)
);

-- Contributions received ---------------------------------------------------------------------------

CREATE TABLE contributions (
    council_id  uuid NOT NULL REFERENCES councils (id),
    id          uuid NOT NULL,
    budget_id   uuid NOT NULL,
    amount      numeric(14,2) NOT NULL CHECK (amount > 0),
    received_on date NOT NULL,
    account_id  uuid NOT NULL,
    entry_id    uuid NOT NULL,
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, recorded_by) REFERENCES users (council_id, id)
);
CREATE INDEX contributions_budget_idx ON contributions (council_id, budget_id);

-- Row-level security and privileges -------------------------------------------------------------

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['person_changes', 'council_banking', 'council_accounts', 'budgets',
                             'urgent_interim_support', 'support_plans', 'support_plan_lines', 'budget_accounts',
                             'reviews', 'payees', 'family_payment_approvals', 'payment_runs',
                             'payment_run_lines', 'payment_run_skips', 'contributions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;

GRANT SELECT ON charging_parameters, charging_mig_bands TO allot_app;
GRANT SELECT, INSERT ON person_changes, council_accounts, urgent_interim_support, support_plan_lines,
    budget_accounts, family_payment_approvals, payment_run_skips, contributions TO allot_app;
GRANT SELECT, INSERT, UPDATE ON council_banking, budgets, payees TO allot_app;
-- Plans, reviews and runs change state; nothing else about them changes once written.
GRANT SELECT, INSERT ON support_plans, reviews, payment_runs, payment_run_lines TO allot_app;
GRANT UPDATE (status, approved_by, approved_at, ended_at) ON support_plans TO allot_app;
GRANT UPDATE (completed_on, completed_by, outcome, due_on) ON reviews TO allot_app;
GRANT UPDATE (status, submitted_by, submitted_at, approved_by, approved_at, rejected_by, rejected_at, file_serial)
    ON payment_runs TO allot_app;
GRANT UPDATE (entry_id) ON payment_run_lines TO allot_app;
GRANT USAGE ON SEQUENCE budget_reference_seq TO allot_app;

-- Visibility ---------------------------------------------------------------------------------------

-- Whether a user may see a budget: council staff all; a budget holder their own; a broker the
-- budgets their organisation brokers; provider staff the budgets whose money their organisation
-- holds. Everyone else (representatives until agreements link them) sees none.
CREATE FUNCTION can_see_budget(p_council uuid, p_user uuid, p_budget uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (
        SELECT 1 FROM users u JOIN budgets b ON b.council_id = u.council_id AND b.id = p_budget
        WHERE u.council_id = p_council AND u.id = p_user
          AND (u.role IN ('council_admin', 'care_manager', 'finance_officer', 'auditor')
               OR (u.role = 'budget_holder' AND u.person_id = b.person_id)
               OR (u.role = 'broker' AND u.organisation_id = b.broker_organisation_id)
               OR (u.role = 'provider_staff' AND EXISTS (
                       SELECT 1 FROM budget_accounts a
                       WHERE a.council_id = b.council_id AND a.budget_id = b.id
                         AND a.holder_organisation_id = u.organisation_id)))) $$;
GRANT EXECUTE ON FUNCTION can_see_budget(uuid, uuid, uuid) TO allot_app;

-- People: as V1, and now also brokers and provider staff for the people with a budget they may see.
CREATE OR REPLACE FUNCTION can_see_person(p_council uuid, p_user uuid, p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (
        SELECT 1 FROM users u
        WHERE u.council_id = p_council AND u.id = p_user
          AND (u.role IN ('council_admin', 'care_manager', 'finance_officer', 'auditor')
               OR (u.role = 'budget_holder' AND u.person_id = p_person)
               OR (u.role IN ('broker', 'provider_staff') AND EXISTS (
                       SELECT 1 FROM budgets b
                       WHERE b.council_id = p_council AND b.person_id = p_person
                         AND can_see_budget(p_council, p_user, b.id))))) $$;
