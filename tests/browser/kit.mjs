// The demo journey built on the UI kit (`ui/mfa-elements.js`), driven in headless Chromium
// as a person would: the stand-in sign-in page, then <mfa-challenge> or, for a user without
// MFA, <mfa-enroll>, then the account page's <mfa-factors>. Every method is enrolled and
// used to log in (the passkey through the virtual authenticator, codes and links read from
// the local SES and SNS), a factor is removed with the step-up done in place, and a lockout
// is shown with the time to wait. Every screen is checked with axe-core (0 violations
// wanted) and shot at 390 × 844 and 1280 × 800 into $MFA_TEST_LOG_DIR/kit/.
//
// Users (environment): KIT1_TOKEN (no MFA: the authenticator, the passkey, a remembered
// device, the step-up and recovery codes), KIT2_TOKEN/KIT2_EMAIL (enrols email codes),
// KIT3_TOKEN/KIT3_PHONE (enrols SMS codes), KIT4_TOKEN/KIT4_EMAIL (enrols sign-in links),
// KIT5_TOKEN/KIT5_EMAIL (email codes on: logs in with one), KIT6_TOKEN/KIT6_PHONE (SMS on:
// logs in with one), KIT7_TOKEN/KIT7_EMAIL (links on: logs in with one), KIT8_TOKEN (an
// authenticator on: locked out by wrong codes). One message per user, so none waits for
// the per-minute limit. Also MFA_RP_ORIGIN, MFA_SES_STORE_URL, MFA_SNS_STORE_URL.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserWithAuthenticator } from './chromium.mjs';
import { serve } from '../../demo/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const axePath = path.join(root, 'local/node_modules/axe-core/axe.min.js');
const origin = new URL(process.env.MFA_RP_ORIGIN);
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const shots = path.join(process.env.MFA_TEST_LOG_DIR || '/tmp', 'kit');
mkdirSync(shots, { recursive: true });
const steps = [];
const screens = [];
let shot = 0;

const server = await serve(Number(origin.port));
const { browser, tab: firstTab } = await browserWithAuthenticator();

const totp = (secret, later = 0) =>
  execFileSync('oathtool', ['--totp', '-b', ...(later ? ['-N', `now + ${later} seconds`] : []), secret]).toString().trim();
const inbox = async () => (await fetch(new URL('/inbox', origin))).json();
const sixDigits = (text) => /\b(\d{6})\b/.exec(text)?.[1];
const linkToken = (text) => {
  const found = /token=([A-Za-z0-9_.%-]+)/.exec(text);
  if (!found) throw new Error(`no link in the mail: ${text.slice(0, 80)}…`);
  return decodeURIComponent(found[1]);
};
const messages = async (kind, to) => {
  const box = await inbox();
  return kind === 'mail' ? box.mails.filter((m) => m.to.includes(to)) : box.texts.filter((t) => t.to === to);
};
/// The first message to `to` that `wanted` picks, waiting for it.
async function message(kind, to, wanted) {
  for (let i = 0; i < 75; i++) {
    const found = (await messages(kind, to)).find((m) => wanted(m.text));
    if (found) return found.text;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`no ${kind} to ${to}`);
}
const isCode = (text) => !text.includes('token=') && sixDigits(text);
const isLink = (text) => text.includes('token=');

/// The shown errors of every element of the kit on the page (shadow roots included).
const errors = async (tab) => (await tab.locator('[part="error"]').allTextContents()).map((s) => s.trim()).filter(Boolean);

async function ok(tab, step) {
  const shown = await errors(tab);
  if (shown.length) throw new Error(`${step}: the page shows an error: ${shown.join(' | ')}`);
  steps.push(step);
}

/// Checks the screen with axe-core and shoots it at a phone's and a laptop's size.
async function axe(tab) {
  await tab.waitForTimeout(150);
  if (!(await tab.evaluate(() => typeof window.axe === 'object'))) await tab.addScriptTag({ path: axePath });
  return tab.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      passed: result.passes.length,
      violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })),
    };
  });
}

