-- The form a saved word was tapped in ("Running", "don’t", "Straße"), part
-- of where it was met (docs/api/vocabulary.md, "Context"): the item keeps
-- the lookup key (`running`), and another device shows and highlights the
-- word as it stood in its sentence. The server checks that it is a word of
-- the sentence whose lookup key is the item's word (the core's tokens);
-- the database keeps its length and that it lies in the sentence (so a
-- surface never stands without one).
ALTER TABLE vocabulary_items
    ADD COLUMN context_surface text
        CONSTRAINT vocabulary_items_context_surface_length
            CHECK (length(context_surface) BETWEEN 1 AND 200),
    ADD CONSTRAINT vocabulary_items_context_surface_in_sentence
        CHECK (context_surface IS NULL OR coalesce(strpos(context_sentence, context_surface) > 0, false));
