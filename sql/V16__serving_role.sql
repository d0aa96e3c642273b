-- allot serves as a login role that owns nothing and can do nothing of its own: `allot_server`
-- (NOINHERIT, so its only way to a table is `SET LOCAL ROLE allot_app` per transaction, where
-- row-level security applies). The schema owner runs migrations and nothing else; a served
-- request can therefore not `RESET ROLE` its way back to the owner. The embedded server lets the
-- system user allot runs as connect as it (peer authentication); with `DATABASE_URL`, give the
-- role a password and allot its own `ALLOT_APP_DATABASE_URL`.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'allot_server') THEN
        CREATE ROLE allot_server LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
GRANT allot_app TO allot_server;
