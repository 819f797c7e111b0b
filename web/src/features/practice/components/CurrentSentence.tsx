import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { LocalSegment } from '../../../db';
import { parseSegmentText, SegmentTextError, type SegmentTextProblem } from '../../../lib/segmentText';
import { editSentence } from '../hooks/usePracticeData';
import { SentenceWords, WordPanel, type PickedWord } from '../../vocabulary';

interface Props {
  segment: LocalSegment;
  /** The correction was saved (the page says so). */
  onSaved: () => void;
  /** Saving failed for another reason than the text (the page shows it). */
  onError: (e: unknown) => void;
}

/**
 * The current sentence's text, and "Edit": the learner corrects it in place
 * (Enter saves, Escape cancels). Text the server would refuse is refused
 * here with the reason, and nothing changes.
 */
export function CurrentSentence({ segment, onSaved, onError }: Props) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const [problem, setProblem] = useState<SegmentTextProblem | null>(null);
  const [saving, setSaving] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  const editing = draft !== null;
  const [picked, setPicked] = useState<PickedWord | null>(null);
  const sentence = useRef<HTMLParagraphElement>(null);

  const closeWord = () => {
    // Back to the word the panel was about, as a dialog returns focus.
    sentence.current?.querySelector<HTMLButtonElement>('button[aria-pressed="true"]')?.focus();
    setPicked(null);
  };

  useEffect(() => {
    if (editing) input.current?.focus();
    else if (returnFocus.current) {
      returnFocus.current = false;
      editButton.current?.focus();
    }
  }, [editing]);

  const close = () => {
    returnFocus.current = true;
    setDraft(null);
    setProblem(null);
  };

  const save = async () => {
    if (draft === null || saving) return;
    const parsed = parseSegmentText(draft);
    if (!parsed.ok) {
      setProblem(parsed.problem);
      input.current?.focus();
      return;
    }
    setSaving(true);
    try {
      const changed = await editSentence(segment.materialId, segment.id, parsed.text);
      close();
      if (changed) onSaved();
    } catch (e) {
      if (e instanceof SegmentTextError) setProblem(e.problem);
      else onError(e);
    } finally {
      setSaving(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  };

  const number = (n: number) => new Intl.NumberFormat(i18n.language).format(n);
  const message =
    problem?.kind === 'blank'
      ? t('practice.editBlank')
      : problem?.kind === 'tooLong'
        ? t('practice.editTooLong', { chars: number(problem.chars), max: number(problem.max) })
        : null;

  if (!editing)
    return (
      <div className="current-sentence">
        <p className="current-text" data-testid="current-text" ref={sentence}>
          <SentenceWords text={segment.text} picked={picked} onPick={setPicked} />
        </p>
        {picked && (
          <WordPanel
            key={picked.start}
            word={picked}
            context={{ sentence: segment.text, materialId: segment.materialId, segmentId: segment.id, timeMs: segment.startTime }}
            onClose={closeWord}
          />
        )}
        <p className="current-actions">
          {segment.editedAt !== undefined && (
            <span className="corrected muted small" data-testid="corrected-note">
              ✎ {t('practice.correctedByYou')}
            </span>
          )}
          <button
            ref={editButton}
            type="button"
            className="btn small"
            onClick={() => {
              setPicked(null);
              setDraft(segment.text);
            }}
            data-testid="edit-sentence"
          >
            {t('practice.edit')}
          </button>
        </p>
      </div>
    );

  return (
    <form
      className="sentence-editor"
      noValidate
      aria-label={t('practice.editTitle')}
      data-testid="sentence-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor={`${id}-text`} className="small">
        {t('practice.editLabel')}
      </label>
      <textarea
        id={`${id}-text`}
        ref={input}
        rows={2}
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          setProblem(null);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={message ? true : undefined}
        aria-describedby={[`${id}-hint`, message ? `${id}-err` : ''].filter(Boolean).join(' ')}
        data-testid="sentence-input"
      />
      <small id={`${id}-hint`} className="muted">
        {t('practice.editHint')}
      </small>
      {message && (
        <small id={`${id}-err`} className="field-error" role="alert" data-testid="sentence-error">
          {message}
        </small>
      )}
      <div className="form-actions">
        <button type="submit" className="btn small primary" disabled={saving} data-testid="save-sentence">
          {t('practice.save')}
        </button>
        <button type="button" className="btn small" onClick={close} data-testid="cancel-sentence">
          {t('practice.cancel')}
        </button>
      </div>
    </form>
  );
}
