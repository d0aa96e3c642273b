-- Payment cards, what was left of issue 14: money the network moved without allot's approval
-- (force captures, stand-in authorisations and captures) put on the finance officers' exceptions
-- list with the rules' verdict; incremental authorisations; and webhook signing secrets kept
-- sealed (AES-256-GCM under a key derived from the chain key, which is never in the database).

-- Authorisations the network approved without allot ------------------------------------------------

-- `forced`: `force_capture` (a capture with no authorisation: posted, no hold ever) or `stand_in`
-- (approved by the network while allot was unreachable: held or posted whatever the rules say).
ALTER TABLE card_authorizations
    ADD COLUMN forced text CHECK (forced IN ('force_capture', 'stand_in'));
ALTER TABLE card_authorizations DROP CONSTRAINT card_authorizations_check1;
ALTER TABLE card_authorizations
    ADD CONSTRAINT card_authorizations_hold_check
    CHECK (NOT approved OR hold_entry_id IS NOT NULL OR forced IS NOT NULL);
GRANT UPDATE (forced) ON card_authorizations TO allot_app;

-- Incremental authorisations: a further hold on the same authorisation, decided like a new one.
-- Keyed by the event that asked (its webhook-id): a replay is answered from the receipts, and a
-- decision that comes after a timeout's answer meets the timeout's row here.
CREATE TABLE card_authorization_increments (
    council_id         uuid NOT NULL REFERENCES councils (id),
    processor_id       uuid NOT NULL,
    authorization_ref  text NOT NULL,
    increment_ref      text NOT NULL CHECK (length(increment_ref) BETWEEN 1 AND 255),
    payment_id         uuid,
    amount             numeric(14,2) NOT NULL CHECK (amount > 0),
    approved           boolean NOT NULL,
    decline_reason     text,
    status             text NOT NULL CHECK (status IN ('approved', 'declined', 'reversed',
                           'captured', 'expired')),
    hold_entry_id      uuid,
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (council_id, processor_id, authorization_ref, increment_ref),
    FOREIGN KEY (council_id, processor_id, authorization_ref)
        REFERENCES card_authorizations (council_id, processor_id, authorization_ref),
    FOREIGN KEY (council_id, payment_id) REFERENCES payments (council_id, id),
    CHECK (approved = (decline_reason IS NULL)),
    CHECK (NOT approved OR hold_entry_id IS NOT NULL)
);

-- The exceptions list: money moved that allot did not approve at the time, with what the rules
-- would have said then, until a finance officer has reviewed it.
CREATE TABLE card_exceptions (
    council_id         uuid NOT NULL REFERENCES councils (id),
    id                 uuid NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('force_capture', 'stand_in_authorization',
                           'stand_in_capture')),
    processor_id       uuid NOT NULL,
    authorization_ref  text NOT NULL,
    card_id            uuid NOT NULL,
    amount             numeric(14,2) NOT NULL CHECK (amount > 0),
    merchant_category  text CHECK (merchant_category ~ '^[0-9]{4}$'),
    merchant_name      text CHECK (length(merchant_name) BETWEEN 1 AND 200),
    -- The entry that moved (or holds) the money.
    entry_id           uuid NOT NULL,
    -- The rules' decision at the time, as `rules::decide` gives it, and whether it would have
    -- approved (with the decline reason it would have given).
    verdict            jsonb NOT NULL,
    verdict_approved   boolean NOT NULL,
    verdict_reason     text,
    created_at         timestamptz NOT NULL,
    reviewed_at        timestamptz,
    reviewed_by        uuid,
    review_note        text CHECK (length(review_note) BETWEEN 1 AND 2000),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, card_id) REFERENCES cards (council_id, id),
    FOREIGN KEY (council_id, reviewed_by) REFERENCES users (council_id, id),
    CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL)),
    CHECK ((reviewed_at IS NULL) = (review_note IS NULL))
);
CREATE INDEX card_exceptions_open_idx ON card_exceptions (council_id, created_at)
    WHERE reviewed_at IS NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['card_authorization_increments', 'card_exceptions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT ON card_authorization_increments, card_exceptions TO allot_app;
GRANT UPDATE (status) ON card_authorization_increments TO allot_app;
GRANT UPDATE (reviewed_at, reviewed_by, review_note) ON card_exceptions TO allot_app;

-- Webhook signing secrets, sealed ------------------------------------------------------------------

-- `secret_sealed` is nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag of the key, under a key
-- derived (HKDF-SHA256) from the chain key, which never reaches the database: a read of this table
-- alone does not give the secrets. Rows of V23 keep `secret` in clear until allot seals them when
-- it starts (`webhooks::secrets::seal_existing`), which also clears `secret`.
ALTER TABLE webhook_endpoints ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE webhook_endpoints ADD COLUMN secret_sealed bytea
    CHECK (length(secret_sealed) BETWEEN 12 + 16 + 24 AND 12 + 16 + 64);
ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_one_secret CHECK ((secret IS NULL) <> (secret_sealed IS NULL));
GRANT UPDATE (secret, secret_sealed) ON webhook_endpoints TO allot_app;
