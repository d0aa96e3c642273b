-- Card money moved without allot's approval at the time (force captures, stand-in captures and
-- stand-in authorisations) counts toward the budget's running spending totals, like any payment,
-- so the rules judge later spending against what was really spent. Each exception records the
-- budget, deployment and plan category its merchant maps to; a trigger adds its amount to the
-- day's total. A stand-in authorisation counts when it is recorded, as an authorised card payment
-- does; it is never taken off again (if the network later voids it the total stays higher, so
-- the rules err toward refusing, never toward allowing more than the plan).

ALTER TABLE card_exceptions
    ADD COLUMN budget_id  uuid,
    ADD COLUMN deployment text,
    ADD COLUMN category   text,
    ADD CONSTRAINT card_exceptions_budget_fk FOREIGN KEY (council_id, budget_id)
        REFERENCES budgets (council_id, id);

CREATE FUNCTION card_exceptions_spending() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(jsonb_build_object(
                'council_id', n.council_id, 'budget_id', n.budget_id,
                'deployment', n.deployment, 'category', n.category,
                'day', (n.created_at AT TIME ZONE 'UTC')::date, 'amount', n.amount)), '[]'))
    FROM new_exceptions n
    WHERE n.budget_id IS NOT NULL AND n.deployment IS NOT NULL AND n.category IS NOT NULL;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION card_exceptions_spending() FROM PUBLIC;
CREATE TRIGGER card_exceptions_spending AFTER INSERT ON card_exceptions
    REFERENCING NEW TABLE AS new_exceptions
    FOR EACH STATEMENT EXECUTE FUNCTION card_exceptions_spending();
