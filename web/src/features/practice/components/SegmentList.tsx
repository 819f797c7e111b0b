import { memo, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LocalSegment } from '../../../db';
import { formatDuration } from '../../../lib/format';

interface RowProps {
  segment: LocalSegment;
  current: boolean;
  showTranslation: boolean;
  takes: number;
  onPlay: (index: number) => void;
}

const Row = memo(function Row({ segment, current, showTranslation, takes, onPlay }: RowProps) {
  const { t } = useTranslation();
  return (
    <li className={current ? 'seg current' : 'seg'} data-testid="segment" data-index={segment.index} aria-current={current ? 'true' : undefined}>
      <button type="button" onClick={() => onPlay(segment.index)} className="seg-btn">
        <span className="seg-time">{formatDuration(segment.startTime, 'down')}</span>
        <span className="seg-text">
          <span className="seg-original">
            {segment.text}
            {segment.editedAt !== undefined && (
              <span className="seg-edited" title={t('practice.correctedByYou')} data-testid="segment-corrected">
                {' '}
                <span aria-hidden="true">✎</span>
                <span className="sr-only">{t('practice.correctedByYou')}</span>
              </span>
            )}
          </span>
          {showTranslation && segment.translation && <span className="seg-translation">{segment.translation}</span>}
        </span>
        {takes > 0 && (
          <span className="seg-takes" aria-label={t('practice.takes', { count: takes })}>
            ● {takes}
          </span>
        )}
      </button>
    </li>
  );
});

interface Props {
  segments: LocalSegment[];
  current: number;
  showTranslation: boolean;
  takeCounts?: Map<string, number>;
  onPlay: (index: number) => void;
}

const FIRST_BEFORE = 20;
const FIRST_AFTER = 60;
const CHUNK = 300;

/**
 * The segment list. Long lists render the rows around the current segment
 * first and the rest in chunks on the following frames, so the first render
 * stays fast (scroll anchoring keeps the view still while rows are added).
 */
export function SegmentList({ segments, current, showTranslation, takeCounts, onPlay }: Props) {
  const { t } = useTranslation();
  const list = useRef<HTMLOListElement>(null);
  const n = segments.length;
  const [range, setRange] = useState(() => ({ from: Math.max(0, current - FIRST_BEFORE), to: Math.min(n, current + FIRST_AFTER) }));
  useEffect(() => {
    if (range.from <= 0 && range.to >= n) return;
    const id = window.setTimeout(() => setRange((r) => ({ from: Math.max(0, r.from - CHUNK), to: Math.min(n, r.to + CHUNK) })), 0);
    return () => window.clearTimeout(id);
  }, [range, n]);
  const from = Math.min(range.from, Math.max(0, current - 5));
  const to = Math.max(range.to, Math.min(n, current + 5));
  useEffect(() => {
    performance.mark('echoloop:segments-rendered');
  }, [segments]);
  useEffect(() => {
    const el = list.current?.querySelector<HTMLElement>(`[data-index="${current}"]`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [current]);
  return (
    <ol className="segments" ref={list} start={from + 1} aria-label={t('practice.segments')} data-testid="segment-list">
      {segments.slice(from, to).map((s) => (
        <Row key={s.id} segment={s} current={s.index === current} showTranslation={showTranslation} takes={takeCounts?.get(s.id) ?? 0} onPlay={onPlay} />
      ))}
    </ol>
  );
}
