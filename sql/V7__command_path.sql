-- The one command path: commands store their typed outcome with their idempotency key, and a
-- coalesced batch releases the keys of the requests in it that failed on their own.

-- A command's outcome as the service returned it (a domain value, not an HTTP response): a
-- replay gives the caller the same value again, and each caller (API, admin pages, CLI, jobs)
-- renders it as it renders a fresh one.
ALTER TABLE idempotency_keys ADD COLUMN outcome jsonb;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_finished_check
    CHECK ((finished_at IS NULL) = (response_status IS NULL AND outcome IS NULL));
GRANT UPDATE (outcome) ON idempotency_keys TO allot_app;

-- A key claimed by a batch for a request that then failed on its own (bad input, not visible)
-- is released in the same transaction, as a rolled-back single request would release it. Only
-- unfinished keys can be deleted: a stored outcome is kept for good.
GRANT DELETE ON idempotency_keys TO allot_app;
CREATE POLICY unfinished_only ON idempotency_keys AS RESTRICTIVE FOR DELETE
    USING (finished_at IS NULL);
