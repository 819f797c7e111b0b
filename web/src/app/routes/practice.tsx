import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { attachSubtitles, describeImportError } from '../../features/library';
import { PracticePage } from '../../features/practice';

export function PracticeRoute() {
  const { t } = useTranslation();
  const { materialId } = useParams();
  return (
    <PracticePage
      key={materialId}
      materialId={materialId ?? ''}
      attachSubtitles={attachSubtitles}
      describeError={(e) => describeImportError(t, e)}
    />
  );
}
