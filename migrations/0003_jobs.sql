-- Background work in PostgreSQL: workers on any instance claim a due job with
-- SELECT ... FOR UPDATE SKIP LOCKED, so no job runs twice at once.
CREATE TABLE jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    payload      jsonb NOT NULL DEFAULT '{}',
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    run_at       timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    last_error   text,
    failed_at    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE failed_at IS NULL;
