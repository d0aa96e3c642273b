-- Decision-making agreements (RULES.md › Decision-making agreements) and versioned council policy
-- (RULES.md values marked *policy*).
--
-- A grant is never deleted or edited: it is ended (ended_at/ended_by) and a new one recorded, so
-- every past decision can be explained by the grants as they stood. Policy versions are rows; a
-- change adds a version, and decisions record the version they were made under.

CREATE TABLE agreement_grants (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    budget_id       uuid NOT NULL,
    user_id         uuid NOT NULL,
    acting_as       text NOT NULL CHECK (acting_as IN ('self', 'nominated_person', 'authorised_person',
                        'attorney', 'deputy', 'family_member', 'broker', 'managed_account_provider',
                        'isf_provider')),
    powers          text[] NOT NULL CHECK (cardinality(powers) BETWEEN 1 AND 2
                        AND powers <@ ARRAY['pay', 'approve']::text[]),
    -- NULL: every category.
    categories      text[] CHECK (cardinality(categories) >= 1),
    max_per_payment numeric(14,2) NOT NULL CHECK (max_per_payment > 0),
    cosign_above    numeric(14,2) CHECK (cosign_above >= 0),
    valid_from      date NOT NULL,
    valid_to        date CHECK (valid_to >= valid_from),
    lpa_registered  boolean NOT NULL DEFAULT false,
    court_order_ref text CHECK (length(court_order_ref) BETWEEN 1 AND 100),
    recorded_by     uuid NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    ended_by        uuid,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, user_id) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, recorded_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, ended_by) REFERENCES users (council_id, id),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
CREATE INDEX agreement_grants_budget_idx ON agreement_grants (council_id, budget_id);
CREATE INDEX agreement_grants_user_idx ON agreement_grants (council_id, user_id);

CREATE TABLE council_policies (
    council_id  uuid NOT NULL REFERENCES councils (id),
    version     integer NOT NULL CHECK (version >= 1),
    -- The settings as `rules::CouncilPolicy` serialises them (without the version).
    settings    jsonb NOT NULL,
    reason      text CHECK (length(reason) BETWEEN 1 AND 2000),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, version),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['agreement_grants', 'council_policies'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT ON agreement_grants, council_policies TO allot_app;
GRANT UPDATE (ended_at, ended_by) ON agreement_grants TO allot_app;

-- Budgets: as V3, and now also representatives (and anyone else) holding a grant on the budget
-- that has not been ended.
CREATE OR REPLACE FUNCTION can_see_budget(p_council uuid, p_user uuid, p_budget uuid) RETURNS boolean
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
                         AND a.holder_organisation_id = u.organisation_id))
               OR (u.role = 'representative' AND EXISTS (
                       SELECT 1 FROM agreement_grants g
                       WHERE g.council_id = b.council_id AND g.budget_id = b.id
                         AND g.user_id = u.id AND g.ended_at IS NULL)))) $$;

-- Accounts: council staff every account; provider staff the accounts their organisation holds;
-- anyone else who may see a budget, that budget's accounts.
CREATE OR REPLACE FUNCTION can_see_account(p_council uuid, p_user uuid, p_account uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (
        SELECT 1 FROM users u
        WHERE u.council_id = p_council AND u.id = p_user
          AND (u.role IN ('care_manager', 'finance_officer', 'auditor', 'council_admin')
               OR EXISTS (
                   SELECT 1 FROM budget_accounts a
                   WHERE a.council_id = p_council AND a.account_id = p_account
                     AND CASE WHEN u.role = 'provider_staff'
                              THEN a.holder_organisation_id = u.organisation_id
                              ELSE can_see_budget(p_council, p_user, a.budget_id) END))) $$;
