-- Emails unique per council -----------------------------------------------------------------------

-- An email address was unique across all councils, so a council administrator adding a user whose
-- address another council already had got a conflict: a leak of the other council's staff. Each
-- council now has its own addresses. Sign-in, which happens before the council is known, finds
-- every user with the address (a few at most) and either is told the council or checks the
-- password against each (see src/auth/sessions.rs).
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_council_email_key ON users (council_id, email);
CREATE INDEX users_email_idx ON users (email);

-- auth_find_user now takes the council (NULL: any) and a bound on how many users it returns, and
-- returns the council's name as well (what a person signing in chooses among). The function
-- belongs to allot_directory (V8): replacing it needs the membership and the schema's CREATE for
-- allot_directory for the length of the replacement only.
GRANT SELECT (name) ON councils TO allot_directory;
GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
DROP FUNCTION auth_find_user(text);
CREATE FUNCTION auth_find_user(p_email text, p_council uuid, p_limit integer)
    RETURNS TABLE (council_id uuid, council_name text, user_id uuid, password_iterations integer,
                   password_salt bytea, password_hash bytea, active boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT u.council_id, c.name, u.id, u.password_iterations, u.password_salt,
                 u.password_hash, u.active
          FROM users u JOIN councils c ON c.id = u.council_id
          WHERE u.email = lower(p_email) AND (p_council IS NULL OR u.council_id = p_council)
          ORDER BY u.council_id
          LIMIT greatest(p_limit, 0) $$;
ALTER FUNCTION auth_find_user(text, uuid, integer) OWNER TO allot_directory;
REVOKE ALL ON FUNCTION auth_find_user(text, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_find_user(text, uuid, integer) TO allot_app;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;

-- Grants, policy versions and bank-detail changes join the keyed hash chain -----------------------

-- What decisions rest on is sealed like the entries: a grant as recorded and its ending, each
-- version of a council's policy, each bank-detail change as logged and its verification. A link
-- of such a record seals its content as allot reads it (src/ledger/chain/records.rs), so editing
-- the row afterwards no longer recomputes. The record is queued in the transaction that writes
-- it, by the triggers below, whatever path writes it; the sealer links it like an entry.
ALTER TABLE ledger_chain DROP CONSTRAINT ledger_chain_kind_check;
ALTER TABLE ledger_chain ADD CONSTRAINT ledger_chain_kind_check CHECK (
    kind IN ('entry', 'resolution', 'grant', 'grant_end', 'policy', 'bank_change', 'bank_verification'));
ALTER TABLE ledger_seal_queue DROP CONSTRAINT ledger_seal_queue_kind_check;
ALTER TABLE ledger_seal_queue ADD CONSTRAINT ledger_seal_queue_kind_check CHECK (
    kind IN ('entry', 'resolution', 'grant', 'grant_end', 'policy', 'bank_change', 'bank_verification'));

-- A link names what it seals by a uuid: a policy version gets one of its own.
ALTER TABLE council_policies ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE council_policies ADD CONSTRAINT council_policies_id_key UNIQUE (council_id, id);

CREATE FUNCTION chain_queue_record() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'agreement_grants' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
            VALUES (NEW.council_id, 'grant', NEW.id) ON CONFLICT DO NOTHING;
        END IF;
        IF NEW.ended_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.ended_at IS NULL) THEN
            INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
            VALUES (NEW.council_id, 'grant_end', NEW.id) ON CONFLICT DO NOTHING;
        END IF;
    ELSIF TG_TABLE_NAME = 'council_policies' THEN
        INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
        VALUES (NEW.council_id, 'policy', NEW.id) ON CONFLICT DO NOTHING;
    ELSIF TG_TABLE_NAME = 'bank_detail_changes' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
            VALUES (NEW.council_id, 'bank_change', NEW.id) ON CONFLICT DO NOTHING;
        END IF;
        IF NEW.verified_by IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.verified_by IS NULL) THEN
            INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
            VALUES (NEW.council_id, 'bank_verification', NEW.id) ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER chain_queue_record AFTER INSERT OR UPDATE ON agreement_grants
    FOR EACH ROW EXECUTE FUNCTION chain_queue_record();
CREATE TRIGGER chain_queue_record AFTER INSERT ON council_policies
    FOR EACH ROW EXECUTE FUNCTION chain_queue_record();
CREATE TRIGGER chain_queue_record AFTER INSERT OR UPDATE ON bank_detail_changes
    FOR EACH ROW EXECUTE FUNCTION chain_queue_record();

-- The records already there are queued, council by council with the council set (row-level
-- security is forced), in the order the sealer links them.
DO $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT ledger_council_ids() LOOP
        PERFORM set_config('app.council_id', c::text, true);
        INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
        SELECT council_id, 'grant', id FROM agreement_grants WHERE council_id = c
        UNION ALL
        SELECT council_id, 'grant_end', id FROM agreement_grants
        WHERE council_id = c AND ended_at IS NOT NULL
        UNION ALL
        SELECT council_id, 'policy', id FROM council_policies WHERE council_id = c
        UNION ALL
        SELECT council_id, 'bank_change', id FROM bank_detail_changes WHERE council_id = c
        UNION ALL
        SELECT council_id, 'bank_verification', id FROM bank_detail_changes
        WHERE council_id = c AND verified_by IS NOT NULL
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.council_id', '', true);
END
$$;
