-- The server scores an uploaded recording in a background job. A job may
-- wait (the day's assessments are used) or give up (no speech models, audio
-- that cannot be decoded) for a reason the learner is shown, so the reason
-- gets a stable code beside the free text.
ALTER TABLE jobs ADD COLUMN last_error_code text
    CHECK (last_error_code ~ '^[a-z][a-z0-9_]{0,63}$');

-- One scoring job per recording, ever: a retried upload completion cannot
-- queue it twice, and a client asking for a recording's score finds its job
-- through this index.
CREATE UNIQUE INDEX jobs_recording_assess_once ON jobs ((payload ->> 'user_id'), (payload ->> 'recording_id'))
    WHERE kind = 'recording.assess';
