// The same subtitle file gives byte-identical JSON through the wasm build in
// the browser and through the native core (e2e/native-json, built here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startServer, WEB_DIR } from './harness.mjs';

const ROOT = path.resolve(WEB_DIR, '..');
const FIXTURES = path.join(ROOT, 'crates/core/tests/fixtures/subtitles');
const TOOL_DIR = fileURLToPath(new URL('./native-json/', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(homedir(), '.cache/echoloop/target');
const TOOL = path.join(TARGET, 'debug', 'echoloop-native-json');

let server;
let browser;
let page;

function buildTool() {
  execFileSync('cp', [path.join(ROOT, 'Cargo.lock'), path.join(TOOL_DIR, 'Cargo.lock')]);
  execFileSync('cargo', ['build', '--quiet', '--offline', '--manifest-path', path.join(TOOL_DIR, 'Cargo.toml')], {
    env: { ...process.env, CARGO_TARGET_DIR: TARGET },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

before(async () => {
  buildTool();
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
    const native = spawnSync(TOOL, [file], { encoding: 'utf8' });
    await page.getByTestId('inspect-input').setInputFiles(file);
    if (native.status === 0) {
      await page.getByTestId('core-json').waitFor();
      await page.waitForFunction((n) => document.querySelector('[data-testid="inspect-input"]')?.files?.[0]?.name === n, name);
      const wasm = await page.getByTestId('core-json').textContent();
      assert.equal(wasm, native.stdout);
    } else {
      // Both sides reject the file with the same message.
      await page.getByTestId('inspect-error').waitFor();
      const msg = await page.getByTestId('inspect-error').textContent();
      assert.equal(msg, `${name}: ${native.stdout.replace(/^ERROR: /, '')}`);
    }
  });
}
