-- The answers to a batch's card authorisation requests, recorded in the batch's own transaction
-- (with the authorisations and their holds), so that an event's decision and the answer a replay
-- of its webhook-id gets are committed together. Set-based: one call a batch.

CREATE FUNCTION card_event_record_many(p_processors uuid[], p_webhook_ids text[], p_type text,
                                       p_council uuid, p_answers jsonb[])
    RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    INSERT INTO card_event_receipts (processor_id, webhook_id, event_type, council_id, answer)
    SELECT u.processor_id, u.webhook_id, p_type, p_council, u.answer
    FROM unnest(p_processors, p_webhook_ids, p_answers) AS u(processor_id, webhook_id, answer)
    ON CONFLICT (processor_id, webhook_id) DO NOTHING
$$;

REVOKE ALL ON FUNCTION card_event_record_many(uuid[], text[], text, uuid, jsonb[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION card_event_record_many(uuid[], text[], text, uuid, jsonb[]) TO allot_app;

GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION card_event_record_many(uuid[], text[], text, uuid, jsonb[]) OWNER TO allot_directory;

-- The two lookups every authorisation request makes, as PL/pgSQL: a SQL function with its own
-- search_path is planned on every call; PL/pgSQL keeps its plans for the session. Same queries.
CREATE OR REPLACE FUNCTION card_find(p_processor uuid, p_ref text)
    RETURNS TABLE (council_id uuid, card_id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY SELECT c.council_id, c.id FROM cards c
                 WHERE c.processor_id = p_processor AND c.processor_card_ref = p_ref;
END
$$;

CREATE OR REPLACE FUNCTION card_event_answer(p_processor uuid, p_webhook_id text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN (SELECT r.answer FROM card_event_receipts r
            WHERE r.processor_id = p_processor AND r.webhook_id = p_webhook_id);
END
$$;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;

-- Only declines are reported: approved authorisations no longer call the trigger's function.
DROP TRIGGER webhook_card_authorizations ON card_authorizations;
CREATE TRIGGER webhook_card_authorizations AFTER INSERT ON card_authorizations
    FOR EACH ROW WHEN (NOT NEW.approved) EXECUTE FUNCTION webhook_on_card_authorization();

-- Who may see a budget (as V6), as PL/pgSQL so that its plan is kept for the session rather than
-- made again on every call (every payment's decision asks it). The same rule, word for word.
CREATE OR REPLACE FUNCTION can_see_budget(p_council uuid, p_user uuid, p_budget uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN EXISTS (
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
                                               g.court_order_ref)))));
END
$$;
