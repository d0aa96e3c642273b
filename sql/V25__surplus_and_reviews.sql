-- Surplus with notice and recovery (RULES.md › Monitoring), and reviews that happen.
--
-- A surplus notice is a letter: the exact text sent is kept with its SHA-256, beside the figures
-- it was worked out from. What happens to it afterwards (a request for reconsideration, a
-- decision, a recovery) is appended to its events, never changed. Recovered money goes to the
-- council's recovered-funds account through an ordinary ledger entry.

ALTER TABLE council_accounts DROP CONSTRAINT council_accounts_purpose_check;
ALTER TABLE council_accounts ADD CONSTRAINT council_accounts_purpose_check
    CHECK (purpose IN ('funding', 'contributions_received', 'recovered_funds'));

CREATE TABLE surplus_notices (
    council_id        uuid NOT NULL REFERENCES councils (id),
    id                uuid NOT NULL,
    budget_id         uuid NOT NULL,
    account_id        uuid NOT NULL,
    deployment        text NOT NULL CHECK (deployment IN ('direct_payment', 'managed_account', 'isf')),
    -- The amount asked for when issued, and what is owed now (a reduced decision lowers it).
    amount            numeric(14,2) NOT NULL CHECK (amount > 0),
    amount_due        numeric(14,2) NOT NULL CHECK (amount_due >= 0 AND amount_due <= amount),
    recovered         numeric(14,2) NOT NULL DEFAULT 0 CHECK (recovered >= 0 AND recovered <= amount_due),
    reasons           text NOT NULL CHECK (length(reasons) BETWEEN 1 AND 2000),
    -- How the surplus was worked out when the notice was issued.
    balance           numeric(14,2) NOT NULL,
    weekly_amount     numeric(14,2) NOT NULL,
    weeks_of_funding  numeric(8,1),
    commitments       numeric(14,2) NOT NULL,
    threshold_weeks   integer NOT NULL,
    surplus           numeric(14,2) NOT NULL,
    policy_version    integer NOT NULL,
    issued_on         date NOT NULL,
    deadline          date NOT NULL CHECK (deadline > issued_on),
    issued_by         uuid NOT NULL,
    issued_at         timestamptz NOT NULL,
    -- The letter exactly as sent, and its SHA-256 (hex).
    letter            text NOT NULL,
    letter_sha256     text NOT NULL CHECK (letter_sha256 ~ '^[0-9a-f]{64}$'),
    status            text NOT NULL CHECK (status IN ('issued', 'under_reconsideration', 'withdrawn',
                                                      'part_recovered', 'recovered')),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES ledger_accounts (council_id, id),
    FOREIGN KEY (council_id, issued_by) REFERENCES users (council_id, id),
    CHECK (amount <= surplus)
);
CREATE INDEX surplus_notices_budget_idx ON surplus_notices (council_id, budget_id, issued_at);

CREATE TABLE surplus_notice_events (
    council_id  uuid NOT NULL REFERENCES councils (id),
    id          uuid NOT NULL,
    notice_id   uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('issued', 'reconsideration_requested', 'decided',
                                              'recovered')),
    -- Decisions: upheld, reduced or withdrawn.
    outcome     text CHECK (outcome IN ('upheld', 'reduced', 'withdrawn')),
    -- Issued and decided: the amount owed after it; recovered: the amount taken.
    amount      numeric(14,2) CHECK (amount >= 0),
    -- Recovered: what could not be taken without leaving commitments unmet.
    shortfall   numeric(14,2) CHECK (shortfall >= 0),
    entry_id    uuid,
    -- Reasons, grounds.
    text        text CHECK (length(text) <= 2000),
    actor_id    uuid NOT NULL,
    at          timestamptz NOT NULL,
    -- Order of recording (events of one moment keep their order).
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, notice_id) REFERENCES surplus_notices (council_id, id),
    FOREIGN KEY (council_id, actor_id) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, entry_id) REFERENCES ledger_entries (council_id, id),
    CHECK ((kind = 'decided') = (outcome IS NOT NULL)),
    CHECK ((kind = 'recovered') = (entry_id IS NOT NULL))
);
CREATE INDEX surplus_notice_events_notice_idx ON surplus_notice_events (council_id, notice_id, at);

-- Reviews ----------------------------------------------------------------------------------------

-- A review may be opened by a trigger on a budget that has none open; an outcome is one of three
-- (older free-text outcomes stay as they were), with notes beside it.
ALTER TABLE reviews DROP CONSTRAINT reviews_kind_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_kind_check CHECK (kind IN ('first', 'annual', 'triggered'));
ALTER TABLE reviews ADD COLUMN notes text CHECK (length(notes) <= 4000);
GRANT UPDATE (notes) ON reviews TO allot_app;

-- What made a review due now: a change in capacity, a surplus flagged, a misuse finding, three
-- refusals in 28 days, or someone asking. Resolved by the review completed after it.
CREATE TABLE review_triggers (
    council_id   uuid NOT NULL REFERENCES councils (id),
    id           uuid NOT NULL,
    budget_id    uuid NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('capacity_change', 'surplus_flagged', 'misuse_finding',
                                                 'repeated_refusals', 'requested')),
    detail       text NOT NULL CHECK (length(detail) BETWEEN 1 AND 2000),
    raised_on    date NOT NULL,
    raised_by    uuid,
    raised_at    timestamptz NOT NULL DEFAULT now(),
    resolved_by_review uuid,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, id),
    FOREIGN KEY (council_id, raised_by) REFERENCES users (council_id, id),
    FOREIGN KEY (council_id, resolved_by_review) REFERENCES reviews (council_id, id)
);
CREATE INDEX review_triggers_open_idx ON review_triggers (council_id, budget_id)
    WHERE resolved_by_review IS NULL;

