-- Payment cards decided in real time (issue 14): card processors, cards, card authorisations
-- (each decided by the rules through the payment path and recorded as a payment), refunds, and
-- the receipts of the processors' signed events (a replayed webhook-id gets the first answer).

-- Processors ---------------------------------------------------------------------------------------

-- A processor serves many councils, so it has no council. Its Standard Webhooks secret is kept as
-- the key bytes themselves: checking an HMAC needs the key (a hash of it would not do), and an
-- encryption key kept by the same server would guard nothing the database's own walls do not. So
-- allot_app cannot read this table at all: the secrets are reached only through
-- card_processor_keys() (allot_directory's), never logged, and printed once when made.
CREATE TABLE card_processors (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    secret      bytea NOT NULL CHECK (length(secret) BETWEEN 24 AND 64),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Cards --------------------------------------------------------------------------------------------

-- A card spends from one deployment account (a direct payment or a managed account). Its
-- processor's reference is unique for that processor: the processor's events name the card by it
-- before allot knows the council (the one unique key here without council_id, as the processor's
-- own namespace is not a council's).
CREATE TABLE cards (
    council_id          uuid NOT NULL REFERENCES councils (id),
    id                  uuid NOT NULL,
    processor_id        uuid NOT NULL REFERENCES card_processors (id),
    processor_card_ref  text NOT NULL CHECK (length(processor_card_ref) BETWEEN 1 AND 100),
    account_id          uuid NOT NULL,
    budget_id           uuid NOT NULL,
    deployment          text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account')),
    cardholder_user_id  uuid NOT NULL,
    last4               text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    status              text NOT NULL DEFAULT 'active'
                            CHECK (status IN ('active', 'frozen', 'cancelled')),
    created_by          uuid NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    UNIQUE (processor_id, processor_card_ref),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, cardholder_user_id) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);

-- The payee card spending is recorded against (one per council: the merchant is named on each
-- authorisation), made with the council's first card.
CREATE TABLE card_merchant_payees (
    council_id  uuid PRIMARY KEY REFERENCES councils (id),
    payee_id    uuid NOT NULL,
    FOREIGN KEY (council_id, payee_id) REFERENCES payees (council_id, id)
);

-- Authorisations -----------------------------------------------------------------------------------

-- Every authorisation request answered for a known card. Approved and declined-by-the-rules ones
-- carry the payment their decision is recorded under (status `authorized` while the hold is open);
-- one declined before the rules (a frozen or cancelled card) carries its reason only.
CREATE TABLE card_authorizations (
    council_id          uuid NOT NULL REFERENCES councils (id),
    processor_id        uuid NOT NULL REFERENCES card_processors (id),
    authorization_ref   text NOT NULL CHECK (length(authorization_ref) BETWEEN 1 AND 100),
    card_id             uuid NOT NULL,
    payment_id          uuid,
    amount              numeric(14,2) NOT NULL CHECK (amount > 0),
    merchant_category   text NOT NULL CHECK (merchant_category ~ '^[0-9]{4}$'),
    merchant_name       text NOT NULL CHECK (length(merchant_name) BETWEEN 1 AND 200),
    is_cash             boolean NOT NULL,
    approved            boolean NOT NULL,
    decline_reason      text,
    status              text NOT NULL CHECK (status IN ('approved', 'declined', 'reversed',
                            'captured', 'expired')),
    hold_entry_id       uuid,
    captured_amount     numeric(14,2),
    capture_entry_id    uuid,
    extra_entry_id      uuid,
    -- Things the finance officer should look at: a capture above the hold, after expiry.
    flags               jsonb NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, processor_id, authorization_ref),
    FOREIGN KEY (council_id, card_id) REFERENCES cards (council_id, id),
    FOREIGN KEY (council_id, payment_id) REFERENCES payments (council_id, id),
    CHECK (approved = (decline_reason IS NULL)),
    CHECK (NOT approved OR hold_entry_id IS NOT NULL)
);
-- The processor names an authorisation without its council; the lookup needs no council.
CREATE UNIQUE INDEX card_authorizations_ref_idx
    ON card_authorizations (processor_id, authorization_ref);

CREATE TABLE card_refunds (
    council_id          uuid NOT NULL REFERENCES councils (id),
    id                  uuid NOT NULL,
    processor_id        uuid NOT NULL REFERENCES card_processors (id),
    card_id             uuid NOT NULL,
    authorization_ref   text,
    amount              numeric(14,2) NOT NULL CHECK (amount > 0),
    entry_id            uuid NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, card_id) REFERENCES cards (council_id, id)
);

-- Receipts of the processors' events: the first answer to each webhook-id, given again to a
-- replay. Written and read only through the functions below (the council is not known before
-- the card or authorisation is found, and an unknown card has none).
CREATE TABLE card_event_receipts (
    processor_id  uuid NOT NULL REFERENCES card_processors (id),
    webhook_id    text NOT NULL CHECK (length(webhook_id) BETWEEN 1 AND 255),
    event_type    text NOT NULL,
    council_id    uuid,
    answer        jsonb NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (processor_id, webhook_id)
);

-- Payments: a card authorisation's status --------------------------------------------------------

-- `authorized`: an approved card authorisation, its hold open until captured (then `posted`),
-- reversed (`voided`) or expired.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('posted', 'pending_approval', 'rejected', 'expired', 'refused', 'authorized',
                      'voided'));

