-- Budget references count per council: a council's references say nothing of how many budgets
-- other councils have (PB000001 is each council's first).
CREATE TABLE council_counters (
    council_id  uuid NOT NULL REFERENCES councils (id),
    name        text NOT NULL CHECK (name IN ('budget_reference')),
    value       bigint NOT NULL CHECK (value >= 0),
    PRIMARY KEY (council_id, name)
);
ALTER TABLE council_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE council_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON council_counters USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT, UPDATE ON council_counters TO allot_app;

-- The next value of a council's counter (the row lock orders concurrent callers). A council's
-- first use starts after its highest existing reference: it runs as the caller, acting for that
-- council, so it sees that council's budgets (a migration, bound by row-level security, would not).
CREATE FUNCTION next_council_counter(p_council uuid, p_name text) RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$ INSERT INTO council_counters AS c (council_id, name, value)
          VALUES (p_council, p_name,
                  coalesce((SELECT max(substr(b.reference, 3)::bigint) FROM budgets b
                            WHERE b.council_id = p_council), 0) + 1)
          ON CONFLICT (council_id, name) DO UPDATE SET value = c.value + 1
          RETURNING value $$;
GRANT EXECUTE ON FUNCTION next_council_counter(uuid, text) TO allot_app;
