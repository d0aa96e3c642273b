-- The database as a real second wall: row-level security forced on every tenant table (the
-- schema owner too is bound by it), the few cross-council lookups moved to a role of their own,
-- account totals maintained by the database itself (allot_app may no longer write them), legs
-- only ever written with their entry, and a hold pending exactly while it is open.

-- Cross-council lookups --------------------------------------------------------------------------

-- Sign-in (before the council is known) and background upkeep (council by council) need to read a
-- few columns across councils. With row-level security forced, the schema owner sees nothing
-- without a council either, so those SECURITY DEFINER functions now belong to allot_directory: a
-- role that cannot log in, owns nothing else, may read only the columns they return, and is the
-- only role with a policy letting it read every council's rows of those tables. A role with
-- BYPASSRLS would be simpler, but only a superuser can create one, and allot must run with a
-- schema owner that is not a superuser.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'allot_directory') THEN
        CREATE ROLE allot_directory NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO allot_directory;

GRANT SELECT (id) ON councils TO allot_directory;
GRANT SELECT (council_id, id, email, name, role, organisation_id, person_id, password_iterations,
              password_salt, password_hash, active) ON users TO allot_directory;
GRANT SELECT (council_id, token_hash, user_id, kind, csrf_token, expires_at, revoked_at)
    ON auth_tokens TO allot_directory;
GRANT SELECT (council_id) ON ledger_seal_queue TO allot_directory;
GRANT SELECT (council_id, expires_at) ON ledger_open_holds TO allot_directory;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['councils', 'users', 'auth_tokens', 'ledger_seal_queue',
                             'ledger_open_holds'] LOOP
        EXECUTE format('CREATE POLICY directory_lookup ON %I FOR SELECT TO allot_directory USING (true)', t);
    END LOOP;
END
$$;

-- Handing a function over needs membership of the new owner and the new owner's CREATE on the
-- schema, both only for the moment of the transfer. The owner does not stay a member: policies
-- apply to members too, and the owner would see every council's rows of those tables. (A later
-- migration replacing one of these functions grants the membership again for as long as it needs.)
GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION auth_find_user(text) OWNER TO allot_directory;
ALTER FUNCTION auth_find_token(bytea, text) OWNER TO allot_directory;
ALTER FUNCTION ledger_council_ids() OWNER TO allot_directory;
ALTER FUNCTION ledger_councils_with_work(timestamptz) OWNER TO allot_directory;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;

-- Account totals, kept by the database -----------------------------------------------------------

-- Every leg inserted adds to its account's totals: posted legs to the posted columns, the legs of
-- a hold to the pending ones. One UPDATE per statement from the statement's transition table, so
-- a batch of a thousand entries costs one update of each account it touches. The ledger has
-- already locked these accounts FOR UPDATE in id order (and refused, in Rust, whatever would
-- overdraw them), so this never waits on another writer; the CHECK constraints on the totals
-- stand behind it. SECURITY DEFINER because allot_app may no longer update totals at all; the
-- owner is bound by the tenant policy like everyone, so it can only touch this council's rows.
CREATE FUNCTION ledger_add_leg_totals() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    UPDATE ledger_accounts a
    SET posted_debits = a.posted_debits + s.pd, posted_credits = a.posted_credits + s.pc,
        pending_debits = a.pending_debits + s.ed, pending_credits = a.pending_credits + s.ec
    FROM (SELECT council_id, account_id,
                 coalesce(sum(amount) FILTER (WHERE NOT pending AND side = 'D'), 0) AS pd,
                 coalesce(sum(amount) FILTER (WHERE NOT pending AND side = 'C'), 0) AS pc,
                 coalesce(sum(amount) FILTER (WHERE pending AND side = 'D'), 0) AS ed,
                 coalesce(sum(amount) FILTER (WHERE pending AND side = 'C'), 0) AS ec
          FROM new_legs GROUP BY council_id, account_id) s
    WHERE a.council_id = s.council_id AND a.id = s.account_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ledger_add_leg_totals() FROM PUBLIC;