async function screen(tab, name) {
  const number = String(++shot).padStart(2, '0');
  const { passed, violations: found } = await axe(tab);
  await tab.setViewportSize({ width: 360, height: 780 });
  const wide = await tab.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 360) throw new Error(`${name} is ${wide} px wide at a 360 px viewport`);
  const files = [];
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    await tab.setViewportSize({ width, height });
    const file = path.join(shots, `${number}-${name}-${width}x${height}.png`);
    await tab.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  screens.push({ name, passed, violations: found, screenshots: files });
}

/// axe-core sees into the elements' shadow roots: an unlabelled field put into one is found.
async function axeSeesShadowRoots(tab) {
  await tab.evaluate(() => {
    const probe = document.createElement('div');
    probe.id = 'axe-probe';
    probe.attachShadow({ mode: 'open' }).innerHTML = '<input type="text">';
    document.querySelector('main').append(probe);
  });
  const { violations } = await axe(tab);
  await tab.evaluate(() => document.getElementById('axe-probe').remove());
  if (!violations.some((v) => v.id === 'label')) throw new Error(`axe-core missed an unlabelled field in a shadow root: ${JSON.stringify(violations)}`);
  steps.push('axe-core finds an unlabelled field in a shadow root');
}

async function signIn(tab, token, then) {
  await tab.goto(new URL(`/?token=${token}`, origin).href);
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await tab.waitForURL(`**${then}`);
}

/// The challenge's panel for `method` (by its heading), choosing it among the other ways
/// when it is not the first offered.
async function pick(tab, label, scope = tab.locator('mfa-challenge').first()) {
  const heading = scope.getByRole('heading', { name: label, exact: true });
  await scope.getByRole('heading', { level: 3 }).first().waitFor();
  if (!(await heading.isVisible())) await scope.getByRole('button', { name: label, exact: true }).click();
  await heading.waitFor();
}

