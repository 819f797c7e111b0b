import { VocabularyPage } from '../../features/vocabulary';

export function VocabularyRoute() {
  return <VocabularyPage />;
}
