-- Evidence retention (issue 11 §1): files past the council's `evidence_retention_years` whose
-- payments are all older than that lose their bytes. The links (`payment_evidence`: payment,
-- SHA-256, kind, size, type, who attached it and when) stay, so the hash chain, which never held
-- the bytes, is untouched and evidence packs still say what was there; each purge is recorded
-- here with the policy version that allowed it.
--
-- The statutory returns (SALT LTS001b, Client Level Data) are read from budgets, plans and
-- people as they are: they need no table of their own.

CREATE TABLE evidence_purges (
    council_id       uuid NOT NULL REFERENCES councils (id),
    sha256           text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size             integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
    purged_at        timestamptz NOT NULL,
    policy_version   integer NOT NULL CHECK (policy_version >= 1),
    retention_years  integer NOT NULL CHECK (retention_years >= 1),
    -- The same file attached again after a purge is stored again, and may be purged again.
    PRIMARY KEY (council_id, sha256, purged_at)
);

ALTER TABLE evidence_purges ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_purges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_purges USING (council_id = app_council_id())
    WITH CHECK (council_id = app_council_id());
GRANT SELECT, INSERT ON evidence_purges TO allot_app;

-- The last day a payment's evidence must be kept from: the later of its posting date (its service
-- date when it never posted) and the day it was asked for.
CREATE FUNCTION evidence_payment_date(p payments) RETURNS date
    LANGUAGE sql STABLE SET search_path = public
    AS $$ SELECT greatest(
              coalesce((SELECT e.effective_date FROM ledger_entries e
                        WHERE e.council_id = p.council_id AND e.id = p.posted_entry_id),
                       p.service_date),
              (p.requested_at AT TIME ZONE 'Europe/London')::date) $$;

-- Purges, for the council the transaction acts for (and only that one), every stored file that is past retention:
-- stored before the cutoff (the business date of `p_now` less the policy's retention years) and
-- attached only to payments dated before it, none of them still waiting for approval. Runs as the
-- owner because allot_app may not delete evidence; it deletes nothing else, and records each
-- purge. Attaching a file takes the shared side of the same per-council lock, so a file linked
-- to a new payment while this runs is either kept or stored again.
CREATE FUNCTION evidence_purge_due(p_council uuid, p_now timestamptz)
    RETURNS TABLE (purged_sha256 text, purged_size integer, purged_policy_version integer,
                   purged_retention_years integer)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_council uuid := app_council_id();
    v_version integer;
    v_years integer;
    v_cutoff date;
BEGIN
    IF v_council IS NULL OR v_council IS DISTINCT FROM p_council THEN
        RAISE EXCEPTION 'evidence_purge_due: not the council of this transaction';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('allot.evidence:' || v_council::text, 0));
    SELECT cp.version, coalesce((cp.settings->>'evidence_retention_years')::integer, 6)
      INTO v_version, v_years
      FROM council_policies cp WHERE cp.council_id = v_council
      ORDER BY cp.version DESC LIMIT 1;
    IF NOT FOUND THEN
        v_version := 1;
        v_years := 6;
    END IF;
    v_cutoff := ((p_now AT TIME ZONE 'Europe/London')::date - make_interval(years => v_years))::date;
    RETURN QUERY
    WITH due AS (
        SELECT b.sha256, octet_length(b.bytes) AS size
        FROM evidence_blobs b
        WHERE b.council_id = v_council
          AND (b.stored_at AT TIME ZONE 'Europe/London')::date < v_cutoff
          AND NOT EXISTS (
              SELECT 1 FROM payment_evidence v
              JOIN payments p ON p.council_id = v.council_id AND p.id = v.payment_id
              WHERE v.council_id = v_council AND v.sha256 = b.sha256
                AND (p.status = 'pending_approval' OR evidence_payment_date(p) >= v_cutoff))
    ), gone AS (
        DELETE FROM evidence_blobs b USING due
        WHERE b.council_id = v_council AND b.sha256 = due.sha256
        RETURNING b.sha256, due.size
    ), recorded AS (
        INSERT INTO evidence_purges (council_id, sha256, size, purged_at, policy_version,
                                     retention_years)
        SELECT v_council, g.sha256, g.size, p_now, v_version, v_years FROM gone g
        RETURNING evidence_purges.sha256, evidence_purges.size
    )
    SELECT r.sha256, r.size, v_version, v_years FROM recorded r ORDER BY r.sha256;
END
$$;
REVOKE ALL ON FUNCTION evidence_purge_due(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION evidence_purge_due(uuid, timestamptz) TO allot_app;

-- The shared side of the lock above, taken by the store before it stores a file.
CREATE FUNCTION evidence_store_lock() RETURNS void
    LANGUAGE sql SET search_path = public
    AS $$ SELECT pg_advisory_xact_lock_shared(
              hashtextextended('allot.evidence:' || app_council_id()::text, 0)) $$;
GRANT EXECUTE ON FUNCTION evidence_store_lock() TO allot_app;

-- Which councils have evidence old enough to look at (the upkeep's one look across councils,
-- allot_directory's as for the ledger's and the webhooks' upkeep): a file stored more than the
-- shortest retention allowed (6 years) ago. Council ids only.
CREATE POLICY directory_lookup ON evidence_blobs FOR SELECT TO allot_directory USING (true);
GRANT SELECT (council_id, stored_at) ON evidence_blobs TO allot_directory;

CREATE FUNCTION evidence_councils_with_old_files(p_now timestamptz)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT DISTINCT b.council_id FROM evidence_blobs b
          WHERE b.stored_at < p_now - interval '6 years' ORDER BY 1 $$;
REVOKE ALL ON FUNCTION evidence_councils_with_old_files(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION evidence_councils_with_old_files(timestamptz) TO allot_app;

GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION evidence_councils_with_old_files(timestamptz) OWNER TO allot_directory;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;
