import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCore } from '../../../lib/core';
import { readSubtitleFiles, SubtitleFileError } from './subtitles';

// The real wasm build of the core (make wasm), loaded from bytes in Node.
beforeAll(async () => {
  await initCore(readFileSync(new URL('../../../wasm/pkg/echoloop_wasm_bg.wasm', import.meta.url)));
});

const srt = '1\n00:00:01,000 --> 00:00:02,500\nGood morning.\n\n2\n00:00:03,000 --> 00:00:04,000\nSee you later.\n';
const srtDe = '1\n00:00:01,000 --> 00:00:02,500\nGuten Morgen.\n\n2\n00:00:03,000 --> 00:00:04,000\nBis später.\n';

describe('readSubtitleFiles (through the wasm core)', () => {
  it('returns segments in integer ms', async () => {
    const r = await readSubtitleFiles([new File([srt], 'a.srt')]);
    expect(r.formats).toEqual(['srt']);
    expect(r.segments).toEqual([
      { startTime: 1000, endTime: 2500, text: 'Good morning.' },
      { startTime: 3000, endTime: 4000, text: 'See you later.' },
    ]);
  });

  it('turns a second file into translations', async () => {
    const r = await readSubtitleFiles([new File([srt], 'en.srt'), new File([srtDe], 'de.srt')]);
    expect(r.segments.map((s) => s.translation)).toEqual(['Guten Morgen.', 'Bis später.']);
  });

  it('reports a corrupt file with its name', async () => {
    const err = await readSubtitleFiles([new File([new Uint8Array([0, 1, 2, 3, 255, 254])], 'broken.srt')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubtitleFileError);
    expect((err as SubtitleFileError).fileName).toBe('broken.srt');
  });

  it('reports a bad translation file as such', async () => {
    const err = await readSubtitleFiles([new File([srt], 'en.srt'), new File(['garbage'], 'de.srt')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubtitleFileError);
    expect((err as SubtitleFileError).fileName).toBe('de.srt');
  });

  it('returns nothing for no files', async () => {
    expect(await readSubtitleFiles([])).toEqual({ segments: [], skipped: [], formats: [] });
  });
});
