-- The service directory brokers choose from (Open Referral UK), imported per council from a feed
-- (`allot directory import`) and published again as Open Referral UK 3.0 (`/openreferral/...`).
-- Services keep the feed's identifiers (text: 1.0 feeds do not always use UUIDs). A service's
-- `content_sha256` is the hash of what was imported for it, so a re-import of an unchanged
-- service writes nothing; `version` and `updated_at` move only when something changed.
CREATE TABLE directory_services (
    council_id             uuid NOT NULL REFERENCES councils (id),
    id                     text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    description            text NOT NULL DEFAULT '',
    url                    text,
    email                  text,
    -- The status in the feed; a service gone from the feed is `inactive` with `withdrawn` true.
    status                 text NOT NULL CHECK (status IN ('active', 'inactive', 'defunct', 'temporarily closed')),
    withdrawn              boolean NOT NULL DEFAULT false,
    fees                   text,
    organisation_id        text,
    organisation_name      text,
    organisation_description text,
    last_modified          timestamptz,
    content_sha256         text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    version                integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    imported_at            timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    PRIMARY KEY (council_id, id)
);
CREATE INDEX directory_services_name_idx ON directory_services (council_id, lower(name));

-- Cost options: `amount` is indicative (what the feed says), `unit` read from its description
-- (`per hour` → hour) and used to work out a plan line's weekly amount.
CREATE TABLE directory_cost_options (
    council_id          uuid NOT NULL REFERENCES councils (id),
    service_id          text NOT NULL,
    id                  text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    position            integer NOT NULL,
    option              text,
    amount              numeric(14, 2) CHECK (amount >= 0),
    amount_description  text,
    unit                text NOT NULL,
    valid_from          date,
    valid_to            date,
    PRIMARY KEY (council_id, service_id, id),
    FOREIGN KEY (council_id, service_id) REFERENCES directory_services (council_id, id) ON DELETE CASCADE
);

CREATE TABLE directory_locations (
    council_id   uuid NOT NULL REFERENCES councils (id),
    service_id   text NOT NULL,
    id           text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    position     integer NOT NULL,
    name         text,
    location_type text NOT NULL DEFAULT 'physical',
    address_1    text,
    city         text,
    -- As in the feed; `postcode_key` is it upper-cased without spaces, for lookups.
    postcode     text,
    postcode_key text,
    latitude     double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude    double precision CHECK (longitude BETWEEN -180 AND 180),
    PRIMARY KEY (council_id, service_id, id),
    FOREIGN KEY (council_id, service_id) REFERENCES directory_services (council_id, id) ON DELETE CASCADE
);
CREATE INDEX directory_locations_postcode_idx ON directory_locations (council_id, postcode_key);

CREATE TABLE directory_contacts (
    council_id   uuid NOT NULL REFERENCES councils (id),
    service_id   text NOT NULL,
    id           text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    position     integer NOT NULL,
    name         text,
    title        text,
    phone        text,
    email        text,
    PRIMARY KEY (council_id, service_id, id),
    FOREIGN KEY (council_id, service_id) REFERENCES directory_services (council_id, id) ON DELETE CASCADE
);

CREATE TABLE directory_service_terms (
    council_id   uuid NOT NULL REFERENCES councils (id),
    service_id   text NOT NULL,
    id           text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    position     integer NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    taxonomy     text,
    PRIMARY KEY (council_id, service_id, id),
    FOREIGN KEY (council_id, service_id) REFERENCES directory_services (council_id, id) ON DELETE CASCADE
);
CREATE INDEX directory_service_terms_name_idx ON directory_service_terms (council_id, lower(name));

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['directory_services', 'directory_cost_options', 'directory_locations',
                             'directory_contacts', 'directory_service_terms'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE ON directory_services TO allot_app;
GRANT SELECT, INSERT, DELETE ON directory_cost_options, directory_locations, directory_contacts,
    directory_service_terms TO allot_app;

-- A plan line may name a directory service and one of its cost options: the price and unit are
-- copied as they were when the line was drafted, with the units a week it was worked out from.
ALTER TABLE support_plan_lines
    ADD COLUMN directory_service_id text,
    ADD COLUMN cost_option_id       text,
    ADD COLUMN unit_amount          numeric(14, 2),
    ADD COLUMN unit                 text,
    ADD COLUMN units_per_week       numeric(8, 2),
    ADD CONSTRAINT support_plan_lines_directory_whole CHECK (
        (directory_service_id IS NULL AND cost_option_id IS NULL AND unit_amount IS NULL
            AND unit IS NULL AND units_per_week IS NULL)
        OR (directory_service_id IS NOT NULL AND cost_option_id IS NOT NULL AND unit_amount IS NOT NULL
            AND unit IS NOT NULL AND units_per_week > 0));

-- The broker submits the draft to the care manager, who approves it or returns it with reasons.
ALTER TABLE support_plans
    ADD COLUMN submitted_by   uuid,
    ADD COLUMN submitted_at   timestamptz,
    ADD COLUMN returned_by    uuid,
    ADD COLUMN returned_at    timestamptz,
    ADD COLUMN return_reason  text CHECK (length(return_reason) BETWEEN 1 AND 2000);
GRANT UPDATE (submitted_by, submitted_at, returned_by, returned_at, return_reason) ON support_plans TO allot_app;
