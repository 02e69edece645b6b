// The demo's API console (`demo/console.html`) clicked through in headless Chromium, as a
// person would: status, each factor added (QR code and backup codes, a magic link landed
// and used, email and SMS codes read from the local inbox, a passkey through the virtual
// authenticator),
// logins with an authenticator code, the remembered device, a backup code, a passkey, a
// login link, the factor list with rename and remove, the events, and a reset; and beside
// it, a second user adding email codes and logging in with one, and a third doing the same
// with SMS codes. A user gets one message a minute, so no user of the walk is sent two:
// the logins by a login link, an email code and an SMS code are each taken by a user of
// their own, whose factor the test put in the store beforehand.
// Any error the page shows fails the walk. Screenshots of the key screens go to
// $MFA_TEST_LOG_DIR/demo/.
//
// Environment: MFA_API_URL, MFA_RP_ORIGIN, MFA_SES_STORE_URL, MFA_SNS_STORE_URL,
// MFA_TEST_LOG_DIR, BROWSER_TOKEN, BROWSER_EMAIL, and BROWSER2_TOKEN, BROWSER2_EMAIL for
// a second user, BROWSER3_TOKEN, BROWSER3_PHONE for a third; BROWSER4_TOKEN,
// BROWSER4_EMAIL (magic links on), BROWSER5_TOKEN, BROWSER5_EMAIL (email codes on) and
// BROWSER6_TOKEN, BROWSER6_PHONE (SMS codes on) for the users who log in with a message.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { browserWithAuthenticator } from './chromium.mjs';
import { serve } from '../../demo/server.mjs';

const origin = new URL(process.env.MFA_RP_ORIGIN);
const email = process.env.BROWSER_EMAIL;
const email2 = process.env.BROWSER2_EMAIL;
const phone3 = process.env.BROWSER3_PHONE;
const email4 = process.env.BROWSER4_EMAIL;
const email5 = process.env.BROWSER5_EMAIL;
const phone6 = process.env.BROWSER6_PHONE;
const shots = path.join(process.env.MFA_TEST_LOG_DIR || '/tmp', 'demo');
mkdirSync(shots, { recursive: true });
const steps = [];
const screenshots = [];

const server = await serve(Number(origin.port));
const { browser, tab } = await browserWithAuthenticator();

const totp = (secret, later = 0) =>
  execFileSync('oathtool', ['--totp', '-b', ...(later ? ['-N', `now + ${later} seconds`] : []), secret]).toString().trim();
const inbox = async () => (await fetch(new URL('/inbox', origin))).json();
const code = (text) => /\b(\d{6})\b/.exec(text)?.[1];
const linkToken = (text) => {
  const found = /token=([A-Za-z0-9_.%-]+)/.exec(text);
  if (!found) throw new Error(`no link in the mail: ${text.slice(0, 80)}…`);
  return decodeURIComponent(found[1]);
};

/// The page helpers for one tab: each walk (one demo user) has its own tab, with its own
/// storage.
function walker(tab) {
  const logLength = () => tab.locator('#log li').count();

  /// Clicks `id` and waits for the page to log the API's `answers` (a passkey ceremony makes
  /// two requests: the next click must not come while the second is on its way); fails on
  /// a shown error.
  async function click(id, step, answers = 1) {
    const before = await logLength();
    await tab.click(`#${id}`);
    await tab.waitForFunction(
      (n) => document.querySelectorAll('#log li').length >= n || document.getElementById('error').textContent,
      before + answers,
      { timeout: 15000 },
    );
    await tab.waitForTimeout(100);
    const error = (await tab.textContent('#error')).trim();
    if (error) throw new Error(`${step}: the page shows an error: ${error}`);
    steps.push(step);
  }

  async function shot(name) {
    const file = path.join(shots, `${String(screenshots.length + 1).padStart(2, '0')}-${name}.png`);
    screenshots.push(file);
    await tab.screenshot({ path: file, fullPage: true });
  }

  const session = async () => (await tab.textContent('#session')).trim();
  return { tab, click, shot, session };
}

/// The newest message to `to`, among those that arrived after `count` of them were there,
/// that `wanted` picks (a code or a link: change notices go to the same address).
async function newest(kind, to, count, wanted = (text) => text.includes('token=')) {
  for (let i = 0; i < 50; i++) {
    const box = await inbox();
    const list = (kind === 'mail' ? box.mails.filter((m) => m.to.includes(to)) : box.texts.filter((t) => t.to === to));
    const fresh = list.slice(0, Math.max(0, list.length - count)).find((m) => wanted(m.text));
    if (fresh) return fresh.text;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`no new ${kind} to ${to}`);
}
const count = async (kind, to) => {
  const box = await inbox();
  return (kind === 'mail' ? box.mails.filter((m) => m.to.includes(to)) : box.texts.filter((t) => t.to === to)).length;
};
const isCode = (t) => !t.includes('token=') && code(t);
const accessToken = (tab) => tab.evaluate(() => localStorage.getItem('accessToken'));

