-- Accounts, abuse limits and billing state (issue 3).

-- Fixed-window counters for abuse limits (login/register per IP and per
-- account). State lives here, not in process memory, so every server
-- instance counts against the same numbers. See
-- docs/decisions/0005-rate-limiting-in-postgresql.md.
CREATE TABLE rate_limit_counters (
    key           text PRIMARY KEY CHECK (length(key) <= 400),
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL CHECK (hits > 0)
);
CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);

-- Webhook ordering: the Stripe event `created` (and a rank that orders
-- events of the same second) of the last state applied to the row; older
-- events are ignored. See docs/decisions/0006-stripe-webhook-ordering.md.
ALTER TABLE subscriptions
    ADD COLUMN stripe_state_at    timestamptz,
    ADD COLUMN stripe_state_rank  smallint NOT NULL DEFAULT 0;

-- Every existing user gets the free plan the application creates at
-- registration.
INSERT INTO subscriptions (user_id)
SELECT id FROM users
ON CONFLICT (user_id) DO NOTHING;

-- Account deletion is a job per user; at most one pending.
CREATE UNIQUE INDEX jobs_account_delete_once ON jobs ((payload ->> 'user_id'))
    WHERE kind = 'account.delete' AND failed_at IS NULL;