-- Records a trigger and makes the budget's open review due on `p_on` (never later than it was);
-- a budget without an open review gets one.
CREATE FUNCTION review_raise(p_council uuid, p_budget uuid, p_reason text, p_detail text,
                             p_on date, p_by uuid) RETURNS void
    LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    INSERT INTO review_triggers (council_id, id, budget_id, reason, detail, raised_on, raised_by)
    VALUES (p_council, gen_random_uuid(), p_budget, p_reason, left(p_detail, 2000), p_on, p_by);
    IF EXISTS (SELECT 1 FROM reviews WHERE council_id = p_council AND budget_id = p_budget
                                        AND completed_on IS NULL) THEN
        UPDATE reviews SET due_on = p_on
        WHERE council_id = p_council AND budget_id = p_budget AND completed_on IS NULL
          AND due_on > p_on;
    ELSE
        INSERT INTO reviews (council_id, id, budget_id, kind, due_on)
        VALUES (p_council, gen_random_uuid(), p_budget, 'triggered', p_on);
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION review_raise(uuid, uuid, text, text, date, uuid) TO allot_app;

-- A surplus notice flags the budget.
CREATE FUNCTION review_on_surplus_notice() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    PERFORM review_raise(NEW.council_id, NEW.budget_id, 'surplus_flagged',
                         'Surplus notice issued for ' || NEW.amount::text, NEW.issued_on, NEW.issued_by);
    RETURN NULL;
END
$$;
CREATE TRIGGER review_surplus_notices AFTER INSERT ON surplus_notices
    FOR EACH ROW EXECUTE FUNCTION review_on_surplus_notice();

-- An auditor's finding of misuse on a payment of the budget.
CREATE FUNCTION review_on_misuse_finding() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE v_budget uuid;
BEGIN
    SELECT budget_id INTO v_budget FROM payments
    WHERE council_id = NEW.council_id AND id = NEW.payment_id;
    IF v_budget IS NOT NULL THEN
        PERFORM review_raise(NEW.council_id, v_budget, 'misuse_finding',
                             'Audit finding of misuse on payment ' || NEW.payment_id::text,
                             (NEW.recorded_at AT TIME ZONE 'Europe/London')::date, NEW.recorded_by);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER review_audit_findings AFTER INSERT ON audit_findings
    FOR EACH ROW WHEN (NEW.outcome = 'misuse') EXECUTE FUNCTION review_on_misuse_finding();

-- Three refused payments of a budget within 28 days (once until a review resolves it).
CREATE FUNCTION review_on_refusal() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    IF (SELECT count(*) FROM payments
        WHERE council_id = NEW.council_id AND budget_id = NEW.budget_id AND status = 'refused'
          AND requested_at > NEW.requested_at - interval '28 days'
          AND requested_at <= NEW.requested_at) >= 3
       AND NOT EXISTS (SELECT 1 FROM review_triggers
                       WHERE council_id = NEW.council_id AND budget_id = NEW.budget_id
                         AND reason = 'repeated_refusals' AND resolved_by_review IS NULL) THEN
        PERFORM review_raise(NEW.council_id, NEW.budget_id, 'repeated_refusals',
                             'Three payments refused within 28 days',
                             (NEW.requested_at AT TIME ZONE 'Europe/London')::date, NULL);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER review_refusals AFTER INSERT ON payments
    FOR EACH ROW WHEN (NEW.status = 'refused') EXECUTE FUNCTION review_on_refusal();

-- A change in the person's capacity: every budget of theirs that has not ended.
CREATE FUNCTION review_on_capacity_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE v_budget uuid;
BEGIN
    FOR v_budget IN SELECT id FROM budgets
                    WHERE council_id = NEW.council_id AND person_id = NEW.person_id
                      AND (end_date IS NULL
                           OR end_date >= (NEW.changed_at AT TIME ZONE 'Europe/London')::date) LOOP
        PERFORM review_raise(NEW.council_id, v_budget, 'capacity_change',
                             'Capacity recorded as ' || (NEW.changes -> 'has_capacity' ->> 'to'),
                             (NEW.changed_at AT TIME ZONE 'Europe/London')::date, NEW.changed_by);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER review_person_changes AFTER INSERT ON person_changes
    FOR EACH ROW WHEN (NEW.changes ? 'has_capacity') EXECUTE FUNCTION review_on_capacity_change();

-- Webhooks: a surplus notice issued, the same way as V23's events.
CREATE FUNCTION webhook_on_surplus_notice() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE v_org uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints
                   WHERE council_id = NEW.council_id AND status = 'active') THEN
        RETURN NULL;
    END IF;
    SELECT holder_organisation_id INTO v_org FROM budget_accounts
    WHERE council_id = NEW.council_id AND account_id = NEW.account_id;
    PERFORM webhook_emit(NEW.council_id, 'surplus_notice.issued', v_org,
        jsonb_build_object('surplus_notice_id', NEW.id, 'budget_id', NEW.budget_id,
                           'account_id', NEW.account_id, 'deployment', NEW.deployment,
                           'amount', NEW.amount::text, 'deadline', NEW.deadline,
                           'letter_sha256', NEW.letter_sha256));
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_surplus_notices AFTER INSERT ON surplus_notices
    FOR EACH ROW EXECUTE FUNCTION webhook_on_surplus_notice();

-- Walls ------------------------------------------------------------------------------------------

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['surplus_notices', 'surplus_notice_events', 'review_triggers'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT ON surplus_notices, surplus_notice_events, review_triggers TO allot_app;
GRANT UPDATE (status, amount_due, recovered) ON surplus_notices TO allot_app;
GRANT UPDATE (resolved_by_review) ON review_triggers TO allot_app;
