import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router';
import { attachSubtitles, describeImportError } from '../../features/library';
import { PracticePage } from '../../features/practice';

export function PracticeRoute() {
  const { t } = useTranslation();
  const { materialId } = useParams();
  const [search] = useSearchParams();
  const segment = search.get('segment') ?? undefined;
  return (
    <PracticePage
      key={`${materialId ?? ''}:${segment ?? ''}`}
      materialId={materialId ?? ''}
      startSegmentId={segment}
      attachSubtitles={attachSubtitles}
      describeError={(e) => describeImportError(t, e)}
    />
  );
}
