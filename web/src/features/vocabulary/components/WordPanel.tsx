import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import type { VocabularyContext } from '../../../db';
import { changeContext, saveWord, useLanguages, useLookup, useSavedWord } from '../hooks/useVocabulary';
import { DefinitionView } from './DefinitionView';
import type { PickedWord } from './SentenceWords';

interface Props {
  word: PickedWord;
  context: VocabularyContext;
  onClose: () => void;
}

/**
 * The picked word: IPA and definitions in the learner's language (from the
 * device when looked up before), and "Save", which works offline too.
 * Escape or "Close" closes it.
 */
export function WordPanel({ word, context, onClose }: Props) {
  const { t } = useTranslation();
  const id = useId();
  const languages = useLanguages();
  const lookup = useLookup(word.key, languages);
  const saved = useSavedWord(word.key, languages?.from);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, [word.start]);

  // Escape closes it wherever the focus is (Save disappears once pressed), except in a field or dialog.
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target instanceof HTMLElement ? e.target : null;
      if (e.key !== 'Escape' || target?.closest('input, textarea, select, dialog')) return;
      close.current();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const save = async () => {
    if (!languages) return;
    try {
      await saveWord({ word: word.key, surface: word.surface, language: languages.from, context });
      setError(null);
      heading.current?.focus(); // the button goes away: keep the focus in the panel
    } catch (e) {
      setError(t('errors.generic', { reason: e instanceof Error ? e.message : String(e) }));
    }
  };

  // Saved with another sentence: the learner may keep this one instead (a synced edit of the word).
  const keepSentence = async () => {
    if (!saved) return;
    try {
      await changeContext(saved.id, context);
      setError(null);
    } catch (e) {
      setError(t('errors.generic', { reason: e instanceof Error ? e.message : String(e) }));
    }
  };
  const otherSentence = saved && saved.context?.sentence !== context.sentence;

  return (
    <section
      className="word-panel"
      aria-labelledby={`${id}-word`}
      data-testid="word-panel"
      data-word={word.key}
    >
      <div className="word-head">
        <h3 id={`${id}-word`} ref={heading} tabIndex={-1} lang={languages?.from}>
          {word.surface}
        </h3>
        <button type="button" className="btn small" onClick={onClose} aria-label={t('vocabulary.close', { word: word.surface })} data-testid="word-close">
          ×
        </button>
      </div>
      <DefinitionView lookup={lookup} word={word.surface} to={languages?.to ?? ''} />
      <div className="word-actions" aria-live="polite">
        {saved ? (
          <p className="saved" data-testid="word-saved">
            ✓ {t('vocabulary.saved')} <Link to="/vocabulary">{t('vocabulary.openList')}</Link>
          </p>
        ) : (
          <button type="button" className="btn small primary" onClick={() => void save()} disabled={!languages || saved === undefined} data-testid="word-save">
            {t('vocabulary.save')}
          </button>
        )}
        {otherSentence && (
          <p className="small" data-testid="word-other-context">
            {saved.context && <span className="muted">{t('vocabulary.savedWith', { sentence: saved.context.sentence })} </span>}
            <button type="button" className="btn small" onClick={() => void keepSentence()} data-testid="word-use-context">
              {t('vocabulary.useContext')}
            </button>
          </p>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </section>
  );
}
