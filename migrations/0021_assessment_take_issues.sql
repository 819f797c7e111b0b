-- What was wrong with a recording itself, apart from its pronunciation
-- (docs/speech.md, "The recording"): no speech at all, speech cut at either
-- end, clipped peaks. Said beside the scores, so that a poor score is not
-- read as poor pronunciation when the learner can fix the recording. Empty
-- for assessments from before this migration and for posted ones.
ALTER TABLE pronunciation_assessments
    ADD COLUMN take_issues text[] NOT NULL DEFAULT '{}'
        CHECK (take_issues <@ ARRAY['no_speech', 'cut_off', 'clipped']::text[]);
