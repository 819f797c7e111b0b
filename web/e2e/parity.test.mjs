// The same subtitle file gives byte-identical JSON through the wasm build in
// the browser and through the native core (`echoloop subtitles import`, the
// server binary's command over the same core function).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, startServer, WEB_DIR } from './harness.mjs';

const ROOT = path.resolve(WEB_DIR, '..');
const FIXTURES = path.join(ROOT, 'crates/core/tests/fixtures/subtitles');
const BIN = process.env.ECHOLOOP_BIN;

let server;
let browser;
let page;

/** The native core's JSON for `file`, or the reason it was refused. */
function nativeImport(file) {
  const run = spawnSync(BIN, ['subtitles', 'import', file], {
    encoding: 'utf8',
    env: { ...process.env, ECHOLOOP_LOG: 'off' },
  });
  if (run.status === 0) return { json: run.stdout.replace(/\n$/, '') };
  const line = run.stderr.trim().split('\n').pop() ?? '';
  return { error: line.replace(`echoloop: error: cannot import ${file}: `, '') };
}

before(async () => {
  assert.ok(BIN, 'ECHOLOOP_BIN names the server binary');
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.goto(`${server.base}/status`);
  await page.getByTestId('inspect-input').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const files = existsSync(FIXTURES) ? readdirSync(FIXTURES).sort() : [];

test('core fixtures exist', () => assert.ok(files.length > 0, `no fixtures in ${FIXTURES}`));

for (const name of files) {
  test(`wasm and native JSON are byte-identical: ${name}`, async () => {
    const file = path.join(FIXTURES, name);
    const native = nativeImport(file);
    await page.getByTestId('inspect-input').setInputFiles(file);
    if (native.json !== undefined) {
      await page.getByTestId('core-json').waitFor();
      await page.waitForFunction((n) => document.querySelector('[data-testid="inspect-input"]')?.files?.[0]?.name === n, name);
      const wasm = await page.getByTestId('core-json').textContent();
      assert.equal(wasm, native.json);
    } else {
      // Both sides reject the file with the same message.
      await page.getByTestId('inspect-error').waitFor();
      const msg = await page.getByTestId('inspect-error').textContent();
      assert.equal(msg, `${name}: ${native.error}`);
    }
  });
}
