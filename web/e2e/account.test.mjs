// Accounts end to end: sign-up → sign out → sign in → account page, field
// errors, languages, sessions, plan/billing off, export, offline, delete;
// change email, change password, sign out everywhere; Checkout and the
// Billing Portal against a fake Stripe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { freePort, launchBrowser, screenshot, startServer } from './harness.mjs';
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

async function api(path, init = {}, base = server.base) {
  return fetch(`${base}/api/v1${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });
}

/** Logs in through the API: the HTTP status, and the token when it worked. */
async function apiLogin(mail, pass) {
  const res = await api('/sessions', { method: 'POST', body: JSON.stringify({ email: mail, password: pass }) });
  return { status: res.status, token: res.status === 201 ? (await res.json()).token : undefined };
}

/** A fresh account made through the API (its sign-up session ended at once). */
async function createAccount(prefix) {
  const mail = `${prefix}-${Date.now()}@example.com`;
  const res = await api('/accounts', { method: 'POST', body: JSON.stringify({ email: mail, password, native_language: 'en' }) });
  assert.equal(res.status, 201);
  const { token } = await res.json();
  assert.equal((await api('/sessions/current', { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } })).status, 204);
  return mail;
}

async function signedInAs(mail, pass = password) {
  await signInForm(mail, pass);
  await page.getByTestId('account-page').waitFor();
  assert.equal(await page.getByTestId('account-email').textContent(), mail);
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
  await page.locator('[data-testid="backup-panel"][data-state="synced"]').waitFor();
  assert.match(await page.getByTestId('backup-status').textContent(), /Everything on this device is backed up/);
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

test('billing off: no billing portal button; upgrade says so and stays disabled with the reason', async () => {
  await page.getByTestId('plan').waitFor();
  assert.equal(await page.getByTestId('manage-billing').count(), 0);
  await page.getByTestId('upgrade').click();
  const msg = page.getByTestId('plan-section').getByTestId('notice-error');
  await msg.waitFor();
  assert.match(await msg.textContent(), /billing is not configured/);
  assert.equal(await page.getByTestId('upgrade').isDisabled(), true);
  // The disabled button names its reason to assistive technology.
  const reason = await page.getByTestId('upgrade').getAttribute('aria-describedby');
  assert.match(await page.locator(`[id="${reason}"]`).textContent(), /billing is not configured/);
  assert.equal(await page.getByTestId('manage-billing').count(), 0);
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

test('change email, then sign in with the new email (the old one no longer works)', async () => {
  const before = await createAccount('mover');
  const after = before.replace('mover-', 'moved-');
  await signedInAs(before);
  const form = page.getByTestId('email-form');
  await form.getByLabel('New email', { exact: true }).fill(after);
  await form.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByTestId('email-save').click();
  await form.getByTestId('notice-success').waitFor();
  assert.match(await form.getByTestId('notice-success').textContent(), new RegExp(after));
  // The page, the header and the stored account follow at once.
  await page.waitForFunction((mail) => document.querySelector('[data-testid="account-email"]')?.textContent === mail, after);
  assert.match(await page.getByTestId('account-control').textContent(), new RegExp(after));
  assert.equal((await form.getByLabel('Current password', { exact: true }).inputValue()), '');

  await page.getByTestId('sign-out').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="account-control"]')?.textContent?.trim() === 'Sign in');
  await signedInAs(after);
  assert.equal((await apiLogin(before, password)).status, 401);
});

test('a wrong current password or a taken email is named next to its input, and nothing changes', async () => {
  const mail = await page.getByTestId('account-email').textContent();
  const taken = await createAccount('taken');
  const emailForm = page.getByTestId('email-form');
  const newEmail = `never-${Date.now()}@example.com`;
  await emailForm.getByLabel('New email', { exact: true }).fill(newEmail);
  await emailForm.getByLabel('Current password', { exact: true }).fill('not my password');
  await page.getByTestId('email-save').click();
  const err = emailForm.getByTestId('error-current_password');
  await err.waitFor();
  assert.match(await err.textContent(), /password is not correct/);
  assert.equal(await emailForm.getByLabel('Current password', { exact: true }).getAttribute('aria-invalid'), 'true');
  // Focus lands on the refused input, whose description is the message.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'current_password');
  assert.equal(await emailForm.getByLabel('New email', { exact: true }).getAttribute('aria-invalid'), null);

  await emailForm.getByLabel('New email', { exact: true }).fill(taken);
  await emailForm.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByTestId('email-save').click();
  await emailForm.getByTestId('error-email').waitFor();
  assert.match(await emailForm.getByTestId('error-email').textContent(), /already uses this email/);
  assert.equal(await emailForm.getByTestId('error-current_password').count(), 0);

  const passwordForm = page.getByTestId('password-form');
  await passwordForm.getByLabel('Current password', { exact: true }).fill('not my password');
  await passwordForm.getByLabel('New password', { exact: true }).fill('a brand new password');
  await page.getByTestId('password-save').click();
  await passwordForm.getByTestId('error-current_password').waitFor();
  assert.match(await passwordForm.getByTestId('error-current_password').textContent(), /password is not correct/);
  assert.equal(await passwordForm.getByTestId('notice-success').count(), 0);

  // Nothing changed on the server: same email, same password, the other account untouched.
  assert.equal(await page.getByTestId('account-email').textContent(), mail);
  const login = await apiLogin(mail, password);
  assert.equal(login.status, 201);
  assert.equal((await (await api('/me', { headers: { Authorization: `Bearer ${login.token}` } })).json()).email, mail);
  assert.equal((await apiLogin(mail, 'a brand new password')).status, 401);
  assert.equal((await apiLogin(newEmail, password)).status, 401);
  assert.equal((await apiLogin(taken, password)).status, 201);
  await api('/sessions/current', { method: 'DELETE', headers: { Authorization: `Bearer ${login.token}` } });
});

test('change password: the old one fails, the new one works, and another browser is signed out', async () => {
  const mail = await createAccount('rekey');
  const next = 'another long passphrase';
  await signedInAs(mail);
  const second = await launchBrowser();
  try {
    const other = await second.context.newPage();
    await other.goto(`${server.base}/signin`);
    await other.getByLabel('Email', { exact: true }).fill(mail);
    await other.getByLabel('Password', { exact: true }).fill(password);
    await other.getByTestId('signin-submit').click();
    await other.getByTestId('account-page').waitFor();
    await page.reload();
    await page.getByTestId('session').nth(1).waitFor();
    assert.equal(await page.getByTestId('session').count(), 2);

    const form = page.getByTestId('password-form');
    await form.getByLabel('Current password', { exact: true }).fill(password);
    await form.getByLabel('New password', { exact: true }).fill(next);
    await page.getByTestId('password-save').click();
    await form.getByTestId('notice-success').waitFor();
    assert.match(await form.getByTestId('notice-success').textContent(), /Every other device was signed out; this one stays signed in/);
    // The list is reloaded: only this device is left, and it still works.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="session"]').length === 1);
    assert.equal(await page.getByTestId('session').first().getAttribute('data-current'), 'true');
    assert.equal(await idbCount(page, 'auth'), 1);

    // The other browser finds its session gone on its next request and signs out there.
    await other.reload();
    await other.getByTestId('signed-out').waitFor();
    assert.equal(await idbCount(other, 'auth'), 0);
  } finally {
    await second.close();
  }

  assert.equal((await apiLogin(mail, password)).status, 401);
  await page.getByTestId('sign-out').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="account-control"]')?.textContent?.trim() === 'Sign in');
  await signInForm(mail, password);
  await page.getByTestId('notice-error').waitFor();
  assert.match(await page.getByTestId('notice-error').textContent(), /Email or password is not correct/);
  await signedInAs(mail, next);
});

test('sign out everywhere ends every session, this device too', async () => {
  const mail = await page.getByTestId('account-email').textContent();
  const [stored] = await idbAll(page, 'auth');
  const other = await apiLogin(mail, 'another long passphrase');
  assert.equal(other.status, 201);
  await page.getByTestId('sign-out-everywhere').click();
  await page.getByTestId('signed-out').waitFor();
  await page.getByText('You were signed out on every device').waitFor();
  assert.equal(await idbCount(page, 'auth'), 0);
  assert.equal((await page.getByTestId('account-control').textContent()).trim(), 'Sign in');
  for (const token of [stored.token, other.token]) {
    assert.equal((await api('/me', { headers: { Authorization: `Bearer ${token}` } })).status, 401);
  }
});

/** A stand-in for api.stripe.com: customers, Checkout and Portal sessions, and their pages. */
async function startFakeStripe() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const calls = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const json = (value) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST') calls.push({ path: req.url, form, auth: req.headers.authorization });
      if (req.method === 'POST' && req.url === '/v1/customers') return json({ id: 'cus_fake_1' });
      if (req.method === 'POST' && req.url === '/v1/checkout/sessions') return json({ id: 'cs_fake_1', url: `${base}/pay/cs_fake_1` });
      if (req.method === 'POST' && req.url === '/v1/billing_portal/sessions') return json({ id: 'bps_fake_1', url: `${base}/portal/bps_fake_1` });
      if (req.method === 'GET' && /^\/(pay|portal)\//.test(req.url)) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end(`<!doctype html><title>Fake Stripe</title><h1 data-testid="fake-stripe">${req.url}</h1>`);
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no such route ${req.method} ${req.url}` } }));
    });
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return {
    base,
    calls,
    stop: () =>
      new Promise((resolve) => {
        srv.close(resolve);
        srv.closeAllConnections(); // keep-alive sockets of the browser and the server's client
      }),
  };
}

