-- The ledger: accounts, entries with N legs, holds (two-phase entries), closed periods,
-- idempotency keys and the per-council hash chain. See src/ledger/mod.rs for the design.
--
-- Append-only by grant: allot_app may INSERT and SELECT entries, legs, hold resolutions, period
-- closes and chain links, never UPDATE or DELETE them. The only mutable rows are the balance
-- columns of accounts (maintained by the ledger in the same transaction as the legs), the two
-- work queues (open holds, entries waiting to be sealed) and the response of an idempotency key.
--
-- High-volume tables carry council_id without a foreign key to councils: every posting would
-- otherwise take a KEY SHARE lock on its council's row and serialise on it. Their council is
-- still pinned: legs reference accounts (which reference councils), entries must have legs,
-- and row-level security checks council_id on every insert.

CREATE TABLE ledger_accounts (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    holder          text CHECK (length(holder) BETWEEN 1 AND 200),
    -- Debits (posted and pending) may not exceed posted credits: a holder's money cannot go below zero.
    no_overdraft    boolean NOT NULL,
    posted_debits   numeric(14,2) NOT NULL DEFAULT 0 CHECK (posted_debits >= 0),
    posted_credits  numeric(14,2) NOT NULL DEFAULT 0 CHECK (posted_credits >= 0),
    pending_debits  numeric(14,2) NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
    pending_credits numeric(14,2) NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    CONSTRAINT ledger_accounts_no_overdraft
        CHECK (NOT no_overdraft OR posted_debits + pending_debits <= posted_credits)
);

CREATE TABLE ledger_entries (
    council_id      uuid NOT NULL,
    id              uuid NOT NULL,
    -- Order of recording, across councils; gaps are normal.
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    -- A hold (pending entry): its legs count as pending until it is posted, voided or expired.
    pending         boolean NOT NULL,
    effective_date  date NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    description     text NOT NULL CHECK (length(description) <= 500),
    -- Who asked, who approved, the rule-set version and the decision, as given by the caller.
    metadata        jsonb NOT NULL DEFAULT '{}',
    reverses        uuid,
    -- For the entry that posts a hold: the hold.
    hold_id         uuid,
    expires_at      timestamptz,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, reverses) REFERENCES ledger_entries (council_id, id),
    FOREIGN KEY (council_id, hold_id) REFERENCES ledger_entries (council_id, id),
    CHECK (pending = (expires_at IS NOT NULL)),
    CHECK (NOT pending OR (reverses IS NULL AND hold_id IS NULL)),
    CHECK (reverses IS NULL OR hold_id IS NULL)
);
-- An entry is reversed at most once; a hold is posted at most once.
CREATE UNIQUE INDEX ledger_entries_reverses_key ON ledger_entries (council_id, reverses)
    WHERE reverses IS NOT NULL;
CREATE UNIQUE INDEX ledger_entries_hold_key ON ledger_entries (council_id, hold_id)
    WHERE hold_id IS NOT NULL;

CREATE TABLE ledger_legs (
    council_id      uuid NOT NULL,
    entry_id        uuid NOT NULL,
    leg_no          smallint NOT NULL CHECK (leg_no >= 1),
    account_id      uuid NOT NULL,
    side            text NOT NULL CHECK (side IN ('D', 'C')),
    amount          numeric(14,2) NOT NULL CHECK (amount > 0),
    -- Copies of the entry's, so that a statement or a point-in-time balance is one index range.
    effective_date  date NOT NULL,
    entry_seq       bigint NOT NULL,
    pending         boolean NOT NULL,
    PRIMARY KEY (council_id, entry_id, leg_no),
    FOREIGN KEY (council_id, entry_id) REFERENCES ledger_entries (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES ledger_accounts (council_id, id)
);
CREATE INDEX ledger_legs_statement ON ledger_legs
    (council_id, account_id, effective_date, entry_seq, leg_no) INCLUDE (side, amount)
    WHERE NOT pending;

-- Holds not yet resolved. Resolving one deletes its row here (exactly one transaction can) and
-- records the outcome in ledger_hold_resolutions (whose key also allows only one).
CREATE TABLE ledger_open_holds (
    council_id      uuid NOT NULL,
    hold_id         uuid NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, hold_id),
    FOREIGN KEY (council_id, hold_id) REFERENCES ledger_entries (council_id, id)
);
CREATE INDEX ledger_open_holds_due ON ledger_open_holds (council_id, expires_at);

CREATE TABLE ledger_hold_resolutions (
    council_id      uuid NOT NULL,
    hold_id         uuid NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('posted', 'voided', 'expired')),
    -- Who resolved it and why (a void records who rejected the payment, for example).
    metadata        jsonb NOT NULL DEFAULT '{}',
    resolved_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, hold_id),
    FOREIGN KEY (council_id, hold_id) REFERENCES ledger_entries (council_id, id)
);

-- Closing a period inserts a row; the closed period is everything up to the latest through_date.
CREATE TABLE ledger_period_closes (
    council_id      uuid NOT NULL REFERENCES councils (id),
    closed_through  date NOT NULL,
    closed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, closed_through)
);

-- The hash chain: link `position` of a council's chain seals one entry with SHA-256 over the
-- entry, its legs and the previous link's hash. No foreign key to the entry: if an entry is
-- deleted behind the ledger's back, its link must stay to show that it is missing.
CREATE TABLE ledger_chain (
    council_id      uuid NOT NULL,
    position        bigint NOT NULL CHECK (position >= 1),
    entry_id        uuid NOT NULL,
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    sealed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, position),
    UNIQUE (council_id, entry_id)
);

-- Entries waiting for the sealer, written in the posting's transaction so none is missed.
CREATE TABLE ledger_seal_queue (
    council_id      uuid NOT NULL,
    entry_id        uuid NOT NULL,
    PRIMARY KEY (council_id, entry_id)
);