-- Fires after ledger_legs_check (triggers of one event fire in name order).
CREATE TRIGGER ledger_legs_totals AFTER INSERT ON ledger_legs
    REFERENCING NEW TABLE AS new_legs
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_add_leg_totals();

-- A hold counts as pending exactly while it has a row in ledger_open_holds. These checks keep that
-- true whatever allot_app sends, so that resolving a hold is what releases its pending totals:
--   * every pending entry gets its open-hold row in the statement that records it (LD006);
--   * an open-hold row is only ever written by the statement that records its hold (LD006);
--   * an open-hold row goes only with its resolution (LD005), which is recorded once (its key);
--   * a resolution is of a hold (a pending entry) that is no longer open (LD005).
-- "The same statement": rows written by one statement carry the same inserting transaction and
-- command id (xmin, cmin), which nothing can set by hand; entries and their legs already had to
-- be written together for the balance check.
CREATE FUNCTION ledger_check_new_open_holds() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT n.hold_id INTO bad
    FROM new_holds n
    JOIN ledger_open_holds h ON h.council_id = n.council_id AND h.hold_id = n.hold_id
    LEFT JOIN ledger_entries e ON e.council_id = n.council_id AND e.id = n.hold_id
    WHERE e.id IS NULL OR NOT e.pending OR NOT (e.xmin = h.xmin AND e.cmin = h.cmin)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger hold % can only be opened by the statement that records it', bad
            USING ERRCODE = 'LD006';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ledger_open_holds_check AFTER INSERT ON ledger_open_holds
    REFERENCING NEW TABLE AS new_holds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_new_open_holds();

CREATE FUNCTION ledger_check_closed_holds() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT o.hold_id INTO bad
    FROM old_holds o
    LEFT JOIN ledger_hold_resolutions r ON r.council_id = o.council_id AND r.hold_id = o.hold_id
    WHERE r.hold_id IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger hold % was closed without recording its resolution', bad
            USING ERRCODE = 'LD005';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ledger_open_holds_close AFTER DELETE ON ledger_open_holds
    REFERENCING OLD TABLE AS old_holds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_closed_holds();

-- A resolution releases its hold's legs from the pending totals (posting a hold then adds the
-- posting entry's legs to the posted totals, through ledger_legs_totals).
CREATE FUNCTION ledger_release_resolved_holds() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT r.hold_id INTO bad
    FROM new_resolutions r
    JOIN ledger_entries e ON e.council_id = r.council_id AND e.id = r.hold_id
    WHERE NOT e.pending
       OR EXISTS (SELECT 1 FROM ledger_open_holds h
                  WHERE h.council_id = r.council_id AND h.hold_id = r.hold_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is not a hold being closed', bad USING ERRCODE = 'LD005';
    END IF;
    UPDATE ledger_accounts a
    SET pending_debits = a.pending_debits - s.ed, pending_credits = a.pending_credits - s.ec
    FROM (SELECT l.council_id, l.account_id,
                 coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0) AS ed,
                 coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0) AS ec
          FROM new_resolutions r
          JOIN ledger_legs l ON l.council_id = r.council_id AND l.entry_id = r.hold_id
          GROUP BY l.council_id, l.account_id) s
    WHERE a.council_id = s.council_id AND a.id = s.account_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ledger_release_resolved_holds() FROM PUBLIC;
CREATE TRIGGER ledger_hold_resolutions_release AFTER INSERT ON ledger_hold_resolutions
    REFERENCING NEW TABLE AS new_resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_release_resolved_holds();

-- As V2, and now: a leg is written by the statement that records its entry (LD004), never added
-- to an entry recorded before.
CREATE OR REPLACE FUNCTION ledger_check_new_legs() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
    code text;
