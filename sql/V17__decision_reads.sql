-- Every API request looks its token up. As a SQL-language SECURITY DEFINER function (which is
-- never inlined), auth_find_token planned its query afresh on every call; as PL/pgSQL the plan is
-- kept for the connection's life. Same arguments, same rows, same owner and grants.

GRANT allot_directory TO CURRENT_USER;

CREATE OR REPLACE FUNCTION auth_find_token(p_hash bytea, p_kind text)
    RETURNS TABLE (council_id uuid, user_id uuid, csrf_token text, email text, name text, role text,
                   organisation_id uuid, person_id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY
        SELECT t.council_id, t.user_id, t.csrf_token, u.email, u.name, u.role, u.organisation_id,
               u.person_id
        FROM auth_tokens t JOIN users u ON u.council_id = t.council_id AND u.id = t.user_id
        WHERE t.token_hash = p_hash AND t.kind = p_kind AND t.revoked_at IS NULL
          AND t.expires_at > now() AND u.active;
END
$$;

REVOKE allot_directory FROM CURRENT_USER;

-- Spending by day, kept by the database ----------------------------------------------------------

-- A payment's decision rests on what its budget has spent this plan year on the line's category
-- and deployment. Summing the year's payments for each decision costs more the longer the year
-- runs; these totals, one row per budget, deployment, category and day (UTC), are kept by
-- triggers in the statements that change what counts, so a decision reads at most a year of days.
--
-- A payment counts while it is posted or held, and not once its hold expired, its approval was
-- refused, or its posting was reversed (as `COUNTS` in src/payments/spend/facts.rs):
--   * a payment recorded posted or held adds its amount (refusals never count);
--   * a held payment rejected takes it away (unless its hold had expired already);
--   * a hold resolved as expired takes its held payment's amount away;
--   * a reversing entry takes away the amount of the payment whose posting it reverses.
CREATE TABLE budget_spending (
    council_id  uuid NOT NULL,
    budget_id   uuid NOT NULL,
    deployment  text NOT NULL,
    category    text NOT NULL,
    day         date NOT NULL,
    total       numeric(16,2) NOT NULL CHECK (total >= 0),
    PRIMARY KEY (council_id, budget_id, deployment, category, day),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id)
);
ALTER TABLE budget_spending ENABLE ROW LEVEL SECURITY;
ALTER TABLE budget_spending FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON budget_spending USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT ON budget_spending TO allot_app;

-- Adds (or with a negative sign, takes away) the payments of `changes` to their days' totals.
-- What is taken away was added before, so it updates a row that exists (an upsert would check the
-- negative amount against `total >= 0` before finding the row).
CREATE FUNCTION budget_spending_add(changes jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    INSERT INTO budget_spending AS s (council_id, budget_id, deployment, category, day, total)
    SELECT c.council_id, c.budget_id, c.deployment, c.category, c.day, sum(c.amount)
    FROM jsonb_to_recordset(changes)
         AS c(council_id uuid, budget_id uuid, deployment text, category text, day date,
              amount numeric)
    WHERE c.amount > 0
    GROUP BY c.council_id, c.budget_id, c.deployment, c.category, c.day
    ON CONFLICT (council_id, budget_id, deployment, category, day)
    DO UPDATE SET total = s.total + excluded.total;
    UPDATE budget_spending s SET total = s.total + c.amount
    FROM (SELECT c.council_id, c.budget_id, c.deployment, c.category, c.day,
                 sum(c.amount) AS amount
          FROM jsonb_to_recordset(changes)
               AS c(council_id uuid, budget_id uuid, deployment text, category text, day date,
                    amount numeric)
          WHERE c.amount < 0
          GROUP BY c.council_id, c.budget_id, c.deployment, c.category, c.day) c
    WHERE s.council_id = c.council_id AND s.budget_id = c.budget_id
      AND s.deployment = c.deployment AND s.category = c.category AND s.day = c.day;
END
$$;
REVOKE ALL ON FUNCTION budget_spending_add(jsonb) FROM PUBLIC;

-- A payment's amount (times `factor`) on its budget, deployment, category and day.
CREATE FUNCTION budget_spending_item(p payments, factor integer) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('council_id', p.council_id, 'budget_id', p.budget_id,
                              'deployment', p.deployment, 'category', p.category,
                              'day', (p.requested_at AT TIME ZONE 'UTC')::date,
                              'amount', factor * p.amount) $$;

CREATE FUNCTION budget_spending_on_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(n, 1)), '[]'))
    FROM new_payments n
    WHERE n.status IN ('posted', 'pending_approval');
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION budget_spending_on_insert() FROM PUBLIC;
CREATE TRIGGER payments_spending_insert AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_payments
    FOR EACH STATEMENT EXECUTE FUNCTION budget_spending_on_insert();

CREATE FUNCTION budget_spending_on_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(n, -1)), '[]'))
    FROM new_payments n
    JOIN old_payments o ON o.council_id = n.council_id AND o.id = n.id
    WHERE o.status IN ('posted', 'pending_approval')
      AND n.status NOT IN ('posted', 'pending_approval')
      AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                      WHERE r.council_id = n.council_id AND r.hold_id = n.hold_entry_id
                        AND r.outcome = 'expired');
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION budget_spending_on_update() FROM PUBLIC;
CREATE TRIGGER payments_spending_update AFTER UPDATE ON payments
    REFERENCING OLD TABLE AS old_payments NEW TABLE AS new_payments
    FOR EACH STATEMENT EXECUTE FUNCTION budget_spending_on_update();

