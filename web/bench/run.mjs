// Web client benchmarks in headless Chromium against the built app (web/dist):
//  1. import of ~1,500 subtitle cues (wasm parse + IndexedDB write) and the
//     first render of the practice segment list;
//  2. first render of a library of 1,000 materials.
// Usage: npm run build && npm run bench   (prints a Markdown table)
// BENCH_DIST=<dir> measures another build instead of web/dist.
// BENCH_BASELINE=<another built dist> also measures that build's import in
// the same browser, alternating run by run (each build on its own origin,
// so its own IndexedDB), and prints it beside this one with the ratio.
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const DIST = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : fileURLToPath(new URL('../dist/', import.meta.url));
const BASELINE = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CUES = 1500;
const MATERIALS = 1000;

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.webmanifest': 'application/manifest+json', '.json': 'application/json' };

function serveDist(dist = DIST) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"status":"ok","version":"bench"}');
    }
    let file = path.join(dist, path.normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, ''));
    try {
      if (!(await stat(file)).isFile()) throw new Error('dir');
    } catch {
      file = path.join(dist, 'index.html');
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(await readFile(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function srt(n) {
  const clock = (ms) => {
    const h = Math.floor(ms / 3600000);
    const m = Math.floor(ms / 60000) % 60;
    const s = Math.floor(ms / 1000) % 60;
    const pad = (v, w = 2) => String(v).padStart(w, '0');
    return `${pad(h)}:${pad(m)}:${pad(s)},${pad(ms % 1000, 3)}`;
  };
  let out = '';
  for (let i = 0; i < n; i++) {
    const start = i * 2000;
    out += `${i + 1}\n${clock(start)} --> ${clock(start + 1700)}\nLine number ${i + 1}, a sentence to shadow.\n\n`;
  }
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Imports the film's subtitles with a short audio file through the import
 * form, then opens the material: the import's times from the app's
 * performance marks, and the first render of its segment list.
 */
async function importRun(page, base, { audio, subs, title }) {
  await page.goto(`${base}/`);
  await page.getByTestId('media-input').waitFor();
  await page.getByTestId('media-input').setInputFiles(audio);
  await page.getByTestId('subtitle-input').setInputFiles(subs);
  await page.getByTestId('title-input').fill(title);
  await page.evaluate(() => performance.clearMarks());
  await page.getByTestId('import-submit').click();
  await page.getByTestId('notice-success').waitFor({ timeout: 60000 });
  const [total, parse, write] = await page.evaluate(() => {
    const a = performance.getEntriesByName('echoloop:subtitles-start').at(-1);
    const p = performance.getEntriesByName('echoloop:subtitles-parsed').at(-1);
    const b = performance.getEntriesByName('echoloop:import-saved').at(-1);
    return [b.startTime - a.startTime, p.startTime - a.startTime, b.startTime - p.startTime];
  });
  // First render of the segment list, client-side navigation from the library.
  const card = page.getByTestId('material-card').filter({ hasText: title }).getByTestId('material-title');
  const rendered = await card.evaluate(async (a) => {
    performance.clearMarks('echoloop:segments-rendered');
    const t0 = performance.now();
    a.click();
    for (;;) {
      const m = performance.getEntriesByName('echoloop:segments-rendered').at(-1);
      const rows = document.querySelectorAll('[data-testid="segment"]').length;
      if (m && rows > 0) return { ms: m.startTime - t0, rows };
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return { total, parse, write, render: rendered.ms, rows: rendered.rows };
}

/**
 * The browser's own floor: the same 1,500 rows put with bare IndexedDB (no
 * Dexie, no other stores) into a store with the old schema's three segment
 * indexes and with today's one, in one transaction each.
 */
async function bareWrites(page, base, runs) {
  await page.goto(`${base}/status`);
  await page.getByTestId('clock-sample').waitFor();
  return page.evaluate(
    async ({ runs, cues }) => {
      const layouts = {
        threeIndexes: [['materialId'], ['materialId', 'startTime'], ['materialId', 'index']],
        oneIndex: [['materialId', 'index']],
      };
      const name = 'echoloop-bench-bare';
      await new Promise((resolve) => {
        const r = indexedDB.deleteDatabase(name);
        r.onsuccess = r.onerror = resolve;
      });
      const db = await new Promise((resolve, reject) => {
        const r = indexedDB.open(name, 1);
        r.onupgradeneeded = () => {
          for (const [store, indexes] of Object.entries(layouts)) {
            const s = r.result.createObjectStore(store, { keyPath: 'id' });
            for (const keyPath of indexes) s.createIndex(keyPath.join('+'), keyPath.length === 1 ? keyPath[0] : keyPath);
          }
        };
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const out = { threeIndexes: [], oneIndex: [] };
      for (let run = 0; run < runs; run++) {
        for (const store of Object.keys(layouts)) {
          const materialId = crypto.randomUUID();
          const rows = Array.from({ length: cues }, (_, index) => ({ id: crypto.randomUUID(), materialId, index, startTime: index * 2000, endTime: index * 2000 + 1700, text: `Line number ${index + 1}, a sentence to shadow.` }));
          const t0 = performance.now();
          const tx = db.transaction([store], 'readwrite');
          const os = tx.objectStore(store);
          for (const row of rows) os.add(row);
          await new Promise((resolve, reject) => {
            tx.oncomplete = resolve;
            tx.onerror = () => reject(tx.error);
          });
          out[store].push(performance.now() - t0);
        }
      }
      db.close();
      return out;
    },
    { runs, cues: CUES },
  );
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'echoloop-bench-'));
  const audio = path.join(dir, 'long.ogg');
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '10', '-c:a', 'libopus', audio]);
  const subs = path.join(dir, 'long.srt');
  await writeFile(subs, srt(CUES));

  const server = await serveDist();
  const base = `http://127.0.0.1:${server.address().port}`;
  const baselineServer = BASELINE ? await serveDist(BASELINE) : null;
  const baselineBase = baselineServer ? `http://127.0.0.1:${baselineServer.address().port}` : null;
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'echoloop-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
  });
  const page = await context.newPage();
  const importMs = [];
  const parseMs = [];
  const writeMs = [];
  const segRenderMs = [];
  const baseline = { total: [], parse: [], write: [], render: [] };
  let segRows = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      // Alternate which build goes first, so neither always runs on a warmer browser.
      const order = baselineBase && run % 2 ? ['baseline', 'current'] : ['current', 'baseline'];
      for (const which of order) {
        if (which === 'baseline') {
          if (!baselineBase) continue;
          const r = await importRun(page, baselineBase, { audio, subs, title: `Bench ${run}` });
          for (const k of Object.keys(baseline)) baseline[k].push(r[k]);
          continue;
        }
        const r = await importRun(page, base, { audio, subs, title: `Bench ${run}` });
        importMs.push(r.total);
        parseMs.push(r.parse);
        writeMs.push(r.write);
        segRenderMs.push(r.render);
        segRows = r.rows;
      }
    }

    const bare = await bareWrites(page, base, RUNS);

    // Library of 1,000 materials, written straight into IndexedDB.
    await page.goto(`${base}/status`);
    await page.getByTestId('clock-sample').waitFor();
    await page.evaluate(async (n) => {
      const db = await new Promise((resolve, reject) => {
        const r = indexedDB.open('echoloop');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction(['materials'], 'readwrite');
      const store = tx.objectStore('materials');
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        const title = `Material ${String(i).padStart(4, '0')}`;
        store.put({ id: crypto.randomUUID(), title, searchTitle: title.toLowerCase(), type: i % 2 ? 'audio' : 'video', syncStatus: 'local', createdAt: now - i, updatedAt: now - i, sourceType: 'local_upload', durationMs: 60000, segmentCount: 20, hasTranslations: false });
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }, MATERIALS);
    const total = MATERIALS + RUNS;
    const libraryMs = [];
    let libCards = 0;
    for (let run = 0; run < RUNS; run++) {
      await page.goto(`${base}/status`);
      await page.getByTestId('clock-sample').waitFor();
      libraryMs.push(
        await page.evaluate(async (total) => {
          performance.clearMarks('echoloop:library-rendered');
          const t0 = performance.now();
          document.querySelector('nav a[href="/"]').click();
          for (;;) {
            const m = performance.getEntriesByName('echoloop:library-rendered').at(-1);
            const cards = document.querySelectorAll('[data-testid="material-card"]').length;
            if (m && cards > 0) return { ms: m.startTime - t0, cards, total };
            await new Promise((r) => setTimeout(r, 5));
          }
        }, total).then((r) => {
          libCards = r.cards;
          return r.ms;
        }),
      );
    }

    const fmt = (xs) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
    const rows = [
      [`import ${CUES} cues: wasm parse + IndexedDB write`, fmt(importMs), '< 200 ms'],
      [`… of which wasm parse (SRT → segments)`, fmt(parseMs), '—'],
      [`… of which IndexedDB transaction (material, blob, ${CUES} segments, outbox)`, fmt(writeMs), '—'],
      [`first render of the ${CUES}-segment list (${segRows} rows in the first frame, the rest streamed in)`, fmt(segRenderMs), '< 200 ms'],
      [`… floor: bare IndexedDB, the same ${CUES} rows in one transaction, 3 segment indexes (schema ≤ v5)`, fmt(bare.threeIndexes), '—'],
      [`… floor: bare IndexedDB, the same ${CUES} rows, 1 index (schema v6)`, fmt(bare.oneIndex), '—'],
      ...(BASELINE
        ? [
            [`baseline (${path.basename(BASELINE)}), same run: import ${CUES} cues`, `${fmt(baseline.total)}; this build ${(median(importMs) / median(baseline.total)).toFixed(2)}×`, '—'],
            [`… baseline wasm parse`, fmt(baseline.parse), '—'],
            [`… baseline IndexedDB transaction`, `${fmt(baseline.write)}; this build ${(median(writeMs) / median(baseline.write)).toFixed(2)}×`, '—'],
            [`… baseline first render of the segment list`, fmt(baseline.render), '—'],
          ]
        : []),
      [`first render of a ${total}-material library (${libCards} cards, more on scroll)`, fmt(libraryMs), '< 200 ms'],
    ];
    console.log(`Web client benchmarks — headless Chromium ${context.browser()?.version() ?? ''}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}, median of ${RUNS}`);
    console.log('| measurement | median (min, max) | target |\n| --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    const fail = median(importMs) >= 200 || median(segRenderMs) >= 200 || median(libraryMs) >= 200;
    if (fail) console.log('TARGET MISSED');
  } finally {
    await context.close();
    server.close();
    baselineServer?.close();
    await rm(userDataDir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
