import { useCallback, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import type { LocalMaterial, LocalSegment, LearningProgress } from '../../../db';
import { Notice, type NoticeMessage } from '../../../components/Notice';
import { useBlobUrlBlob } from '../hooks/useMediaBlob';
import { TakeList, playTake, playTakePart, stopTake, useRecorder, useTakeCounts, useTakes } from '../../recording';
import { AssessmentView, ShadowingView, earlierText, scoreView, spokenWords, useSignedIn, useTakeScores } from '../../scoring';
import { TranscribedNote, TranscriptionPanel } from '../../transcription';
import { saveProgress, useInitialProgress, useMaterial, useSegments } from '../hooks/usePracticeData';
import { usePlayback } from '../hooks/usePlayback';
import { useKeyboard } from '../hooks/useKeyboard';
import { NeedsLocalMedia, Player } from './Player';
import { mediaElsewhere } from '../api/remoteMedia';
import { SegmentList } from './SegmentList';
import { CurrentSentence } from './CurrentSentence';
import { HelpOverlay } from './HelpOverlay';
import { Waveform } from './Waveform';
import { formatDuration } from '../../../lib/format';

export interface AttachSubtitles {
  (materialId: string, files: File[]): Promise<{ count: number }>;
}

interface Props {
  materialId: string;
  /** Open at this sentence (a saved word's link back) instead of where the learner left off. */
  startSegmentId?: string;
  attachSubtitles?: AttachSubtitles;
  describeError?: (e: unknown) => string;
}

export function PracticePage({ materialId, startSegmentId, attachSubtitles, describeError }: Props) {
  const { t } = useTranslation();
  const material = useMaterial(materialId);
  const segments = useSegments(materialId);
  const progress = useInitialProgress(materialId);
  if (material === undefined || segments === undefined || progress === undefined) return <div className="page" aria-busy="true" />;
  if (material === null)
    return (
      <section className="page narrow">
        <p role="alert">{t('practice.notFound')}</p>
        <Link to="/">{t('practice.back')}</Link>
      </section>
    );
  return (
    <Practice
      key={segments.length}
      material={material}
      segments={segments}
      progress={progress}
      startSegmentId={startSegmentId}
      attachSubtitles={attachSubtitles}
      describeError={describeError}
    />
  );
}

interface PracticeProps {
  material: LocalMaterial;
  segments: LocalSegment[];
  progress: LearningProgress | null;
  startSegmentId?: string;
  attachSubtitles?: AttachSubtitles;
  describeError?: (e: unknown) => string;
}

const SPEEDS = [0.5, 0.75, 0.9, 1, 1.25, 1.5, 2];

function Practice({ material, segments, progress, startSegmentId, attachSubtitles, describeError }: PracticeProps) {
  const { t } = useTranslation();
  const ids = useId();
  const linked = startSegmentId ? segments.findIndex((s) => s.id === startSegmentId) : -1;
  const initialIndex = linked >= 0 ? linked : Math.min(progress?.lastSegmentIndex ?? 0, Math.max(0, segments.length - 1));
  const onIndexChange = useCallback(
    (i: number, reachedEnd: boolean) => void saveProgress(material.id, i, reachedEnd),
    [material.id],
  );
  const pb = usePlayback({ segments, initialIndex, onIndexChange });
  const current = segments[pb.index];
  const takes = useTakes(current?.id);
  const takeCounts = useTakeCounts(material.id);
  const [selectedTake, setSelectedTake] = useState<string>();
  const [showTranslation, setShowTranslation] = useState(false);
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const [rangeTo, setRangeTo] = useState(Math.min(segments.length - 1, initialIndex + 2));
  const mediaBlob = useBlobUrlBlob(material.mediaBlobKey);
  // The media is on the server or another device: what needs the file here says so.
  const elsewhere = mediaElsewhere(material);
  const subsInput = useRef<HTMLInputElement>(null);

  const recorder = useRecorder(
    useCallback(
      (take: { id: string; duration: number }) => {
        setSelectedTake(take.id);
        setMessage({ kind: 'success', text: t('recording.saved', { duration: formatDuration(take.duration) }) });
      },
      [t],
    ),
  );
  const micError: NoticeMessage | null =
    recorder.state.state === 'error' ? { kind: 'error', text: t('recording.micDenied', { reason: recorder.state.reason }) } : null;

  const selected = takes?.find((r) => r.id === selectedTake) ?? takes?.[0];
  const selectedRow = useTakeScores(selected ? [selected.id] : [])?.get(selected?.id ?? '');
  const selectedScore = selectedRow?.assessment;
  const signedIn = useSignedIn();
  // A score judged against an earlier text of the sentence is shown as such (the learner corrected it).
  const selectedEarlier = earlierText(selectedRow, current?.text);
  const selectedRescoring = Boolean(selected && scoreView(selected, selectedRow, signedIn ?? false, current?.text).kind === 'rescoring');

  const recordStart = () => {
    if (!current) return;
    pb.pause();
    stopTake();
    recorder.start(current.id, material.id);
  };
  const recordStop = () => void recorder.stop();
  const [takePlaying, setTakePlaying] = useState(false);
  const playAndTrack = async (take: NonNullable<typeof selected>) => {
    setTakePlaying(true);
    try {
      await playTake(take);
    } finally {
      setTakePlaying(false);
    }
  };
  const playLast = () => {
    const take = takes?.[0];
    if (take) {
      pb.pause();
      void playAndTrack(take);
    }
  };
  const playWord = (fromMs: number, durationMs: number) => {
    if (!selected) return;
    pb.pause();
    void playTakePart(selected, fromMs, durationMs).catch((e: unknown) => setMessage({ kind: 'error', text: t('errors.generic', { reason: String(e) }) }));
  };
  const compare = async () => {
    const take = selected;
    if (!current) return;
    stopTake();
    await pb.playSegmentOnce(pb.index);
    if (take) await playAndTrack(take);
  };

  useKeyboard({
    toggle: pb.toggle,
    previous: () => pb.go(-1),
    next: () => pb.go(1),
    recordStart,
    recordStop,
    playTake: playLast,
    compare: () => void compare(),
    loop: pb.toggleLoop,
    help: () => setHelp((h) => !h),
  });

  const onAttach = async (files: File[]) => {
    if (!attachSubtitles || files.length === 0) return;
    try {
      const r = await attachSubtitles(material.id, files.slice(0, 2));
      setMessage({ kind: 'success', text: t('practice.attached', { count: r.count }) });
    } catch (e) {
      setMessage({ kind: 'error', text: describeError ? describeError(e) : String(e) });
    } finally {
      if (subsInput.current) subsInput.current.value = '';
    }
  };

  const loopRange = pb.loop.kind === 'range';
  const recording = recorder.state.state === 'recording';

  return (
    <div className="page practice" data-testid="practice" data-current-index={pb.index} data-playing={pb.playing} data-loop={pb.loop.kind} data-take-playing={takePlaying}>
      <div className="practice-head">
        <Link to="/" className="back">
          ← {t('practice.back')}
        </Link>
        <h1 data-testid="practice-title">{material.title}</h1>
        <button type="button" className="btn small" onClick={() => setHelp(true)} aria-keyshortcuts="?">
          ? {t('practice.help')}
        </button>
      </div>
      <Notice message={micError ?? message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
      <div className="practice-grid">
        <div className="stage">
          <Player material={material} onPort={pb.attach} onSeeked={pb.syncToTime} />
          <div className="controls" role="group" aria-label={t('practice.current', { n: pb.index + 1, total: segments.length })}>
            <button type="button" className="btn" onClick={() => pb.go(-1)} aria-label={t('practice.previous')} aria-keyshortcuts="ArrowLeft">
              ←
            </button>
            <button type="button" className="btn primary play" onClick={pb.toggle} aria-keyshortcuts="Space" data-testid="play-toggle">
              {pb.playing ? t('practice.pause') : t('practice.play')}
            </button>
            <button type="button" className="btn" onClick={() => pb.go(1)} aria-label={t('practice.next')} aria-keyshortcuts="ArrowRight">
              →
            </button>
            <button type="button" className="btn" aria-pressed={pb.loop.kind === 'segment'} onClick={pb.toggleLoop} aria-keyshortcuts="L" data-testid="loop-toggle">
              ⟲ {t('practice.loop')}
            </button>
            <label className="check">
              <input type="checkbox" checked={pb.autoPause} onChange={(e) => pb.setAutoPause(e.target.checked)} data-testid="autopause" />
              {t('practice.autoPause')}
            </label>
            <label className="speed">
              {t('practice.speed')}
              <select value={pb.rate} onChange={(e) => pb.setRate(Number(e.target.value))} data-testid="speed">
                {SPEEDS.map((s) => (
                  <option key={s} value={s}>
                    {s}×
                  </option>
                ))}
              </select>
            </label>
          </div>
          {segments.length > 1 && (
            <fieldset className="range">
              <legend>{t('practice.loopRange')}</legend>
              <label>
                <input
                  type="checkbox"
                  checked={loopRange}
                  data-testid="loop-range"
                  onChange={(e) => pb.setLoop(e.target.checked ? { kind: 'range', from: Math.min(pb.index, rangeTo), to: Math.max(pb.index, rangeTo) } : { kind: 'off' })}
                />
                {t('practice.rangeFrom')} {pb.loop.kind === 'range' ? pb.loop.from + 1 : pb.index + 1} {t('practice.rangeTo')}
              </label>
              <label>
                <span className="sr-only">{t('practice.rangeTo')}</span>
                <input
                  type="number"
                  min={1}
                  max={segments.length}
                  value={rangeTo + 1}
                  onChange={(e) => setRangeTo(Math.min(segments.length - 1, Math.max(0, Number(e.target.value) - 1)))}
                />
              </label>
            </fieldset>
          )}
          {current ? (
            <section className="current-box" aria-live="polite" data-testid="current-segment">
              <p className="current-n">{t('practice.current', { n: pb.index + 1, total: segments.length })}</p>
              <CurrentSentence
                key={current.id}
                segment={current}
                onSaved={() => setMessage({ kind: 'success', text: t('practice.edited') })}
                onError={(e) => setMessage({ kind: 'error', text: describeError ? describeError(e) : String(e) })}
              />
              {showTranslation && <p className="current-translation" data-testid="translation">{current.translation ?? t('practice.noTranslation')}</p>}
              <button type="button" className="btn small" aria-pressed={showTranslation} onClick={() => setShowTranslation((v) => !v)} data-testid="translation-toggle">
                {showTranslation ? t('practice.hideTranslation') : t('practice.translation')}
              </button>
            </section>
          ) : (
            <>
              <p className="empty">{t('practice.noSegments')}</p>
              <TranscriptionPanel material={material} />
            </>
          )}
          {attachSubtitles && (
            <label className="field attach">
              <span>{t('practice.attach')}</span>
              <input ref={subsInput} type="file" multiple data-testid="attach-subtitles" onChange={(e) => void onAttach([...(e.target.files ?? [])])} />
            </label>
          )}
        </div>
        <aside className="seg-pane">
          <h2 className="sr-only">{t('practice.segments')}</h2>
          <TranscribedNote segments={segments} />
          {segments.length > 0 && (
            <SegmentList segments={segments} current={pb.index} showTranslation={showTranslation} takeCounts={takeCounts} onPlay={(i) => void pb.playSegment(i)} />
          )}
        </aside>
        {current && (
          <section className="record-box record-area" aria-labelledby={`${ids}-takes`}>
            <div className="record-head">
              <h2 id={`${ids}-takes`}>{t('recording.title')}</h2>
              <button
                type="button"
                className={`btn record${recording ? ' on' : ''}`}
                aria-keyshortcuts="R"
                aria-pressed={recording}
                data-testid="record"
                onPointerDown={recordStart}
                onPointerUp={recordStop}
                onPointerLeave={() => recording && recordStop()}
                onKeyDown={(e) => (e.key === 'Enter' ? recordStart() : undefined)}
                onKeyUp={(e) => (e.key === 'Enter' ? recordStop() : undefined)}
              >
                ● {recording ? t('recording.recording') : t('recording.record')}
              </button>
              <button type="button" className="btn" onClick={playLast} disabled={!takes?.length} aria-keyshortcuts="P">
                ▶ {t('recording.playLast')}
              </button>
              <button type="button" className="btn" onClick={() => void compare()} aria-keyshortcuts="C">
                ⇄ {t('recording.compare')}
              </button>
            </div>
            <div className="waves">
              {material.sourceType !== 'youtube' &&
                (elsewhere ? (
                  <figure className="wave" data-testid="wave-original" data-state="elsewhere">
                    <figcaption>{t('practice.waveOriginal')}</figcaption>
                    <NeedsLocalMedia material={material} what="waveform" />
                  </figure>
                ) : (
                  <Waveform blob={mediaBlob} fromMs={current.startTime} toMs={current.endTime} label={t('practice.waveOriginal')} color="#1f6f78" testId="wave-original" />
                ))}
              <Waveform blob={selected?.blob} label={t('practice.waveTake')} color="#c2572b" emptyText={t('practice.waveNoTake')} testId="wave-take" />
            </div>
            {selected && selectedScore && (
              <AssessmentView assessment={selectedScore} onPlayWord={playWord} earlierText={selectedEarlier} rescoring={selectedRescoring} />
            )}
            {selected?.blob && selectedScore && material.sourceType !== 'youtube' && material.mediaBlobKey && (
              <ShadowingView
                take={{ ...selected, blob: selected.blob }}
                assessment={selectedScore}
                original={{ blobKey: material.mediaBlobKey, blob: mediaBlob, fromMs: current.startTime, toMs: current.endTime }}
              />
            )}
            {selected?.blob && selectedScore && elsewhere && spokenWords(selectedScore).length > 0 && <NeedsLocalMedia material={material} what="shadowing" />}
            <TakeList takes={takes ?? []} selectedId={selected?.id} onSelect={setSelectedTake} sentence={current.text} />
          </section>
        )}
      </div>
      <HelpOverlay open={help} onClose={() => setHelp(false)} />
    </div>
  );
}