-- An authorised card payment counts toward the plan year's spending like a held one.
CREATE OR REPLACE FUNCTION budget_spending_on_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(n, 1)), '[]'))
    FROM new_payments n
    WHERE n.status IN ('posted', 'pending_approval', 'authorized');
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION budget_spending_on_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(n, -1)), '[]'))
    FROM new_payments n
    JOIN old_payments o ON o.council_id = n.council_id AND o.id = n.id
    WHERE o.status IN ('posted', 'pending_approval', 'authorized')
      AND n.status NOT IN ('posted', 'pending_approval', 'authorized')
      AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                      WHERE r.council_id = n.council_id AND r.hold_id = n.hold_entry_id
                        AND r.outcome = 'expired');
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION budget_spending_on_expiry() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM budget_spending_add(coalesce(jsonb_agg(budget_spending_item(p, -1)), '[]'))
    FROM new_resolutions r
    JOIN payments p ON p.council_id = r.council_id AND p.hold_entry_id = r.hold_id
    WHERE r.outcome = 'expired' AND p.status IN ('posted', 'pending_approval', 'authorized');
    RETURN NULL;
END
$$;

-- Walls ------------------------------------------------------------------------------------------

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['cards', 'card_merchant_payees', 'card_authorizations',
                             'card_refunds'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT ON cards, card_merchant_payees, card_authorizations, card_refunds
    TO allot_app;
GRANT UPDATE (status) ON cards TO allot_app;
GRANT UPDATE (status, captured_amount, capture_entry_id, extra_entry_id, flags)
    ON card_authorizations TO allot_app;

-- The lookups across councils belong to allot_directory (as sql/V8's): which council a card or an
-- authorisation belongs to, the processors' keys, and the event receipts.
ALTER TABLE card_processors ENABLE ROW LEVEL SECURITY;
ALTER TABLE card_processors FORCE ROW LEVEL SECURITY;
ALTER TABLE card_event_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE card_event_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_lookup ON card_processors FOR SELECT TO allot_directory USING (true);
CREATE POLICY directory_lookup ON card_event_receipts TO allot_directory USING (true)
    WITH CHECK (true);
CREATE POLICY directory_lookup ON cards FOR SELECT TO allot_directory USING (true);
CREATE POLICY directory_lookup ON card_authorizations FOR SELECT TO allot_directory USING (true);
GRANT SELECT ON card_processors TO allot_directory;
GRANT SELECT, INSERT ON card_event_receipts TO allot_directory;
GRANT SELECT (council_id, id, processor_id, processor_card_ref) ON cards TO allot_directory;
GRANT SELECT (council_id, processor_id, authorization_ref) ON card_authorizations
    TO allot_directory;

CREATE FUNCTION card_processor_keys()
    RETURNS TABLE (id uuid, name text, secret bytea)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id, name, secret FROM card_processors WHERE active ORDER BY id $$;

CREATE FUNCTION card_processor_list()
    RETURNS TABLE (id uuid, name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id, name FROM card_processors WHERE active ORDER BY name $$;

CREATE FUNCTION card_find(p_processor uuid, p_ref text)
    RETURNS TABLE (council_id uuid, card_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT council_id, id FROM cards
          WHERE processor_id = p_processor AND processor_card_ref = p_ref $$;

CREATE FUNCTION card_authorization_council(p_processor uuid, p_ref text)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT council_id FROM card_authorizations
          WHERE processor_id = p_processor AND authorization_ref = p_ref $$;

CREATE FUNCTION card_event_answer(p_processor uuid, p_webhook_id text)
    RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT answer FROM card_event_receipts
          WHERE processor_id = p_processor AND webhook_id = p_webhook_id $$;

-- Records the answer to an event unless one is recorded already; returns the answer that stands.
CREATE FUNCTION card_event_record(p_processor uuid, p_webhook_id text, p_type text,
                                  p_council uuid, p_answer jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    INSERT INTO card_event_receipts (processor_id, webhook_id, event_type, council_id, answer)
    VALUES (p_processor, p_webhook_id, p_type, p_council, p_answer)
    ON CONFLICT (processor_id, webhook_id) DO NOTHING;
    RETURN (SELECT answer FROM card_event_receipts
            WHERE processor_id = p_processor AND webhook_id = p_webhook_id);
END
$$;

REVOKE ALL ON FUNCTION card_processor_keys(), card_processor_list(), card_find(uuid, text),
    card_authorization_council(uuid, text), card_event_answer(uuid, text),
    card_event_record(uuid, text, text, uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION card_processor_keys(), card_processor_list(), card_find(uuid, text),
    card_authorization_council(uuid, text), card_event_answer(uuid, text),
    card_event_record(uuid, text, text, uuid, jsonb) TO allot_app;

GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION card_processor_keys() OWNER TO allot_directory;
ALTER FUNCTION card_processor_list() OWNER TO allot_directory;
ALTER FUNCTION card_find(uuid, text) OWNER TO allot_directory;
ALTER FUNCTION card_authorization_council(uuid, text) OWNER TO allot_directory;
ALTER FUNCTION card_event_answer(uuid, text) OWNER TO allot_directory;
ALTER FUNCTION card_event_record(uuid, text, text, uuid, jsonb) OWNER TO allot_directory;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;

