-- Assessment to indicative budget, and carers.
--
-- The Resource Allocation System (RAS) a council configures is versioned like its policy: a change
-- stores a new version and never alters an assessment made under an earlier one. A council that
-- never changed it uses the defaults (version 1, not stored). `settings` holds the need domains
-- with their point scales and prices.
CREATE TABLE ras_versions (
    council_id  uuid NOT NULL REFERENCES councils (id),
    version     integer NOT NULL CHECK (version >= 2),
    settings    jsonb NOT NULL,
    reason      text CHECK (length(reason) BETWEEN 1 AND 2000),
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, version),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);

-- An assessment of a person's needs (or of a carer's): the points given per domain, the RAS
-- version they were priced under, and the indicative weekly amount with how it was worked out.
CREATE TABLE assessments (
    council_id         uuid NOT NULL REFERENCES councils (id),
    id                 uuid NOT NULL,
    person_id          uuid NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('needs', 'carer')),
    ras_version        integer NOT NULL CHECK (ras_version >= 1),
    points             jsonb NOT NULL,
    workings           jsonb NOT NULL,
    indicative_weekly  numeric(14, 2) NOT NULL CHECK (indicative_weekly >= 0),
    notes              text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    created_by         uuid NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);
CREATE INDEX assessments_person_idx ON assessments (council_id, person_id, created_at);

-- A person who cares for another person (a link both ways: read from either end).
CREATE TABLE carer_links (
    council_id           uuid NOT NULL REFERENCES councils (id),
    carer_person_id      uuid NOT NULL,
    cared_for_person_id  uuid NOT NULL,
    created_by           uuid NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, carer_person_id, cared_for_person_id),
    CHECK (carer_person_id <> cared_for_person_id),
    FOREIGN KEY (council_id, carer_person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, cared_for_person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);
CREATE INDEX carer_links_cared_for_idx ON carer_links (council_id, cared_for_person_id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ras_versions', 'assessments', 'carer_links'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END $$;
GRANT SELECT, INSERT ON ras_versions, assessments, carer_links TO allot_app;

-- A budget may cite the assessment it came from; when its weekly cost differs from the
-- assessment's indicative amount, `cost_reason` says why. A carer's budget (from a carer's
-- assessment) is marked so: no contribution by default, and the carer service type in returns.
ALTER TABLE budgets
    ADD COLUMN assessment_id    uuid,
    ADD COLUMN cost_reason      text CHECK (length(cost_reason) BETWEEN 1 AND 2000),
    ADD COLUMN is_carer_budget  boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT budgets_assessment_fk FOREIGN KEY (council_id, assessment_id)
        REFERENCES assessments (council_id, id);
