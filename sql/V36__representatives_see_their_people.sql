-- Representatives see the people whose budgets they may see (through a grant in force that fits
-- the person's capacity record, as can_see_budget decides), as brokers and provider staff do:
-- their People list and the person linked from their budget's page.
CREATE OR REPLACE FUNCTION can_see_person(p_council uuid, p_user uuid, p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (
        SELECT 1 FROM users u
        WHERE u.council_id = p_council AND u.id = p_user
          AND (u.role IN ('council_admin', 'care_manager', 'finance_officer', 'auditor')
               OR (u.role = 'budget_holder' AND u.person_id = p_person)
               OR (u.role IN ('broker', 'provider_staff', 'representative') AND EXISTS (
                       SELECT 1 FROM budgets b
                       WHERE b.council_id = p_council AND b.person_id = p_person
                         AND can_see_budget(p_council, p_user, b.id))))) $$;
