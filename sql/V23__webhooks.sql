-- Webhooks out (issue 14, section 3): endpoints registered by a council administrator (for the
-- council) or by provider staff (for their organisation), an outbox of events written by triggers
-- in the very transaction that commits what they report, and one delivery per event and endpoint,
-- sent and retried by the delivery worker (src/webhooks/deliver.rs).

-- Endpoints --------------------------------------------------------------------------------------

-- The secret's key is kept as it is: the worker signs with it (a hash would not do). It is shown
-- once, when made, and never returned again. An endpoint with an organisation only receives
-- events about accounts that organisation holds.
CREATE TABLE webhook_endpoints (
    council_id       uuid NOT NULL REFERENCES councils (id),
    id               uuid NOT NULL,
    organisation_id  uuid,
    url              text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events           text[] NOT NULL CHECK (cardinality(events) >= 1),
    secret           bytea NOT NULL CHECK (length(secret) BETWEEN 24 AND 64),
    -- `active`, `disabled` (the receiver answered 410 Gone) or `deleted`.
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
    disabled_reason  text,
    created_by       uuid NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id)
);

-- Hosts the council allows plain http for (otherwise https only).
CREATE TABLE webhook_http_hosts (
    council_id  uuid NOT NULL REFERENCES councils (id),
    host        text NOT NULL CHECK (length(host) BETWEEN 1 AND 253 AND host = lower(host)),
    PRIMARY KEY (council_id, host)
);

-- The outbox ---------------------------------------------------------------------------------------

-- One row per event; `organisation_id` is the organisation holding the account the event is about
-- (NULL when it concerns the council only, or a person's own account).
CREATE TABLE webhook_events (
    council_id       uuid NOT NULL REFERENCES councils (id),
    id               uuid NOT NULL,
    event_type       text NOT NULL,
    organisation_id  uuid,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id)
);