/// User 1: enrols an authenticator (QR code, recovery codes), logs in with it remembering
/// the device, adds a passkey on the account page, logs in with the passkey and with the
/// remembered device, removes the authenticator with the step-up in place, gets new
/// recovery codes and logs in with one.
async function everything(tab) {
  // The API paths the page asks for: the challenge learns from the status whether the
  // device may be remembered, with no request of its own for it.
  const asked = [];
  tab.on('request', (request) => asked.push(new URL(request.url()).pathname));
  await tab.goto(origin.href);
  await axeSeesShadowRoots(tab);
  await screen(tab, 'sign-in');
  await signIn(tab, env('KIT1_TOKEN'), '/enroll');
  const enroll = tab.locator('mfa-enroll');
  await enroll.getByRole('button', { name: 'Set up: Authenticator app' }).waitFor();
  await screen(tab, 'enroll-choose-a-method');
  await enroll.getByRole('button', { name: 'Set up: Authenticator app' }).click();
  const qr = enroll.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  if (!(await qr.getAttribute('src')).startsWith('data:image/png;base64,')) throw new Error('no QR code');
  const secret = (await enroll.locator('[part="secret"]').textContent()).replace(/\s+/g, '');
  const codeInput = enroll.getByLabel('Code', { exact: true });
  if ((await codeInput.getAttribute('autocomplete')) !== 'one-time-code' || (await codeInput.getAttribute('inputmode')) !== 'numeric') {
    throw new Error('the code field is not a one-time-code field');
  }
  if (!(await codeInput.evaluate((e) => e === e.getRootNode().activeElement))) throw new Error('focus did not move to the code field');
  await screen(tab, 'enroll-authenticator');
  await codeInput.fill(totp(secret));
  await codeInput.press('Enter');
  await enroll.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  const codes = await enroll.locator('[part="codes"] li').allTextContents();
  if (codes.length !== 10) throw new Error(`${codes.length} recovery codes shown`);
  if (process.env.MFA_TEST_SECRETS) appendFileSync(process.env.MFA_TEST_SECRETS, [secret, ...codes, ''].join('\n'));
  if ((await enroll.getByRole('link', { name: 'Download codes' }).getAttribute('download')) !== 'recovery-codes.txt') throw new Error('no download');
  await screen(tab, 'recovery-codes');
  await tab.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: origin.origin });
  await enroll.getByRole('button', { name: 'Copy codes' }).click();
  await enroll.locator('[part="status"]', { hasText: 'Codes copied.' }).waitFor();
  if ((await tab.evaluate(() => navigator.clipboard.readText())) !== `${codes.join('\n')}\n`) throw new Error('the copied codes differ');
  await ok(tab, 'enrol an authenticator app, recovery codes shown once (copied)');
  await enroll.getByRole('button', { name: 'I saved my codes' }).click();

  // The login's second step with the new authenticator, remembering this device.
  await tab.waitForURL('**/verify');
  const challenge = tab.locator('mfa-challenge');
  await pick(tab, 'Authenticator app');
  await screen(tab, 'challenge-authenticator');
  await challenge.getByLabel('Code', { exact: true }).fill(totp(secret, 30));
  await challenge.getByLabel(/Remember this device/).check();
  await challenge.getByRole('button', { name: 'Verify' }).click();
  await tab.waitForURL('**/account');
  const factors = tab.locator('mfa-factors');
  await factors.locator('[part="factor"][data-mfa-type="GOOGLE_AUTH"]').waitFor();
  await ok(tab, 'log in with an authenticator code, remembering the device');

  // A passkey, added on the account page (a fresh login: no step-up).
  const add = tab.locator('mfa-enroll');
  await add.getByRole('button', { name: 'Set up: Passkey' }).click();
  await add.getByLabel('Name for this passkey').waitFor();
  await screen(tab, 'enroll-passkey-name');
  await add.getByLabel('Name for this passkey').fill('Work laptop');
  await add.getByRole('button', { name: 'Create a passkey' }).click();
  await factors.locator('[part="factor"][data-mfa-type="PASSKEY"]').waitFor();
  await ok(tab, 'enrol a passkey on the account page');
  await screen(tab, 'account');

  // Log in with the passkey, remembering the device (the new factor forgot the old one).
  // With a passkey on, the code field also offers it (passkey autofill).
  const passkeyLogin = async (step, shoot) => {
    await pick(tab, 'Passkey');
    if (shoot) await screen(tab, 'challenge-passkey');
    await challenge.getByLabel(/Remember this device/).check();
    await challenge.getByRole('button', { name: 'Use a passkey' }).click();
    await tab.waitForURL('**/account');
    await ok(tab, step);
  };
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await signIn(tab, env('KIT1_TOKEN'), '/verify');
  await pick(tab, 'Authenticator app');
  await tab.waitForFunction(() => document.querySelector('mfa-challenge').shadowRoot
    .querySelector('input.code')?.getAttribute('autocomplete') === 'one-time-code webauthn');
  steps.push('the code field offers the passkey (autofill)');
  await passkeyLogin('log in with a passkey, remembering the device', true);

  // Forget that device on the account page; at the next sign-in its token is refused, and
  // the challenge moves on to the next way.
  const devices = factors.locator('[part="devices"] li[data-device-id]');
  await devices.first().getByRole('button', { name: /^Forget/ }).click();
  await factors.locator('[part="devices"] li', { hasText: 'No device is remembered' }).waitFor();
  await ok(tab, 'forget a remembered device');
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await signIn(tab, env('KIT1_TOKEN'), '/verify');
  await pick(tab, 'This remembered device');
  await challenge.getByRole('button', { name: 'Continue on this remembered device' }).click();
  await challenge.locator('[part="error"]', { hasText: 'no longer remembered' }).waitFor();
  if (await challenge.getByRole('button', { name: 'This remembered device' }).count()) throw new Error('the forgotten device is still offered');
  steps.push('a forgotten device is refused and no longer offered');
  await passkeyLogin('log in with a passkey again, remembering the device');

  // The remembered device is offered first; its session is no fresh second factor.
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await signIn(tab, env('KIT1_TOKEN'), '/verify');
  await pick(tab, 'This remembered device');
  await screen(tab, 'challenge-remembered-device');
  await challenge.getByRole('button', { name: 'Continue on this remembered device' }).click();
  await tab.waitForURL('**/account');
  const device = factors.locator('[part="devices"] li[data-device-id]');
  await device.first().waitFor();
  if (!(await device.first().textContent()).includes('Chrome')) throw new Error('the remembered device is not named after the browser');
  await ok(tab, 'log in with the remembered device');

  // Remove the authenticator: the API asks for a recent second factor, given in place.
  const authenticator = factors.locator('[part="factor"][data-mfa-type="GOOGLE_AUTH"]');
  await authenticator.getByRole('button', { name: /^Remove/ }).click();
  await authenticator.getByRole('button', { name: 'Remove', exact: true }).waitFor();
  await screen(tab, 'factor-remove-confirm');
  await authenticator.getByRole('button', { name: 'Remove', exact: true }).click();
  const stepUp = factors.locator('[part="step-up"] mfa-challenge');
  await stepUp.waitFor();
  await pick(tab, 'Passkey', stepUp);
  await screen(tab, 'step-up-in-place');
  await stepUp.getByRole('button', { name: 'Use a passkey' }).click();
  await factors.locator('[part="factor"][data-mfa-type="GOOGLE_AUTH"]').waitFor({ state: 'detached' });
  await ok(tab, 'remove the authenticator with the step-up in place');

  // Rename the passkey, new recovery codes, the activity.
  const passkey = factors.locator('[part="factor"][data-mfa-type="PASSKEY"]');
  await passkey.getByRole('button', { name: /^Rename/ }).click();
  await passkey.getByLabel(/New name for/).waitFor();
  await screen(tab, 'factor-rename');
  await passkey.getByLabel(/New name for/).fill('Office laptop');
  await passkey.getByRole('button', { name: 'Save' }).click();
  await factors.locator('[part="factor"] .name', { hasText: 'Office laptop' }).waitFor();
  await ok(tab, 'rename the passkey');
  await factors.getByRole('button', { name: 'Get new recovery codes' }).click();
  await factors.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  const fresh = await factors.locator('[part="codes"] li').allTextContents();
  if (fresh.length !== 10 || fresh.some((c) => codes.includes(c))) throw new Error('the new recovery codes are not new');
  if (process.env.MFA_TEST_SECRETS) appendFileSync(process.env.MFA_TEST_SECRETS, [...fresh, ''].join('\n'));
  await factors.getByRole('button', { name: 'I saved my codes' }).click();
  await factors.locator('[part="events"] li').first().waitFor();
  if ((await factors.locator('[part="events"] li').count()) < 3) throw new Error('the activity lists too few events');
  await ok(tab, 'get new recovery codes');
  await screen(tab, 'account-after-changes');

  // A login with a recovery code (the remembered device was forgotten with the factor).
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await signIn(tab, env('KIT1_TOKEN'), '/verify');
  await pick(tab, 'Recovery code');
  await screen(tab, 'challenge-recovery-code');
  await challenge.getByLabel('Recovery code', { exact: true }).fill(fresh[0]);
  await challenge.getByRole('button', { name: 'Verify' }).click();
  await tab.waitForURL('**/account');
  await ok(tab, 'log in with a recovery code');
  const statuses = asked.filter((p) => p.endsWith('/mfa/status')).length;
  const rememberAsked = asked.filter((p) => p.endsWith('/mfa/remember-device')).length;
  if (statuses < 5 || rememberAsked !== 0) {
    throw new Error(`the challenges asked for the status ${statuses} times and for remember-device ${rememberAsked} times`);
  }
  steps.push('the challenge asks for the status alone before a login');
}

