-- The sentence a take was judged against. When a learner corrects a
-- sentence's text, the server scores its takes again, and a client tells a
-- score of the old text from one of the new by this column. Null for
-- assessments posted by clients and for those stored before it existed.
ALTER TABLE pronunciation_assessments ADD COLUMN reference_text text
    CHECK (length(reference_text) <= 5000);
