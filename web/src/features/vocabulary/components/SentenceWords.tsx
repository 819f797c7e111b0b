import { Fragment, useMemo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { tokenize, type TextToken } from '../../../lib/core';
import { useLanguages } from '../hooks/useVocabulary';

/** A word of the sentence the learner picked. */
export interface PickedWord {
  key: string;
  surface: string;
  /** Position in the sentence (UTF-16), to mark the right one when a word occurs twice. */
  start: number;
}

/** The core's tokens of a sentence, or null when this build of the core cannot split text. */
export function useTokens(text: string, language: string | undefined): TextToken[] | null {
  return useMemo(() => {
    try {
      return tokenize(text, language);
    } catch {
      return null;
    }
  }, [text, language]);
}

/** The text between and around tokens (spaces) kept as it is, so the sentence reads the same. */
function interleave(text: string, tokens: TextToken[], render: (token: TextToken) => ReactNode): ReactNode[] {
  const out: ReactNode[] = [];
  let at = 0;
  for (const token of tokens) {
    if (token.utf16Start > at) out.push(<Fragment key={`gap-${at}`}>{text.slice(at, token.utf16Start)}</Fragment>);
    out.push(<Fragment key={`t-${token.utf16Start}`}>{render(token)}</Fragment>);
    at = token.utf16End;
  }
  if (at < text.length) out.push(<Fragment key={`gap-${at}`}>{text.slice(at)}</Fragment>);
  return out;
}

interface Props {
  text: string;
  /** The sentence's language; the learner's learning language by default. */
  language?: string;
  picked?: PickedWord | null;
  onPick: (word: PickedWord) => void;
}

/**
 * A sentence whose words are buttons (click, tap, Enter): the words as the
 * core splits them, punctuation and spaces as they are.
 */
export function SentenceWords({ text, language, picked, onPick }: Props) {
  const { t } = useTranslation();
  const learning = useLanguages()?.from;
  const tokens = useTokens(text, language ?? learning);
  if (!tokens) return <>{text}</>;
  return (
    <>
      {interleave(text, tokens, (token) =>
        token.kind === 'word' && token.key ? (
          <button
            type="button"
            className="sentence-word"
            aria-pressed={picked?.start === token.utf16Start}
            aria-description={t('vocabulary.lookUpHint')}
            data-testid="sentence-word"
            data-key={token.key}
            onClick={() => onPick({ key: token.key ?? token.text, surface: token.text, start: token.utf16Start })}
          >
            {token.text}
          </button>
        ) : (
          token.text
        ),
      )}
    </>
  );
}

/** A sentence with one word (by key) marked, for the review card. */
export function SentenceWithWord({ text, language, wordKey }: { text: string; language?: string; wordKey: string }) {
  const tokens = useTokens(text, language);
  if (!tokens) return <>{text}</>;
  const first = tokens.find((token) => token.kind === 'word' && token.key === wordKey)?.utf16Start;
  return (
    <>
      {interleave(text, tokens, (token) =>
        token.utf16Start === first ? <mark data-testid="review-word-in-sentence">{token.text}</mark> : token.text,
      )}
    </>
  );
}
