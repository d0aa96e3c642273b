-- Foundation: councils, organisations, people, users, sessions and tokens, with row-level security.
--
-- Every tenant table carries council_id in its primary, unique and foreign keys so that it can be
-- distributed by council. The application works through the role allot_app, which has no
-- BYPASSRLS and owns nothing, so the policies always apply to it; they compare council_id with the
-- per-transaction setting app.council_id and fail closed when it is unset. The owner (migrations,
-- the sign-in lookup functions below) is not subject to them.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'allot_app') THEN
        CREATE ROLE allot_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
-- The connecting role switches to allot_app per transaction (SET LOCAL ROLE), so it must be a member.
GRANT allot_app TO CURRENT_USER;

-- The council this transaction acts for; NULL (and so no rows) when unset or reset to ''.
CREATE FUNCTION app_council_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.council_id', true), '')::uuid $$;

CREATE TABLE councils (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organisations (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind            text NOT NULL CHECK (kind IN ('managed_account_provider', 'isf_provider', 'broker',
                                                  'care_provider', 'user_controlled_trust')),
    bank_sort_code      text CHECK (bank_sort_code ~ '^[0-9]{6}$'),
    bank_account_number text CHECK (bank_account_number ~ '^[0-9]{8}$'),
    bank_account_name   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id)
);

CREATE TABLE people (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    date_of_birth   date NOT NULL,
    has_capacity    boolean NOT NULL,
    excluded_from_direct_payments boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id)
);

CREATE TABLE users (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    email           text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role            text NOT NULL CHECK (role IN ('council_admin', 'care_manager', 'finance_officer', 'auditor',
                                                  'broker', 'provider_staff', 'budget_holder', 'representative')),
    organisation_id uuid,
    person_id       uuid,
    -- PBKDF2-HMAC-SHA256 with its parameters, so the cost can be raised without a migration.
    password_algorithm  text NOT NULL DEFAULT 'pbkdf2-sha256',
    password_iterations integer NOT NULL CHECK (password_iterations >= 100000),
    password_salt       bytea NOT NULL CHECK (length(password_salt) >= 16),
    password_hash       bytea NOT NULL CHECK (length(password_hash) = 32),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, organisation_id) REFERENCES organisations (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    CHECK (role NOT IN ('broker', 'provider_staff') OR organisation_id IS NOT NULL)
);
-- Sign-in is by email alone, so an email belongs to one user across all councils.
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Opaque bearer tokens and browser sessions, stored only as SHA-256 of the secret.
CREATE TABLE auth_tokens (
    council_id  uuid NOT NULL REFERENCES councils (id),
    token_hash  bytea NOT NULL CHECK (length(token_hash) = 32),
    user_id     uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('api', 'session')),
    -- For sessions: the CSRF token every form post must echo back.
    csrf_token  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    PRIMARY KEY (council_id, token_hash),
    FOREIGN KEY (council_id, user_id) REFERENCES users (council_id, id)
);
CREATE UNIQUE INDEX auth_tokens_hash_key ON auth_tokens (token_hash);

-- Failed sign-ins, for throttling. Keyed by email, not tenant data: no council_id.
CREATE TABLE login_failures (
    email       text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);

-- Row-level security: every tenant table, forced, with the council from the transaction.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organisations', 'people', 'users', 'auth_tokens'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (council_id = app_council_id())
                        WITH CHECK (council_id = app_council_id())', t);
    END LOOP;
END
$$;
ALTER TABLE councils ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON councils USING (id = app_council_id()) WITH CHECK (id = app_council_id());

GRANT USAGE ON SCHEMA public TO allot_app;
GRANT SELECT, INSERT ON councils TO allot_app;
GRANT SELECT, INSERT, UPDATE ON organisations, people, users TO allot_app;
GRANT SELECT, INSERT, UPDATE ON auth_tokens TO allot_app;
GRANT SELECT, INSERT, DELETE ON login_failures TO allot_app;
GRANT EXECUTE ON FUNCTION app_council_id() TO allot_app;

-- Whether a user may see a person. Later migrations widen it as organisations, brokers and
-- representatives are linked to people; every query about people goes through it.
CREATE FUNCTION can_see_person(p_council uuid, p_user uuid, p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (
        SELECT 1 FROM users u
        WHERE u.council_id = p_council AND u.id = p_user
          AND (u.role IN ('council_admin', 'care_manager', 'finance_officer', 'auditor')
               OR (u.role = 'budget_holder' AND u.person_id = p_person))) $$;
GRANT EXECUTE ON FUNCTION can_see_person(uuid, uuid, uuid) TO allot_app;

-- Sign-in happens before the council is known. These two functions, owned by the migration
-- owner, are the only way around row-level security, and each returns just what sign-in needs.
CREATE FUNCTION auth_find_user(p_email text)
    RETURNS TABLE (council_id uuid, user_id uuid, password_iterations integer, password_salt bytea,
                   password_hash bytea, active boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT council_id, id, password_iterations, password_salt, password_hash, active
          FROM users WHERE email = lower(p_email) $$;

CREATE FUNCTION auth_find_token(p_hash bytea, p_kind text)
    RETURNS TABLE (council_id uuid, user_id uuid, csrf_token text, email text, name text, role text,
                   organisation_id uuid, person_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT t.council_id, t.user_id, t.csrf_token, u.email, u.name, u.role, u.organisation_id, u.person_id
          FROM auth_tokens t JOIN users u ON u.council_id = t.council_id AND u.id = t.user_id
          WHERE t.token_hash = p_hash AND t.kind = p_kind AND t.revoked_at IS NULL
            AND t.expires_at > now() AND u.active $$;

REVOKE ALL ON FUNCTION auth_find_user(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth_find_token(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_find_user(text) TO allot_app;
GRANT EXECUTE ON FUNCTION auth_find_token(bytea, text) TO allot_app;
