/** Suggestions for BCP 47 language inputs; the server accepts any known tag. */
const TAGS = ['en', 'en-GB', 'en-US', 'es', 'fr', 'de', 'it', 'pt', 'pt-BR', 'nl', 'sv', 'pl', 'ru', 'uk', 'tr', 'ar', 'he', 'hi', 'ja', 'ko', 'zh-CN', 'zh-TW', 'zh-Hant-TW', 'yue', 'vi', 'th', 'id'];

export function LanguageList({ id }: { id: string }) {
  return (
    <datalist id={id}>
      {TAGS.map((tag) => (
        <option key={tag} value={tag} />
      ))}
    </datalist>
  );
}

/** The browser's language as a default native language. */
export function browserLanguage(): string {
  return (typeof navigator !== 'undefined' && navigator.language) || 'en';
}
