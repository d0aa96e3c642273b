-- Timesheets can be rejected with a reason and corrected. A correction replaces the entries of a
-- submitted or rejected timesheet and submits it again as its next version; every earlier
-- version (its entries, totals, state and who submitted or rejected it) is kept in
-- timesheet_versions, which the application may only add to.
ALTER TABLE timesheets DROP CONSTRAINT timesheets_status_check;
ALTER TABLE timesheets ADD CONSTRAINT timesheets_status_check
    CHECK (status IN ('submitted', 'approved', 'rejected'));
ALTER TABLE timesheets
    ADD COLUMN version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN rejected_by    uuid,
    ADD COLUMN rejected_at    timestamptz,
    ADD COLUMN reject_reason  text CHECK (reject_reason IS NULL OR length(reject_reason) BETWEEN 1 AND 500),
    ADD CONSTRAINT timesheets_rejected_by_fkey FOREIGN KEY (council_id, rejected_by)
        REFERENCES users (council_id, id),
    ADD CONSTRAINT timesheets_rejection_check CHECK ((status = 'rejected') =
        (rejected_by IS NOT NULL AND rejected_at IS NOT NULL AND reject_reason IS NOT NULL));
GRANT UPDATE (entries, total_hours, total, weekly_allowance, over_allowance, submitted_by,
    submitted_at, version, rejected_by, rejected_at, reject_reason) ON timesheets TO allot_app;

CREATE TABLE timesheet_versions (
    council_id        uuid NOT NULL REFERENCES councils (id),
    timesheet_id      uuid NOT NULL,
    version           integer NOT NULL CHECK (version >= 1),
    entries           jsonb NOT NULL,
    total_hours       numeric(6,2) NOT NULL,
    total             numeric(14,2) NOT NULL,
    weekly_allowance  numeric(14,2) NOT NULL,
    over_allowance    boolean NOT NULL,
    -- The state the version was in when it was replaced: submitted or rejected.
    status            text NOT NULL CHECK (status IN ('submitted', 'rejected')),
    submitted_by      uuid NOT NULL,
    submitted_at      timestamptz NOT NULL,
    rejected_by       uuid,
    rejected_at       timestamptz,
    reject_reason     text,
    replaced_by       uuid NOT NULL,
    replaced_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, timesheet_id, version),
    FOREIGN KEY (council_id, timesheet_id) REFERENCES timesheets (council_id, id),
    FOREIGN KEY (council_id, submitted_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, rejected_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, replaced_by) REFERENCES users (council_id, id)
);

ALTER TABLE timesheet_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE timesheet_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON timesheet_versions USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON timesheet_versions TO allot_app;
