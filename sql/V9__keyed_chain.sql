-- The hash chain becomes keyed, and seals the resolutions of holds as well as entries.
--
-- Links are now HMAC-SHA256 under a key kept outside the database (see src/ledger/chain). Links
-- sealed before had no key, so anyone able to write the tables could have recomputed them after
-- editing history: they prove nothing. They are removed and everything goes back to the sealer,
-- which seals the whole history again, in recording order, under the key on its first round.
-- (`allot audit verify` with the previous version checks the old chain one last time before
-- upgrading.)
--
-- A hold's resolution (posted, voided or expired, with who decided and why) is what a payment's
-- outcome rests on, so it is sealed too: a link is of an entry or of a resolution (`kind`), and
-- `entry_id` names the entry, or for a resolution the hold it resolved.

ALTER TABLE ledger_chain ADD COLUMN kind text NOT NULL DEFAULT 'entry'
    CHECK (kind IN ('entry', 'resolution'));
ALTER TABLE ledger_chain DROP CONSTRAINT ledger_chain_council_id_entry_id_key;
ALTER TABLE ledger_chain ADD CONSTRAINT ledger_chain_sealed_once UNIQUE (council_id, kind, entry_id);

ALTER TABLE ledger_seal_queue ADD COLUMN kind text NOT NULL DEFAULT 'entry'
    CHECK (kind IN ('entry', 'resolution'));
ALTER TABLE ledger_seal_queue DROP CONSTRAINT ledger_seal_queue_pkey;
ALTER TABLE ledger_seal_queue ADD PRIMARY KEY (council_id, kind, entry_id);

-- Row-level security is forced since V8, so the history is queued again council by council with
-- the council set, as any data migration must when the schema owner is not a superuser.
DO $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT ledger_council_ids() LOOP
        PERFORM set_config('app.council_id', c::text, true);
        DELETE FROM ledger_chain WHERE council_id = c;
        INSERT INTO ledger_seal_queue (council_id, kind, entry_id)
        SELECT council_id, 'entry', id FROM ledger_entries WHERE council_id = c
        UNION ALL
        SELECT council_id, 'resolution', hold_id FROM ledger_hold_resolutions WHERE council_id = c
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.council_id', '', true);
END
$$;
