-- The hash chain becomes keyed: links are HMAC-SHA256 under a key kept outside the database (see
-- src/ledger/chain). Links sealed before had no key, so anyone able to write the tables could have
-- recomputed them after editing history: they prove nothing. They are removed and every entry goes
-- back to the sealer, which seals the whole history again, in recording order, under the key on
-- its first round. (`allot audit verify` with the previous version checks the old chain one last
-- time before upgrading.)
--
-- Row-level security is forced since V8, so this runs council by council with the council set, as
-- any data migration must when the schema owner is not a superuser.
DO $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT ledger_council_ids() LOOP
        PERFORM set_config('app.council_id', c::text, true);
        DELETE FROM ledger_chain WHERE council_id = c;
        INSERT INTO ledger_seal_queue (council_id, entry_id)
        SELECT council_id, id FROM ledger_entries WHERE council_id = c
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.council_id', '', true);
END
$$;
