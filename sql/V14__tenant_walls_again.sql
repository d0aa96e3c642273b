-- Row-level security enabled and forced, with the tenant policy, on every table that carries
-- `council_id` — again, for the tables added since V8 (the same catalogue walk, so a table added
-- by a later migration is caught by the test that checks the catalogue, and by running this).
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
