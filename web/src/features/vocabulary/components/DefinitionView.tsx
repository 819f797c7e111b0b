import { useTranslation } from 'react-i18next';
import type { Lookup } from '../api/dictionary';

interface Props {
  lookup: Lookup | undefined;
  /** The word as shown, for messages. */
  word: string;
  /** The language definitions were asked in. */
  to: string;
}

/** IPA and the senses of a dictionary entry, or why there is none. */
export function DefinitionView({ lookup, word, to }: Props) {
  const { t, i18n } = useTranslation();
  const languageName = (tag: string) => {
    try {
      return new Intl.DisplayNames([i18n.language], { type: 'language' }).of(tag) ?? tag;
    } catch {
      return tag;
    }
  };
  if (!lookup)
    return (
      <p className="muted" data-testid="definition" data-state="loading" aria-busy="true">
        {t('vocabulary.lookingUp')}
      </p>
    );
  if (lookup.kind === 'offline')
    return (
      <p className="muted" data-testid="definition" data-state="offline">
        {t('vocabulary.noDefinitionOffline')}
      </p>
    );
  if (lookup.kind === 'refused')
    return (
      <p className="field-error" role="alert" data-testid="definition" data-state="refused" data-code={lookup.code}>
        {lookup.status === 401
          ? t('vocabulary.signInToLookUp')
          : t('vocabulary.refused', { detail: lookup.detail ? `${lookup.detail} (${lookup.code})` : lookup.code })}
      </p>
    );
  const { entry, staleSince } = lookup;
  const senses = entry.senses.filter((s) => s.definitions.length > 0);
  return (
    <div className="definition" data-testid="definition" data-state={senses.length ? 'found' : 'none'}>
      {entry.ipa && (
        <p className="ipa" data-testid="ipa">
          /{entry.ipa}/
        </p>
      )}
      {senses.length ? (
        <ol className="senses">
          {senses.map((sense, i) => (
            <li key={`${sense.source}:${sense.part_of_speech ?? ''}:${i}`} data-testid="sense" lang={sense.to}>
              {sense.part_of_speech && <em className="pos">{sense.part_of_speech} </em>}
              {sense.definitions.join('; ')}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">{t('vocabulary.noSenses', { word, language: languageName(to) })}</p>
      )}
      {staleSince !== undefined && <p className="muted small">{t('vocabulary.staleOffline')}</p>}
    </div>
  );
}
