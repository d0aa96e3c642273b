-- Grants cover named deployments (RULES.md › Decision-making agreements), and seeing a budget
-- through a grant follows the same test the rules use for a grant that counts.
--
-- A grant gives `pay` and `approve` only for payments out of the deployments it names: the person
-- and those acting for them their direct payment; a managed-account or ISF provider the money its
-- organisation holds; council-managed money only council staff.

ALTER TABLE agreement_grants ADD COLUMN deployments text[];

-- Existing grants: the person, their representatives and brokers the direct payment; providers the
-- deployments of the accounts their organisation holds on the budget, or the deployment they
-- provide if they hold none yet.
UPDATE agreement_grants g
   SET deployments = CASE
       WHEN g.acting_as IN ('managed_account_provider', 'isf_provider') THEN coalesce(
           (SELECT array_agg(held.deployment ORDER BY array_position(
                       ARRAY['direct_payment', 'managed_account', 'isf', 'council_managed']::text[],
                       held.deployment))
              FROM (SELECT DISTINCT a.deployment
                      FROM budget_accounts a
                      JOIN users u ON u.council_id = g.council_id AND u.id = g.user_id
                     WHERE a.council_id = g.council_id AND a.budget_id = g.budget_id
                       AND a.purpose = 'deployment'
                       AND a.holder_organisation_id = u.organisation_id) held),
           CASE g.acting_as WHEN 'managed_account_provider' THEN ARRAY['managed_account']::text[]
                            ELSE ARRAY['isf']::text[] END)
       ELSE ARRAY['direct_payment']::text[]
   END;

ALTER TABLE agreement_grants
    ALTER COLUMN deployments SET NOT NULL,
    ADD CONSTRAINT agreement_grants_deployments_check CHECK (
        cardinality(deployments) >= 1
        AND deployments <@ ARRAY['direct_payment', 'managed_account', 'isf', 'council_managed']::text[]);

-- allot_app's table-wide SELECT and INSERT on agreement_grants (V4) cover the new column; its
-- UPDATE stays limited to ending a grant.

-- Whether a grant fits the person as their record stands (rules::grants::capacity_role_misfit):
-- a nominated person only while the person has capacity (Care Act s.31), an authorised person only
-- while they lack it (s.32), an attorney only under a registered LPA, a deputy only with a Court of
-- Protection order reference.
CREATE FUNCTION grant_fits_person(p_acting_as text, p_has_capacity boolean, p_lpa_registered boolean,
                                  p_court_order_ref text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE p_acting_as
        WHEN 'nominated_person' THEN p_has_capacity
        WHEN 'authorised_person' THEN NOT p_has_capacity
        WHEN 'attorney' THEN p_lpa_registered
        WHEN 'deputy' THEN coalesce(btrim(p_court_order_ref) <> '', false)
        ELSE true END $$;
GRANT EXECUTE ON FUNCTION grant_fits_person(text, boolean, boolean, text) TO allot_app;

-- Budgets: as V4, except that a representative sees a budget only through a grant that still
-- counts: not ended, not past its last day (a grant that starts later is already visible), and
-- fitting the person's current capacity record.
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
                       JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
                       WHERE g.council_id = b.council_id AND g.budget_id = b.id
                         AND g.user_id = u.id AND g.ended_at IS NULL
                         AND (g.valid_to IS NULL
                              OR g.valid_to >= (now() AT TIME ZONE 'Europe/London')::date)
                         AND grant_fits_person(g.acting_as, p.has_capacity, g.lpa_registered,
                                               g.court_order_ref))))) $$;