// Last: restarts the server (same data, so no new cluster) with billing on.
test('billing on (fake Stripe): upgrade goes to Checkout, then "Manage billing" opens the Billing Portal', async () => {
  const stripe = await startFakeStripe();
  const port = await freePort();
  await server.stop();
  server = await startServer({
    port,
    dataDir: server.dataDir,
    env: {
      STRIPE_SECRET_KEY: 'sk_test_fake',
      STRIPE_WEBHOOK_SECRET: 'whsec_fake',
      STRIPE_PRO_PRICE_ID: 'price_pro_fake',
      STRIPE_API_BASE: stripe.base,
      ECHOLOOP_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
  });
  const billed = server;
  try {
    const mail = `payer-${Date.now()}@example.com`;
    await page.goto(`${billed.base}/signup`);
    await field('Email').fill(mail);
    await field('Password').fill(password);
    await field('Native language').fill('en');
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('account-page').waitFor();
    await page.getByTestId('plan').waitFor();
    // No Stripe customer yet: nothing to manage.
    assert.equal(await page.getByTestId('manage-billing').count(), 0);

    await page.getByTestId('upgrade').click();
    await page.waitForURL(`${stripe.base}/pay/cs_fake_1`);
    const checkout = stripe.calls.find((c) => c.path === '/v1/checkout/sessions');
    assert.equal(checkout.form.customer, 'cus_fake_1');
    assert.equal(checkout.form.success_url, `${billed.base}/billing/success?session_id={CHECKOUT_SESSION_ID}`);

    // Stripe sends the learner back: the account page says what happens next.
    await page.goto(`${billed.base}/billing/success?session_id=cs_fake_1`);
    await page.getByTestId('account-page').waitFor();
    assert.equal(new URL(page.url()).pathname, '/account');
    await page.getByTestId('plan-section').getByTestId('notice-success').waitFor();

    const manage = page.getByTestId('manage-billing');
    await manage.waitFor();
    assert.equal(await manage.isEnabled(), true);
    await manage.click();
    await page.waitForURL(`${stripe.base}/portal/bps_fake_1`);
    const portal = stripe.calls.find((c) => c.path === '/v1/billing_portal/sessions');
    assert.equal(portal.form.customer, 'cus_fake_1');
    assert.equal(portal.form.return_url, `${billed.base}/settings/billing`);
    assert.equal(portal.auth, 'Bearer sk_test_fake');

    // The portal's return URL is the account page, not a dead end.
    await page.goto(`${billed.base}/settings/billing`);
    await page.getByTestId('account-page').waitFor();
    assert.equal(new URL(page.url()).pathname, '/account');
    await page.getByTestId('manage-billing').waitFor();
  } finally {
    await stripe.stop();
  }
});