BEGIN
    SELECT n.entry_id,
           CASE WHEN e.id IS NULL OR e.effective_date <> n.effective_date OR e.seq <> n.entry_seq
                     OR e.pending <> n.pending THEN 'LD003' ELSE 'LD004' END
    INTO bad, code
    FROM new_legs n
    JOIN ledger_legs l ON l.council_id = n.council_id AND l.entry_id = n.entry_id
                      AND l.leg_no = n.leg_no
    LEFT JOIN ledger_entries e ON e.council_id = n.council_id AND e.id = n.entry_id
    WHERE e.id IS NULL OR e.effective_date <> n.effective_date OR e.seq <> n.entry_seq
       OR e.pending <> n.pending OR NOT (e.xmin = l.xmin AND e.cmin = l.cmin)
    LIMIT 1;
    IF FOUND AND code = 'LD003' THEN
        RAISE EXCEPTION 'ledger leg of entry % disagrees with its entry', bad USING ERRCODE = 'LD003';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'ledger entry % was recorded before: legs cannot be added to it', bad
            USING ERRCODE = 'LD004';
    END IF;
    SELECT t.entry_id INTO bad
    FROM (SELECT DISTINCT council_id, entry_id FROM new_legs) t
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0) AS debits,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0) AS credits
        FROM ledger_legs l WHERE l.council_id = t.council_id AND l.entry_id = t.entry_id) s
    WHERE s.debits <> s.credits
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not balance', bad USING ERRCODE = 'LD001';
    END IF;
    RETURN NULL;
END
$$;

-- As V2, and now: a pending entry (a hold) is opened by the statement that records it (LD006).
CREATE OR REPLACE FUNCTION ledger_check_new_entries() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT n.id INTO bad
    FROM new_entries n
    CROSS JOIN LATERAL (
        SELECT count(*) AS legs,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0) AS debits,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0) AS credits
        FROM ledger_legs l WHERE l.council_id = n.council_id AND l.entry_id = n.id) s
    WHERE s.legs < 2 OR s.debits <> s.credits
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not balance', bad USING ERRCODE = 'LD001';
    END IF;
    SELECT n.id INTO bad
    FROM new_entries n
    WHERE n.effective_date <= (SELECT max(c.closed_through) FROM ledger_period_closes c
                               WHERE c.council_id = n.council_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is dated in a closed period', bad USING ERRCODE = 'LD002';
    END IF;
    SELECT n.id INTO bad
    FROM new_entries n
    WHERE n.pending AND NOT EXISTS (SELECT 1 FROM ledger_open_holds h
                                    WHERE h.council_id = n.council_id AND h.hold_id = n.id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger hold % was recorded without opening it', bad USING ERRCODE = 'LD006';
    END IF;
    RETURN NULL;
END
$$;

-- allot_app no longer writes totals. Locking a row (SELECT .. FOR UPDATE, as every posting does
-- to queue writers of one account) needs the UPDATE privilege on at least one of its columns, so
-- allot_app keeps UPDATE on council_id alone: the tenant policy's WITH CHECK pins council_id to
-- the transaction's council, which is the only council whose rows it can see, so that grant can
-- change nothing (and the legs' foreign keys refuse a change of key anyway).
REVOKE UPDATE (posted_debits, posted_credits, pending_debits, pending_credits) ON ledger_accounts
    FROM allot_app;
GRANT UPDATE (council_id) ON ledger_accounts TO allot_app;

-- Row-level security, forced ----------------------------------------------------------------------

-- Every table with a council_id column, found in the catalogue (so none can be missed), gets
-- row-level security enabled and forced, so that it binds the schema owner as well as allot_app,
-- and the tenant policy if it has no policy yet. councils is keyed by id and forced too. This
-- comes last, so that everything above ran as the owner before it was bound. Data migrations from
-- now on run bound by it too: as a superuser, or per council with app.council_id set.
DO $$
DECLARE t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = 'council_id' AND NOT a.attisdropped)
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t) THEN
            EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (council_id = app_council_id())
                            WITH CHECK (council_id = app_council_id())', t);
        END IF;
    END LOOP;
END
$$;
ALTER TABLE councils FORCE ROW LEVEL SECURITY;