CREATE FUNCTION budget_spending_on_expiry() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(p, -1)), '[]'))
    FROM new_resolutions r
    JOIN payments p ON p.council_id = r.council_id AND p.hold_entry_id = r.hold_id
    WHERE r.outcome = 'expired' AND p.status IN ('posted', 'pending_approval');
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION budget_spending_on_expiry() FROM PUBLIC;
CREATE TRIGGER ledger_hold_resolutions_spending AFTER INSERT ON ledger_hold_resolutions
    REFERENCING NEW TABLE AS new_resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION budget_spending_on_expiry();

CREATE FUNCTION budget_spending_on_reversal() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(p, -1)), '[]'))
    FROM new_entries e
    JOIN payments p ON p.council_id = e.council_id AND p.posted_entry_id = e.reverses
    WHERE e.reverses IS NOT NULL AND p.status IN ('posted', 'pending_approval');
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION budget_spending_on_reversal() FROM PUBLIC;
CREATE TRIGGER ledger_entries_spending AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION budget_spending_on_reversal();

-- Care-home stays are read for every decision about the person; most payments are not stays.
CREATE INDEX payments_stays_idx ON payments (council_id, budget_id) WHERE stay_from IS NOT NULL;
-- Held payments by their hold, for the expiry trigger.
CREATE INDEX payments_hold_entry_idx ON payments (council_id, hold_entry_id)
    WHERE hold_entry_id IS NOT NULL;

-- The totals of the payments recorded so far, council by council (row-level security is forced).
DO $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT ledger_council_ids() LOOP
        PERFORM set_config('app.council_id', c::text, true);
        INSERT INTO budget_spending (council_id, budget_id, deployment, category, day, total)
        SELECT pm.council_id, pm.budget_id, pm.deployment, pm.category,
               (pm.requested_at AT TIME ZONE 'UTC')::date, sum(pm.amount)
        FROM payments pm
        WHERE pm.council_id = c AND pm.status IN ('posted', 'pending_approval')
          AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                          WHERE r.council_id = pm.council_id AND r.hold_id = pm.hold_entry_id
                            AND r.outcome = 'expired')
          AND NOT EXISTS (SELECT 1 FROM ledger_entries rev
                          WHERE rev.council_id = pm.council_id AND rev.reverses = pm.posted_entry_id)
        GROUP BY 1, 2, 3, 4, 5;
    END LOOP;
    PERFORM set_config('app.council_id', '', true);
END
$$;

-- The legs' check, the same rules with fewer lookups ---------------------------------------------

-- As V8: a leg agrees with its entry (LD003), is written by the statement that records its entry
-- (LD004), and every entry balances (LD001). Every row one statement inserts carries the same
-- inserting transaction and command id, so the statement's stamp is read from one of its legs
-- and each leg's entry compared with it, rather than looking every leg up again. An entry's legs
-- are then all in this statement (none could be written before it), so the balance is summed
-- from the statement's own legs.
CREATE OR REPLACE FUNCTION ledger_check_new_legs() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
    code text;
    stamp_xmin xid;
    stamp_cmin cid;
BEGIN
    SELECT l.xmin, l.cmin INTO stamp_xmin, stamp_cmin
    FROM (SELECT council_id, entry_id, leg_no FROM new_legs LIMIT 1) n
    JOIN ledger_legs l ON l.council_id = n.council_id AND l.entry_id = n.entry_id
                      AND l.leg_no = n.leg_no;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT n.entry_id,
           CASE WHEN e.id IS NULL OR e.effective_date <> n.effective_date OR e.seq <> n.entry_seq
                     OR e.pending <> n.pending THEN 'LD003' ELSE 'LD004' END
    INTO bad, code
    FROM new_legs n
    LEFT JOIN ledger_entries e ON e.council_id = n.council_id AND e.id = n.entry_id
    WHERE e.id IS NULL OR e.effective_date <> n.effective_date OR e.seq <> n.entry_seq
       OR e.pending <> n.pending OR NOT (e.xmin = stamp_xmin AND e.cmin = stamp_cmin)
    LIMIT 1;
    IF FOUND AND code = 'LD003' THEN
        RAISE EXCEPTION 'ledger leg of entry % disagrees with its entry', bad USING ERRCODE = 'LD003';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'ledger entry % was recorded before: legs cannot be added to it', bad
            USING ERRCODE = 'LD004';
    END IF;
    SELECT n.entry_id INTO bad
    FROM new_legs n
    GROUP BY n.council_id, n.entry_id
    HAVING coalesce(sum(n.amount) FILTER (WHERE n.side = 'D'), 0)
        <> coalesce(sum(n.amount) FILTER (WHERE n.side = 'C'), 0)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not balance', bad USING ERRCODE = 'LD001';
    END IF;
    RETURN NULL;
END
$$;