CREATE TABLE idempotency_keys (
    council_id      uuid NOT NULL,
    scope           text NOT NULL CHECK (length(scope) BETWEEN 1 AND 200),
    key             text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
    -- SHA-256 of the request, so the same key with a different request is refused.
    fingerprint     bytea NOT NULL CHECK (length(fingerprint) = 32),
    response_status smallint CHECK (response_status BETWEEN 100 AND 599),
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    PRIMARY KEY (council_id, scope, key),
    CHECK ((response_status IS NULL) = (finished_at IS NULL))
);

-- The database's own check that entries balance, one query per statement (not per row): every
-- entry inserted has at least two legs and its debits equal its credits, and is not dated in a
-- closed period; every leg inserted agrees with its entry's copies and leaves that entry balanced
-- (a leg added to an old entry later must not unbalance it). Entries and their legs are therefore
-- written by one statement (the ledger does so with data-modifying CTEs); after-statement
-- triggers fire once that whole statement has run. Custom SQLSTATEs: LD001 unbalanced,
-- LD002 period closed, LD003 a leg that disagrees with its entry.
CREATE FUNCTION ledger_check_new_entries() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT n.id INTO bad
    FROM new_entries n
    CROSS JOIN LATERAL (
        SELECT count(*) AS legs,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0) AS debits,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0) AS credits
        FROM ledger_legs l WHERE l.council_id = n.council_id AND l.entry_id = n.id) s
    WHERE s.legs < 2 OR s.debits <> s.credits
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not balance', bad USING ERRCODE = 'LD001';
    END IF;
    SELECT n.id INTO bad
    FROM new_entries n
    WHERE n.effective_date <= (SELECT max(c.closed_through) FROM ledger_period_closes c
                               WHERE c.council_id = n.council_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is dated in a closed period', bad USING ERRCODE = 'LD002';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ledger_check_new_legs() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT n.entry_id INTO bad
    FROM new_legs n
    LEFT JOIN ledger_entries e ON e.council_id = n.council_id AND e.id = n.entry_id
    WHERE e.id IS NULL OR e.effective_date <> n.effective_date OR e.seq <> n.entry_seq
       OR e.pending <> n.pending
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger leg of entry % disagrees with its entry', bad USING ERRCODE = 'LD003';
    END IF;
    SELECT t.entry_id INTO bad
    FROM (SELECT DISTINCT council_id, entry_id FROM new_legs) t
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0) AS debits,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0) AS credits
        FROM ledger_legs l WHERE l.council_id = t.council_id AND l.entry_id = t.entry_id) s
    WHERE s.debits <> s.credits
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not balance', bad USING ERRCODE = 'LD001';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ledger_entries_check AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_new_entries();
CREATE TRIGGER ledger_legs_check AFTER INSERT ON ledger_legs
    REFERENCING NEW TABLE AS new_legs
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_new_legs();

-- Row-level security on every ledger table, as in V1.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ledger_accounts', 'ledger_entries', 'ledger_legs', 'ledger_open_holds',
                             'ledger_hold_resolutions', 'ledger_period_closes', 'ledger_chain',
                             'ledger_seal_queue', 'idempotency_keys'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;

-- Minimal grants. Posted data: read and append only.
REVOKE ALL ON ledger_entries, ledger_legs, ledger_hold_resolutions, ledger_period_closes,
    ledger_chain FROM PUBLIC;
GRANT SELECT, INSERT ON ledger_entries, ledger_legs, ledger_hold_resolutions, ledger_period_closes,
    ledger_chain TO allot_app;
GRANT SELECT, INSERT ON ledger_accounts TO allot_app;
-- Balances change with every posting; nothing else about an account does. (FOR UPDATE needs an
-- UPDATE privilege too.)
GRANT UPDATE (posted_debits, posted_credits, pending_debits, pending_credits) ON ledger_accounts
    TO allot_app;
GRANT SELECT, INSERT, DELETE ON ledger_open_holds, ledger_seal_queue TO allot_app;
GRANT SELECT, INSERT ON idempotency_keys TO allot_app;
GRANT UPDATE (response_status, response_body, finished_at) ON idempotency_keys TO allot_app;

-- Whether a user may see a ledger account (statements). Council staff see every account; later
-- migrations widen it (CREATE OR REPLACE) as accounts are linked to budgets and holders.
CREATE FUNCTION can_see_account(p_council uuid, p_user uuid, p_account uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (
        SELECT 1 FROM users u
        WHERE u.council_id = p_council AND u.id = p_user
          AND u.role IN ('care_manager', 'finance_officer', 'auditor', 'council_admin')) $$;
GRANT EXECUTE ON FUNCTION can_see_account(uuid, uuid, uuid) TO allot_app;

-- Background work (sealing, expiring holds) and `allot audit verify` go council by council, but
-- allot_app sees no council until it acts for one. These return council ids and nothing else.
CREATE FUNCTION ledger_council_ids() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id FROM councils ORDER BY id $$;

CREATE FUNCTION ledger_councils_with_work(p_now timestamptz) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT c.id FROM councils c
          WHERE EXISTS (SELECT 1 FROM ledger_seal_queue q WHERE q.council_id = c.id)
             OR EXISTS (SELECT 1 FROM ledger_open_holds h
                        WHERE h.council_id = c.id AND h.expires_at <= p_now)
          ORDER BY c.id $$;

REVOKE ALL ON FUNCTION ledger_council_ids() FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger_councils_with_work(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger_council_ids() TO allot_app;
GRANT EXECUTE ON FUNCTION ledger_councils_with_work(timestamptz) TO allot_app;