/// Users 2 and 3: email and SMS codes enrolled, the code read from the local inbox, with
/// the resend cool-down shown.
async function enrolCode(tab, token, kind, to) {
  await signIn(tab, token, '/enroll');
  const enroll = tab.locator('mfa-enroll');
  const label = kind === 'mail' ? 'Code by email' : 'Code by text message';
  await enroll.getByRole('button', { name: `Set up: ${label}` }).click();
  if (kind === 'text') {
    await screen(tab, 'enroll-sms-number');
    await enroll.getByLabel(/Mobile number/).fill(to);
    await enroll.getByRole('button', { name: 'Text me a code' }).click();
  } else {
    await enroll.getByRole('button', { name: 'Email me a code' }).click();
  }
  await enroll.locator('[part="cooldown"]', { hasText: /new code in \d+ s/ }).waitFor();
  if (!(await enroll.getByRole('button', { name: 'Send a new code' }).isDisabled())) throw new Error('resend is not cooling down');
  if (kind === 'mail') await screen(tab, 'enroll-email-code-sent');
  await enroll.getByLabel('Code', { exact: true }).fill(sixDigits(await message(kind, to, isCode)));
  await enroll.getByRole('button', { name: 'Verify' }).click();
  await tab.waitForURL('**/verify');
  await ok(tab, `enrol ${kind === 'mail' ? 'email' : 'SMS'} codes`);
}

