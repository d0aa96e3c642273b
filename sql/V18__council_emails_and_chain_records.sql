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