/// Opens a mailed link's `token` on the demo's landing page (built on the UI kit) and uses
/// it there (the page POSTs it); fails on an error the page shows.
async function useLink(tab, token, step) {
  await tab.goto(new URL(`/mfa/magic-link?token=${encodeURIComponent(token)}`, origin).href);
  await tab.getByRole('button', { name: /Finish signing in|Turn on sign-in links/ }).click();
  await tab.locator('#next:not([hidden]), [part="error"]:not(:empty)').first().waitFor();
  const error = (await tab.locator('[part="error"]').allTextContents()).join('').trim();
  if (error) throw new Error(`${step}: the landing page shows an error: ${error}`);
  steps.push(step);
}

/// The first demo user: every factor but the code logins, and a reset.
async function everyFactor({ tab, click, shot, session }) {
  await tab.goto(new URL(`/console?token=${process.env.BROWSER_TOKEN}`, origin).href);
  await click('status', 'status');
  if (!(await tab.textContent('#status-out')).includes('enabledMethods')) throw new Error('status shows no methods');
  await shot('status');

  // An authenticator: QR code, secret and backup codes, verified with an independent TOTP.
  await click('add-totp', 'add an authenticator');
  if (!(await tab.getAttribute('#qr', 'src')).startsWith('data:image/png;base64,')) throw new Error('no QR code');
  const secret = (await tab.textContent('#secret')).trim();
  const backup = (await tab.textContent('#backup')).trim().split(/\s+/);
  // What the run was given is scanned for in the table and the logs at the end.
  if (process.env.MFA_TEST_SECRETS) appendFileSync(process.env.MFA_TEST_SECRETS, [secret, ...backup, ''].join('\n'));
  await shot('authenticator-qr-and-backup-codes');
  await tab.fill('#totp-code', totp(secret));
  await click('verify-totp', 'verify the authenticator');

  // Log in with it, remembering the device.
  await tab.selectOption('#login-method', 'GOOGLE_AUTH');
  await tab.fill('#login-code', totp(secret, 30));
  await tab.check('#remember');
  await click('login', 'log in with an authenticator code, remembering the device');
  if (!(await session()).startsWith('logged in')) throw new Error('no session after the login');
  await shot('logged-in');
  // The remembered device logs in alone (until the sign-in methods change); such a session
  // is no fresh second factor, so a backup code logs in again before factors are added.
  await click('login-device', 'log in with the remembered device');
  await tab.selectOption('#login-method', 'BACKUP_CODE');
  await tab.fill('#login-code', backup[0]);
  await click('login', 'log in with a backup code');

  // Magic links: the activation mail lands on the demo's landing page, which POSTs it.
  const mails = await count('mail', email);
  await click('add-link', 'add magic links');
  const activation = linkToken(await newest('mail', email, mails));
  await useLink(tab, activation, 'activate the magic link on the landing page');
  await shot('magic-link-landing');
  await tab.goto(new URL('/console', origin).href);

  // A passkey, and a login with it.
  await click('add-passkey', 'add a passkey', 2);
  await click('login-passkey', 'log in with the passkey', 2);

  // The factor list: rename the passkey, remove the authenticator (a fresh session: no
  // prompt).
  await click('factors', 'list the factors');
  await tab.fill('#factor-list li[data-mfa-type="PASSKEY"] input.name', 'Work laptop');
  await click('factor-list li[data-mfa-type="PASSKEY"] button.rename', 'rename the passkey');
  await tab.waitForSelector('#factor-list li[data-mfa-type="PASSKEY"] input.name');
  if ((await tab.inputValue('#factor-list li[data-mfa-type="PASSKEY"] input.name')) !== 'Work laptop') throw new Error('the rename did not show');
  await click('factor-list li[data-mfa-type="GOOGLE_AUTH"] button.remove', 'remove the authenticator');
  await tab.waitForFunction(() => !document.querySelector('#factor-list li[data-mfa-type="GOOGLE_AUTH"]'));
  await shot('factors');

  // The events, then a reset in a fresh session.
  await click('events', 'show the events');
  if ((await tab.locator('#event-list li').count()) === 0) throw new Error('no events listed');
  await shot('events');
  await click('login-passkey', 'log in with the passkey again', 2);
  await click('reset', 'reset MFA');
  await click('status', 'status after the reset');
  if (!(await tab.textContent('#status-out')).includes('"enabledMethods": []')) throw new Error('MFA is still on after the reset');
  await shot('reset');
}