/// User 4: sign-in links enrolled; the activation mail lands on the landing page.
async function enrolLink(tab) {
  const email = env('KIT4_EMAIL');
  await signIn(tab, env('KIT4_TOKEN'), '/enroll');
  const enroll = tab.locator('mfa-enroll');
  await enroll.getByRole('button', { name: 'Set up: Sign-in link by email' }).click();
  await enroll.getByRole('button', { name: 'Email me an activation link' }).click();
  await enroll.locator('[part="status"]', { hasText: 'activation link' }).waitFor();
  await screen(tab, 'enroll-link-sent');
  const token = linkToken(await message('mail', email, isLink));
  await tab.goto(new URL(`/mfa/magic-link?token=${encodeURIComponent(token)}`, origin).href);
  await tab.locator('mfa-enroll').getByRole('button', { name: 'Turn on sign-in links' }).waitFor();
  await screen(tab, 'link-landing-activation');
  await tab.locator('mfa-enroll').getByRole('button', { name: 'Turn on sign-in links' }).click();
  await tab.locator('mfa-enroll [part="status"]', { hasText: 'is on' }).waitFor();
  await ok(tab, 'enrol sign-in links on the landing page');
}

/// Users 5 and 6: a login with a code by mail or text.
async function codeLogin(tab, token, kind, to) {
  await signIn(tab, token, '/verify');
  const challenge = tab.locator('mfa-challenge');
  await pick(tab, kind === 'mail' ? 'Code by email' : 'Code by text message');
  await challenge.getByRole('button', { name: 'Send code' }).click();
  await challenge.locator('[part="cooldown"]', { hasText: /new code in \d+ s/ }).waitFor();
  if (kind === 'mail') await screen(tab, 'challenge-email-code');
  await challenge.getByLabel('Code', { exact: true }).fill(sixDigits(await message(kind, to, isCode)));
  await challenge.getByRole('button', { name: 'Verify' }).click();
  await tab.waitForURL('**/account');
  await ok(tab, `log in with ${kind === 'mail' ? 'an email' : 'an SMS'} code`);
}

/// The plain page of docs/ui-kit.md (the docs' block is `demo/plain.html`, byte for byte)
/// shows user 7's challenge from a token in sessionStorage.
async function plainPage(tab) {
  const docs = readFileSync(path.join(root, 'docs/ui-kit.md'), 'utf8');
  const block = /```html\n([\s\S]*?)```/.exec(docs)?.[1];
  if (block !== readFileSync(path.join(root, 'demo/plain.html'), 'utf8')) throw new Error('docs/ui-kit.md and demo/plain.html differ');
  await tab.goto(new URL('/plain', origin).href);
  await tab.evaluate((token) => sessionStorage.setItem('platformToken', token), env('KIT7_TOKEN'));
  await tab.reload();
  await tab.locator('mfa-challenge').getByRole('heading', { name: 'Sign-in link by email', exact: true }).waitFor();
  await ok(tab, 'the plain page of the docs shows the challenge');
}

