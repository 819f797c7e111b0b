export { SentenceWords, type PickedWord } from './components/SentenceWords';
export { WordPanel } from './components/WordPanel';
export { VocabularyPage } from './components/VocabularyPage';
export { ReviewPage, type KeepMedia, type PlayClip } from './components/ReviewPage';
export { useDueCount } from './hooks/useVocabulary';