/// The second demo user, beside the first: email codes added, read from the local inbox,
/// and a login with one.
async function emailCodes({ tab, click, shot }) {
  await tab.goto(new URL(`/console?token=${process.env.BROWSER2_TOKEN}`, origin).href);
  const mails = await count('mail', email2);
  await click('add-email', 'second user: add email codes');
  await tab.fill('#email-code', code(await newest('mail', email2, mails, isCode)));
  await click('verify-email', 'second user: verify the email code');
}

/// A fourth user, with magic links on: a login link, sent and used on the landing page.
async function linkLogin({ tab, click }) {
  await tab.goto(new URL(`/console?token=${process.env.BROWSER4_TOKEN}`, origin).href);
  const mails = await count('mail', email4);
  await click('send-link', 'send a login link');
  const login = linkToken(await newest('mail', email4, mails));
  await useLink(tab, login, 'log in with the login link');
}

/// A fifth user, with email codes on: a login with a code read from the local inbox.
async function emailLogin({ tab, click, shot, session }) {
  await tab.goto(new URL(`/console?token=${process.env.BROWSER5_TOKEN}`, origin).href);
  await tab.selectOption('#login-method', 'EMAIL_OTP');
  const mails = await count('mail', email5);
  await click('send-code', 'fifth user: send a login code by mail');
  await tab.fill('#login-code', code(await newest('mail', email5, mails, isCode)));
  await click('login', 'log in with an email code');
  if (!(await session()).startsWith('logged in')) throw new Error('no session after the email-code login');
  await shot('email-code-login');
}

/// The third demo user, beside the others: SMS codes added, read from the local inbox,
/// and a login with one.
async function smsCodes({ tab, click, shot }) {
  await tab.goto(new URL(`/console?token=${process.env.BROWSER3_TOKEN}`, origin).href);
  const texts = await count('text', phone3);
  await tab.fill('#phone', phone3);
  await click('add-sms', 'third user: add SMS codes');
  await tab.fill('#sms-code', code(await newest('text', phone3, texts, code)));
  await click('verify-sms', 'third user: verify the SMS code');
  await tab.click('#inbox-refresh');
  await tab.waitForSelector('#inbox li.text');
  await shot('local-inbox');
}

/// A sixth user, with SMS codes on: a login with a code read from the local inbox.
async function smsLogin({ tab, click, shot }) {
  await tab.goto(new URL(`/console?token=${process.env.BROWSER6_TOKEN}`, origin).href);
  await tab.selectOption('#login-method', 'SMS');
  const texts = await count('text', phone6);
  await click('send-code', 'sixth user: send a login code by text');
  await tab.fill('#login-code', code(await newest('text', phone6, texts, code)));
  const before = await accessToken(tab);
  await click('login', 'log in with an SMS code');
  if ((await accessToken(tab)) === before) throw new Error('the SMS-code login started no new session');
  await shot('sms-code-login');
}

// The server answers only requests addressed to itself (DNS rebinding): a foreign `Host`
// or `Origin` is a 403, its own names are served.
async function hostIsChecked() {
  const status = (headers) => new Promise((ok, fail) => {
    const req = http.request({ host: '127.0.0.1', port: Number(origin.port), path: '/inbox', headers }, (res) => {
      res.resume();
      ok(res.statusCode);
    });
    req.on('error', fail);
    req.end();
  });
  const own = `localhost:${origin.port}`;
  const seen = {
    foreignHost: await status({ host: `attacker.example:${origin.port}` }),
    foreignOrigin: await status({ host: own, origin: 'http://attacker.example' }),
    ownHost: await status({ host: own }),
    ownLoopback: await status({ host: `127.0.0.1:${origin.port}`, origin: `http://127.0.0.1:${origin.port}` }),
  };
  const expected = { foreignHost: 403, foreignOrigin: 403, ownHost: 200, ownLoopback: 200 };
  if (JSON.stringify(seen) !== JSON.stringify(expected)) {
    throw new Error(`the demo server's Host check: ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
  }
  steps.push('the demo server refuses a foreign Host and Origin');
}

try {
  await hostIsChecked();
  await Promise.all([
    everyFactor(walker(tab)),
    emailCodes(walker(await browser.newPage())),
    smsCodes(walker(await browser.newPage())),
  ]);
  // Then the logins by message, together: six tabs at once would start on a stack whose
  // first mails and texts are still slow to answer.
  await Promise.all([
    linkLogin(walker(await browser.newPage())),
    emailLogin(walker(await browser.newPage())),
    smsLogin(walker(await browser.newPage())),
  ]);
  console.log(JSON.stringify({ steps, screenshots }));
} catch (e) {
  await walker(tab).shot('failure').catch(() => {});
  console.error(`demo walk failed after: ${steps.join(' / ')}`);
  throw e;
} finally {
  await browser.close();
  server.close();
}
