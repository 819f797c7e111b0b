-- Accounts, subscriptions, sessions and the per-user change clock that every
-- user-owned row is stamped with (the sync cursor, see ARCHITECTURE.md).

-- Every change to a user's data takes the next number of that user's counter
-- inside the writing transaction. The counter row stays locked until commit,
-- so number N+1 can never be handed out before N is committed: a reader that
-- has seen N can never skip a row that commits late.
CREATE TABLE user_change_counters (
    user_id          uuid PRIMARY KEY,
    last_change_seq  bigint NOT NULL CHECK (last_change_seq > 0)
);

CREATE FUNCTION next_change_seq(owner uuid) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO user_change_counters AS c (user_id, last_change_seq)
    VALUES (owner, 1)
    ON CONFLICT (user_id) DO UPDATE SET last_change_seq = c.last_change_seq + 1
    RETURNING c.last_change_seq
$$;

-- BEFORE INSERT OR UPDATE on tables that carry user_id.
CREATE FUNCTION stamp_owned_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := next_change_seq(NEW.user_id);
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

-- BEFORE INSERT OR UPDATE on users itself (the owner is the row).
CREATE FUNCTION stamp_user_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := next_change_seq(NEW.id);
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email              text NOT NULL,
    password_digest    text NOT NULL,
    native_language    text NOT NULL,
    learning_language  text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    change_seq         bigint NOT NULL,
    CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email))),
    CONSTRAINT users_email_shape CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 254),
    CONSTRAINT users_password_digest_phc CHECK (password_digest LIKE '$%'),
    CONSTRAINT users_native_language_tag CHECK (native_language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND length(native_language) <= 35),
    CONSTRAINT users_learning_language_tag CHECK (learning_language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND length(learning_language) <= 35)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE TRIGGER users_stamp BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION stamp_user_row();

-- The counter row is written by the users trigger before the users row
-- exists, so the foreign key is checked at commit.
ALTER TABLE user_change_counters
    ADD CONSTRAINT user_change_counters_user_fk FOREIGN KEY (user_id)
    REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

CREATE TYPE subscription_plan AS ENUM ('free', 'pro');
-- Stripe's subscription statuses, so a webhook's status maps one to one.
CREATE TYPE subscription_status AS ENUM (
    'active', 'trialing', 'past_due', 'canceled', 'unpaid',
    'incomplete', 'incomplete_expired', 'paused'
);

CREATE TABLE subscriptions (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                 uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    plan                    subscription_plan NOT NULL DEFAULT 'free',
    status                  subscription_status NOT NULL DEFAULT 'active',
    stripe_customer_id      text UNIQUE,
    stripe_subscription_id  text UNIQUE,
    stripe_price_id         text,
    current_period_end      timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Bearer sessions: only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    user_agent    text CHECK (length(user_agent) <= 512),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CONSTRAINT sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

-- Webhook idempotency: an event id is applied at most once.
CREATE TABLE stripe_events (
    id            text PRIMARY KEY CHECK (id LIKE 'evt_%'),
    event_type    text NOT NULL,
    created       timestamptz NOT NULL,
    payload       jsonb NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