-- One row per event and endpoint subscribed to it. `next_attempt_at` NULL: due now (an event's
-- deliveries are made by a trigger, which has no clock of allot's).
CREATE TABLE webhook_deliveries (
    council_id        uuid NOT NULL REFERENCES councils (id),
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    endpoint_id       uuid NOT NULL,
    event_id          uuid NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    last_attempt_at   timestamptz,
    last_status_code  integer,
    last_error        text,
    delivered_at      timestamptz,
    -- [{at, status_code?, error?}] of every attempt.
    log               jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, endpoint_id, event_id),
    FOREIGN KEY (council_id, endpoint_id) REFERENCES webhook_endpoints (council_id, id),
    FOREIGN KEY (council_id, event_id) REFERENCES webhook_events (council_id, id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (council_id, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_endpoints_active_idx ON webhook_endpoints (council_id) WHERE status = 'active';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (council_id, endpoint_id, event_id);

-- Records an event and a delivery for every active endpoint of the council subscribed to it
-- (an organisation's endpoints only for events about accounts it holds).
CREATE FUNCTION webhook_emit(p_council uuid, p_type text, p_organisation uuid, p_data jsonb)
    RETURNS void
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE v_id uuid := gen_random_uuid();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                   WHERE e.council_id = p_council AND e.status = 'active'
                     AND p_type = ANY (e.events)) THEN
        RETURN;
    END IF;
    INSERT INTO webhook_events (council_id, id, event_type, organisation_id, payload)
    VALUES (p_council, v_id, p_type, p_organisation,
            jsonb_build_object('type', p_type, 'timestamp', now(), 'data', p_data));
    INSERT INTO webhook_deliveries (council_id, endpoint_id, event_id)
    SELECT p_council, e.id, v_id FROM webhook_endpoints e
    WHERE e.council_id = p_council AND e.status = 'active' AND p_type = ANY (e.events)
      AND (e.organisation_id IS NULL OR e.organisation_id = p_organisation);
END
$$;

-- Payments: posted, held, refused, approved (held → posted); an invoice paid in full.
CREATE FUNCTION webhook_on_payment() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
    v_org uuid;
    v_data jsonb;
    v_total numeric;
    v_paid numeric;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    -- A council without endpoints pays nothing more for its payments than this look.
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints
                   WHERE council_id = NEW.council_id AND status = 'active') THEN
        RETURN NULL;
    END IF;
    SELECT holder_organisation_id INTO v_org FROM budget_accounts
    WHERE council_id = NEW.council_id AND account_id = NEW.account_id;
    v_data := jsonb_build_object('payment_id', NEW.id, 'budget_id', NEW.budget_id,
        'account_id', NEW.account_id, 'deployment', NEW.deployment, 'payee_id', NEW.payee_id,
        'category', NEW.category, 'amount', NEW.amount::text, 'service_date', NEW.service_date,
        'status', NEW.status, 'invoice_id', NEW.invoice_id);
    IF TG_OP = 'UPDATE' AND OLD.status = 'pending_approval' AND NEW.status = 'posted' THEN
        PERFORM webhook_emit(NEW.council_id, 'payment.approved', v_org, v_data);
    END IF;
    IF NEW.status = 'posted' THEN
        PERFORM webhook_emit(NEW.council_id, 'payment.posted', v_org, v_data);
    ELSIF TG_OP = 'INSERT' AND NEW.status = 'pending_approval' THEN
        PERFORM webhook_emit(NEW.council_id, 'payment.held', v_org, v_data);
    ELSIF TG_OP = 'INSERT' AND NEW.status = 'refused' THEN
        PERFORM webhook_emit(NEW.council_id, 'payment.refused', v_org,
                             v_data || jsonb_build_object('decision', NEW.decision));
    END IF;
    IF NEW.status = 'posted' AND NEW.invoice_id IS NOT NULL THEN
        SELECT total INTO v_total FROM invoices
        WHERE council_id = NEW.council_id AND id = NEW.invoice_id;
        SELECT coalesce(sum(amount), 0) INTO v_paid FROM payments
        WHERE council_id = NEW.council_id AND invoice_id = NEW.invoice_id AND status = 'posted';
        IF v_paid >= v_total AND v_paid - NEW.amount < v_total THEN
            PERFORM webhook_emit(NEW.council_id, 'invoice.paid', v_org,
                jsonb_build_object('invoice_id', NEW.invoice_id, 'total', v_total::text,
                                   'paid', v_paid::text, 'payee_id', NEW.payee_id,
                                   'budget_id', NEW.budget_id, 'account_id', NEW.account_id));
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_payments AFTER INSERT OR UPDATE OF status ON payments
    FOR EACH ROW EXECUTE FUNCTION webhook_on_payment();

CREATE FUNCTION webhook_on_payment_run() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    IF NEW.status = 'approved' AND OLD.status IS DISTINCT FROM 'approved' THEN
        PERFORM webhook_emit(NEW.council_id, 'payment_run.approved', NULL,
            jsonb_build_object('payment_run_id', NEW.id, 'period_start', NEW.period_start,
                               'period_end', NEW.period_end, 'total_amount', NEW.total_amount::text,
                               'file_serial', NEW.file_serial));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_payment_runs AFTER UPDATE OF status ON payment_runs
    FOR EACH ROW EXECUTE FUNCTION webhook_on_payment_run();

CREATE FUNCTION webhook_on_card_authorization() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
    v_org uuid;
    v_account uuid;
BEGIN
    IF NEW.approved THEN
        RETURN NULL;
    END IF;
    SELECT c.account_id, a.holder_organisation_id INTO v_account, v_org
    FROM cards c
    LEFT JOIN budget_accounts a ON a.council_id = c.council_id AND a.account_id = c.account_id
    WHERE c.council_id = NEW.council_id AND c.id = NEW.card_id;
    PERFORM webhook_emit(NEW.council_id, 'card.authorization.declined', v_org,
        jsonb_build_object('authorization_id', NEW.authorization_ref, 'card_id', NEW.card_id,
                           'account_id', v_account, 'payment_id', NEW.payment_id,
                           'amount', NEW.amount::text, 'merchant_name', NEW.merchant_name,
                           'merchant_category', NEW.merchant_category,
                           'decline_reason', NEW.decline_reason));
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_card_authorizations AFTER INSERT ON card_authorizations
    FOR EACH ROW EXECUTE FUNCTION webhook_on_card_authorization();

-- Walls ------------------------------------------------------------------------------------------

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_http_hosts', 'webhook_events',
                             'webhook_deliveries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT ON webhook_endpoints, webhook_events, webhook_deliveries TO allot_app;
GRANT SELECT, INSERT, DELETE ON webhook_http_hosts TO allot_app;
GRANT UPDATE (status, disabled_reason) ON webhook_endpoints TO allot_app;
GRANT UPDATE (status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error,
              delivered_at, log) ON webhook_deliveries TO allot_app;
GRANT EXECUTE ON FUNCTION webhook_emit(uuid, text, uuid, jsonb) TO allot_app;

-- Which councils have deliveries due: the worker's one look across councils (allot_directory's).
CREATE POLICY directory_lookup ON webhook_deliveries FOR SELECT TO allot_directory USING (true);
GRANT SELECT (council_id, status, next_attempt_at) ON webhook_deliveries TO allot_directory;

CREATE FUNCTION webhook_councils_with_work(p_now timestamptz)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT DISTINCT council_id FROM webhook_deliveries
          WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= p_now) $$;
REVOKE ALL ON FUNCTION webhook_councils_with_work(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_councils_with_work(timestamptz) TO allot_app;

GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION webhook_councils_with_work(timestamptz) OWNER TO allot_directory;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;