/// User 7: a login with a sign-in link, used on the landing page.
async function linkLogin(tab) {
  await signIn(tab, env('KIT7_TOKEN'), '/verify');
  const challenge = tab.locator('mfa-challenge');
  await pick(tab, 'Sign-in link by email');
  await challenge.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await challenge.locator('[part="status"]', { hasText: 'sign-in link' }).waitFor();
  const token = linkToken(await message('mail', env('KIT7_EMAIL'), isLink));
  await tab.goto(new URL(`/mfa/magic-link?token=${encodeURIComponent(token)}`, origin).href);
  await tab.locator('mfa-challenge').getByRole('button', { name: 'Finish signing in' }).waitFor();
  await screen(tab, 'link-landing-login');
  await tab.locator('mfa-challenge').getByRole('button', { name: 'Finish signing in' }).click();
  await tab.getByRole('link', { name: 'Continue to your account' }).waitFor();
  const access = await tab.evaluate(() => localStorage.getItem('accessToken'));
  if (!access) throw new Error('the link login kept no full-access token');
  await ok(tab, 'log in with a sign-in link');
}

/// User 8: five wrong codes lock verification; the challenge says how long to wait.
async function lockout(tab) {
  await signIn(tab, env('KIT8_TOKEN'), '/verify');
  const challenge = tab.locator('mfa-challenge');
  await pick(tab, 'Authenticator app');
  // Keyboard only: the code field has focus when the step shows; an error takes focus, and
  // one Tab from it is the code field again; Enter submits.
  const focused = () => challenge.getByLabel('Code', { exact: true }).evaluate((e) => e === e.getRootNode().activeElement);
  for (let i = 0; i < 6; i++) {
    if (i > 0) await tab.keyboard.press('Tab');
    if (!(await focused())) throw new Error(`attempt ${i + 1}: the keyboard is not on the code field`);
    await tab.keyboard.type('000000');
    await tab.keyboard.press('Enter');
    await tab.waitForFunction(() => {
      const root = document.querySelector('mfa-challenge').shadowRoot;
      return root.querySelector('[part="error"]').textContent || root.querySelector('[part="locked"]');
    });
    if (await challenge.locator('[part="locked"]').count()) break;
    const shown = await errors(tab);
    if (!shown.some((e) => e.includes('not right'))) throw new Error(`a wrong code showed ${shown.join(' | ')}`);
    if (!(await challenge.locator('[part="error"]').evaluate((e) => e === e.getRootNode().activeElement))) throw new Error('focus did not move to the error');
  }
  await challenge.getByRole('heading', { name: 'Too many attempts' }).waitFor();
  const text = await challenge.locator('[part="locked"]').textContent();
  if (!/Try again in \d+ min \d+ s/.test(text)) throw new Error(`the lockout says ${text}`);
  const announced = await challenge.locator('[part="status"]').textContent();
  if (!announced.includes('Try again in')) throw new Error('the lockout is not announced');
  if (await challenge.getByLabel('Code', { exact: true }).count()) throw new Error('the code field is still offered while locked');
  await screen(tab, 'challenge-locked');
  steps.push('lockout shown with the time to wait');
}

// Each user's tab has storage of its own (a context each).
const newTab = () => browser.newPage();

try {
  await Promise.all([
    everything(firstTab),
    (async () => {
      await enrolCode(await newTab(), env('KIT2_TOKEN'), 'mail', env('KIT2_EMAIL'));
      await enrolCode(await newTab(), env('KIT3_TOKEN'), 'text', env('KIT3_PHONE'));
      await enrolLink(await newTab());
      await codeLogin(await newTab(), env('KIT5_TOKEN'), 'mail', env('KIT5_EMAIL'));
      await codeLogin(await newTab(), env('KIT6_TOKEN'), 'text', env('KIT6_PHONE'));
      const seventh = await newTab();
      await plainPage(seventh);
      await linkLogin(seventh);
      await lockout(await newTab());
    })(),
  ]);
  console.log(JSON.stringify({ steps, screens }));
} catch (e) {
  await firstTab.screenshot({ path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  console.error(`kit walk failed after: ${steps.join(' / ')}`);
  throw e;
} finally {
  await browser.close();
  server.close();
}
