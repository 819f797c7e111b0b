// Accounts end to end: sign-up → sign out → sign in → account page, field
// errors, languages, sessions, plan/billing off, export, offline, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchBrowser, screenshot, startServer } from './harness.mjs';
import { idbAll, idbCount } from './idb.mjs';

let server;
let browser;
let page;
let otherSession; // a second session, made with fetch, for the revoke test

const email = `learner-${Date.now()}@example.com`;
const password = 'correct horse battery';

const field = (label) => page.getByLabel(label, { exact: true });

async function signUpForm({ mail = email, pass = password, native = 'pt-BR' } = {}) {
  await page.goto(`${server.base}/signup`);
  await field('Email').fill(mail);
  await field('Password').fill(pass);
  await field('Native language').fill(native);
  await page.getByTestId('signup-submit').click();
}

async function signInForm(mail, pass) {
  await page.goto(`${server.base}/signin`);
  await field('Email').fill(mail);
  await field('Password').fill(pass);
  await page.getByTestId('signin-submit').click();
}

async function api(path, init = {}) {
  return fetch(`${server.base}/api/v1${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('signed out, the app works locally and the header offers sign-in', async () => {
  await page.goto(`${server.base}/`);
  await page.getByTestId('library-list').waitFor({ state: 'attached' });
  assert.equal((await page.getByTestId('account-control').textContent()).trim(), 'Sign in');
  await page.goto(`${server.base}/account`);
  await page.getByTestId('signed-out').waitFor();
});

test('sign-up → sign out → sign in → account page shows email, plan free and this session', async () => {
  await signUpForm();
  await page.getByTestId('account-page').waitFor();
  assert.equal(await page.getByTestId('account-email').textContent(), email);
  assert.match(await page.getByTestId('account-control').textContent(), new RegExp(email));
  const [stored] = await idbAll(page, 'auth');
  assert.equal(stored.user.email, email);
  assert.equal(stored.token.length, 43);

  await page.getByTestId('sign-out').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="account-control"]')?.textContent?.trim() === 'Sign in');
  assert.equal(await idbCount(page, 'auth'), 0);
  // The old token is dead on the server too.
  assert.equal((await api('/me', { headers: { Authorization: `Bearer ${stored.token}` } })).status, 401);

  await signInForm(email, password);
  await page.getByTestId('account-page').waitFor();
  assert.equal(await page.getByTestId('account-email').textContent(), email);
  await page.getByTestId('plan').waitFor();
  assert.equal(await page.getByTestId('plan').textContent(), 'free');
  const sessions = page.getByTestId('session');
  await sessions.first().waitFor();
  assert.equal(await sessions.count(), 1);
  assert.equal(await sessions.first().getAttribute('data-current'), 'true');
  assert.match(await page.getByTestId('usage-storage').textContent(), /^0 B of 500\.0 MB$/);
  assert.match(await page.getByTestId('backup-status').textContent(), /outbox|Nothing waiting/);
  await screenshot(page, 'account');
});

test('a duplicate email shows the taken message next to the email input', async () => {
  await signUpForm();
  await page.getByTestId('error-email').waitFor();
  assert.match(await page.getByTestId('error-email').textContent(), /already exists/);
  assert.equal(await field('Email').getAttribute('aria-invalid'), 'true');
});

test('short password and unknown language tag are named on their inputs', async () => {
  await signUpForm({ mail: `short-${Date.now()}@example.com`, pass: 'short' });
  await page.getByTestId('error-password').waitFor();
  assert.match(await page.getByTestId('error-password').textContent(), /8 to 1024/);
  await signUpForm({ mail: `lang-${Date.now()}@example.com`, native: 'qqq-notalanguage' });
  await page.getByTestId('error-native_language').waitFor();
  assert.match(await page.getByTestId('error-native_language').textContent(), /language tag/);
});

test('a wrong password gives the same message whether or not the email exists', async () => {
  await signInForm(email, 'wrong password!!');
  const alert = page.getByTestId('notice-error');
  await alert.waitFor();
  const known = await alert.textContent();
  await signInForm(`nobody-${Date.now()}@example.com`, 'wrong password!!');
  await alert.waitFor();
  const unknown = await alert.textContent();
  assert.equal(known, unknown);
  assert.match(known, /Email or password is not correct/);
  assert.doesNotMatch(known, /exist|not found|unknown/i);
});

test('native language change persists after reload and on the server', async () => {
  await signInForm(email, password);
  await page.getByTestId('account-page').waitFor();
  const native = page.getByTestId('languages-form').getByLabel('Native language', { exact: true });
  await native.fill('fr');
  await page.getByTestId('languages-save').click();
  await page.getByTestId('languages-form').locator('..').getByTestId('notice-success').waitFor();
  await page.reload();
  await page.getByTestId('account-page').waitFor();
  assert.equal(await page.getByTestId('languages-form').getByLabel('Native language', { exact: true }).inputValue(), 'fr');
  const res = await api('/sessions', { method: 'POST', body: JSON.stringify({ email, password }) });
  assert.equal(res.status, 201);
  const other = await res.json();
  assert.equal(other.user.native_language, 'fr');
  otherSession = { id: other.session.id, token: other.token };
});

test('revoking another session removes it from the list and kills its token', async () => {
  const other = otherSession;
  await page.reload();
  const row = page.locator(`[data-testid="session"][data-session-id="${other.id}"]`);
  await row.waitFor();
  assert.equal(await page.getByTestId('session').count(), 2);
  await row.getByTestId('revoke-session').click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('session').count(), 1);
  assert.equal((await api('/me', { headers: { Authorization: `Bearer ${other.token}` } })).status, 401);
});

test('upgrade says clearly that billing is off on this server', async () => {
  await page.getByTestId('upgrade').click();
  const msg = page.getByTestId('upgrade').locator('..').getByTestId('notice-error');
  await msg.waitFor();
  assert.match(await msg.textContent(), /billing is not configured/);
});

test('export downloads the account JSON document', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
  assert.match(download.suggestedFilename(), /\.json$/);
  const doc = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.ok(doc.format);
  assert.equal(doc.account.email, email);
  assert.ok(Array.isArray(doc.sessions));
});

test('server unreachable: the account page says offline and keeps the saved account', async () => {
  await page.route('**/api/v1/**', (route) => route.abort());
  await page.reload();
  await page.getByTestId('account-page').waitFor();
  await page.getByText('The server cannot be reached').first().waitFor();
  assert.equal(await page.getByTestId('account-email').textContent(), email);
  assert.equal(await idbCount(page, 'auth'), 1);
  await page.unroute('**/api/v1/**');
});

test('delete account: wrong password refused, then closed; signed out here, local data stays', async () => {
  await page.reload();
  await page.getByTestId('account-page').waitFor();
  const outboxBefore = await idbCount(page, 'outbox');
  await page.getByTestId('delete-account').click();
  const form = page.getByTestId('delete-form');
  await form.getByLabel('Password to confirm', { exact: true }).fill('not my password');
  await page.getByTestId('delete-confirm').click();
  await form.getByTestId('error-password').waitFor();
  await form.getByLabel('Password to confirm', { exact: true }).fill(password);
  await page.getByTestId('delete-confirm').click();
  await page.getByTestId('signed-out').waitFor();
  await page.getByText('Your account was closed').waitFor();
  assert.equal(await idbCount(page, 'auth'), 0);
  assert.equal(await idbCount(page, 'outbox'), outboxBefore);
  const res = await api('/sessions', { method: 'POST', body: JSON.stringify({ email, password }) });
  assert.equal(res.status, 401);
});
