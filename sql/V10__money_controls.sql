-- Controls on money coming in and going out:
--
-- * Contributions recorded by a provider for more than the person owes wait for a finance
--   officer: they are stored as `pending_approval` with no ledger entry until approved (posted)
--   or rejected.
-- * Bank details (a budget's direct-payment account, a payee's, an organisation's) are logged
--   whenever they are set or changed, and are not paid until a finance officer other than the
--   person who changed them has verified them (RULES.md `bank_details_unverified`).

-- Contributions ---------------------------------------------------------------------------------

ALTER TABLE contributions
    ADD COLUMN status text NOT NULL DEFAULT 'posted'
        CHECK (status IN ('posted', 'pending_approval', 'rejected')),
    -- Why it waits for a finance officer (shown to them), when it did.
    ADD COLUMN hold_reason text CHECK (length(hold_reason) BETWEEN 1 AND 500),
    ADD COLUMN resolved_by uuid,
    ADD COLUMN resolved_at timestamptz,
    ALTER COLUMN entry_id DROP NOT NULL,
    ADD FOREIGN KEY (council_id, resolved_by) REFERENCES users (council_id, id),
    ADD CONSTRAINT contributions_posted_has_entry CHECK ((status = 'posted') = (entry_id IS NOT NULL)),
    ADD CONSTRAINT contributions_resolved_together CHECK ((resolved_by IS NULL) = (resolved_at IS NULL)),
    ADD CONSTRAINT contributions_pending_unresolved CHECK (status <> 'pending_approval' OR resolved_by IS NULL),
    -- Whoever recorded a held contribution never decides it.
    ADD CONSTRAINT contributions_resolver_not_recorder CHECK (resolved_by <> recorded_by);
-- Every writer says which status it means.
ALTER TABLE contributions ALTER COLUMN status DROP DEFAULT;
CREATE INDEX contributions_pending_idx ON contributions (council_id, recorded_at)
    WHERE status = 'pending_approval';
GRANT UPDATE (status, entry_id, resolved_by, resolved_at) ON contributions TO allot_app;

-- Bank details: verified or not ------------------------------------------------------------------

-- Details recorded before this migration were paid under the old rules: they stay verified. New
-- rows are unverified unless the service says otherwise.
ALTER TABLE budgets ADD COLUMN bank_verified boolean NOT NULL DEFAULT true;
ALTER TABLE budgets ALTER COLUMN bank_verified SET DEFAULT false;
ALTER TABLE organisations ADD COLUMN bank_verified boolean NOT NULL DEFAULT true;
ALTER TABLE organisations ALTER COLUMN bank_verified SET DEFAULT false;

-- Whatever path changes bank details, the new details are unverified: no UPDATE can change them
-- and keep (or set) the verified flag in the same statement.
CREATE FUNCTION bank_change_unverifies() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF (NEW.bank_sort_code, NEW.bank_account_number, NEW.bank_account_name)
       IS DISTINCT FROM (OLD.bank_sort_code, OLD.bank_account_number, OLD.bank_account_name) THEN
        NEW.bank_verified := false;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER bank_change_unverifies BEFORE UPDATE ON budgets
    FOR EACH ROW EXECUTE FUNCTION bank_change_unverifies();
CREATE TRIGGER bank_change_unverifies BEFORE UPDATE ON organisations
    FOR EACH ROW EXECUTE FUNCTION bank_change_unverifies();
CREATE TRIGGER bank_change_unverifies BEFORE UPDATE ON payees
    FOR EACH ROW EXECUTE FUNCTION bank_change_unverifies();

-- The log of bank details set and changed. Full details are personal data: kept here for the
-- record, shown masked. Exactly one subject per row.
CREATE TABLE bank_detail_changes (
    council_id          uuid NOT NULL REFERENCES councils (id),
    id                  uuid NOT NULL,
    budget_id           uuid,
    payee_id            uuid,
    organisation_id     uuid,
    -- `created`: details given when the subject was recorded; `changed`: set or changed later.
    event               text NOT NULL CHECK (event IN ('created', 'changed')),
    old_sort_code       text CHECK (old_sort_code ~ '^[0-9]{6}$'),
    old_account_number  text CHECK (old_account_number ~ '^[0-9]{8}$'),
    old_account_name    text CHECK (length(old_account_name) BETWEEN 1 AND 70),
    new_sort_code       text NOT NULL CHECK (new_sort_code ~ '^[0-9]{6}$'),
    new_account_number  text NOT NULL CHECK (new_account_number ~ '^[0-9]{8}$'),
    new_account_name    text NOT NULL CHECK (length(new_account_name) BETWEEN 1 AND 70),
    changed_by          uuid NOT NULL,
    changed_at          timestamptz NOT NULL DEFAULT now(),
    -- `superseded`: changed again before anyone verified it; only the newest change counts.
    status              text NOT NULL CHECK (status IN ('unverified', 'verified', 'superseded')),
    verified_by         uuid,
    verified_at         timestamptz,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, changed_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, verified_by) REFERENCES users (council_id, id),
    CHECK (num_nonnulls(budget_id, payee_id, organisation_id) = 1),
    CHECK ((old_sort_code IS NULL) = (old_account_number IS NULL)
           AND (old_sort_code IS NULL) = (old_account_name IS NULL)),
    CHECK ((status = 'verified') = (verified_by IS NOT NULL)),
    CHECK ((verified_by IS NULL) = (verified_at IS NULL)),
    -- Maker-checker: only details a finance officer gave when recording the subject count as
    -- verified by the one who gave them.
    CHECK (verified_by <> changed_by OR event = 'created')
);
CREATE INDEX bank_detail_changes_unverified_idx ON bank_detail_changes (council_id, changed_at)
    WHERE status = 'unverified';
CREATE INDEX bank_detail_changes_budget_idx ON bank_detail_changes (council_id, budget_id)
    WHERE budget_id IS NOT NULL;
CREATE INDEX bank_detail_changes_payee_idx ON bank_detail_changes (council_id, payee_id)
    WHERE payee_id IS NOT NULL;
CREATE INDEX bank_detail_changes_organisation_idx ON bank_detail_changes (council_id, organisation_id)
    WHERE organisation_id IS NOT NULL;
-- At most one change of a subject waits for verification.
CREATE UNIQUE INDEX bank_detail_changes_one_waiting ON bank_detail_changes
    (council_id, coalesce(budget_id, payee_id, organisation_id)) WHERE status = 'unverified';

ALTER TABLE bank_detail_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bank_detail_changes USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON bank_detail_changes TO allot_app;
GRANT UPDATE (status, verified_by, verified_at) ON bank_detail_changes TO allot_app;
