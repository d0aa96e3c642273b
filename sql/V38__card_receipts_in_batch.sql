-- The answers to a batch's card authorisation requests, recorded in the batch's own transaction
-- (with the authorisations and their holds), so that an event's decision and the answer a replay
-- of its webhook-id gets are committed together. Set-based: one call a batch.

CREATE FUNCTION card_event_record_many(p_processors uuid[], p_webhook_ids text[], p_type text,
                                       p_council uuid, p_answers jsonb[])
    RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    INSERT INTO card_event_receipts (processor_id, webhook_id, event_type, council_id, answer)
    SELECT u.processor_id, u.webhook_id, p_type, p_council, u.answer
    FROM unnest(p_processors, p_webhook_ids, p_answers) AS u(processor_id, webhook_id, answer)
    ON CONFLICT (processor_id, webhook_id) DO NOTHING
$$;

REVOKE ALL ON FUNCTION card_event_record_many(uuid[], text[], text, uuid, jsonb[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION card_event_record_many(uuid[], text[], text, uuid, jsonb[]) TO allot_app;

GRANT allot_directory TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO allot_directory;
ALTER FUNCTION card_event_record_many(uuid[], text[], text, uuid, jsonb[]) OWNER TO allot_directory;
REVOKE CREATE ON SCHEMA public FROM allot_directory;
REVOKE allot_directory FROM CURRENT_USER;

-- Only declines are reported: approved authorisations no longer call the trigger's function.
DROP TRIGGER webhook_card_authorizations ON card_authorizations;
CREATE TRIGGER webhook_card_authorizations AFTER INSERT ON card_authorizations
    FOR EACH ROW WHEN (NOT NEW.approved) EXECUTE FUNCTION webhook_on_card_authorization();
