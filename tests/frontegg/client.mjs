// Frontegg's own browser client, `@frontegg/rest-api` (pinned in local/package.json),
// unchanged, in Node against the running API: every MFA function of its `api.auth` that
// maps to a route of Frontegg's MFA API. Authenticator codes come from oathtool (the
// secret read out of the QR code with zbarimg, or given for a seeded user), SMS codes from
// the local SNS, email codes from the local SES store, WebAuthn responses from Chromium's
// virtual authenticator. Each call's result is checked: a login yields a full-access
// token that verifies against the JWKS; a removal leaves the device list without it; a
// refusal surfaces as a FronteggApiError with our sentence and code.
//
// Environment: MFA_API_URL, MFA_RP_ORIGIN, MFA_SES_STORE_URL, MFA_SNS_STORE_URL and
// FRONTEGG_USERS (JSON, from the calling test: the users, their platform tokens and what
// was seeded for them). Prints one JSON line: the functions that passed and failed, and
// every secret it was handed (for the table and log scans).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { authenticatorPage } from '../browser/chromium.mjs';

const require = createRequire(import.meta.url);
// The client reads `window.location` on every request (a browser global).
globalThis.window = { location: { href: process.env.MFA_API_URL, search: '' } };
const { api, ContextHolder } = require('../../local/node_modules/@frontegg/rest-api');

const API = process.env.MFA_API_URL;
const users = JSON.parse(process.env.FRONTEGG_USERS);
const secrets = [];
const passed = [];
const failed = [];

// The bearer the client sends (its tokenResolver): the platform token, or a full-access
// token once a login gave one.
let bearer = '';
// Headers a platform's backend adds (its `additionalHeadersResolver`): `frontegg-user-id`.
let extraHeaders = [];
ContextHolder.for('default').setContext({
  baseUrl: API,
  tokenResolver: () => bearer,
  additionalHeadersResolver: () => [...extraHeaders],
});
// After a login the client would load the user (`/users/v2/me`): that is the platform's
// route, not an MFA route; the integrator's own client skips it the same way.
ContextHolder.for('default').setSessionContext({ skipUserLoading: true });

const assert = (ok, what) => {
  if (!ok) throw new Error(what);
};

/// Runs one client function, checks its result; counts it once, on its first use.
async function step(name, run) {
  try {
    const result = await run();
    if (!passed.includes(name)) passed.push(name);
    return result;
  } catch (e) {
    failed.push({ name, error: `${e?.constructor?.name}: ${e?.message} ${e?.errorCode ?? ''} ${e?.statusCode ?? ''}` });
    throw e;
  }
}

/// The call must be refused as a FronteggApiError with `status` and our `code`, and our
/// sentence as its message.
async function refused(what, status, code, run) {
  try {
    await run();
  } catch (e) {
    assert(e?.constructor?.name === 'FronteggApiError', `${what}: not a FronteggApiError but ${e}`);
    assert(e.statusCode === status && e.errorCode === code, `${what}: ${e.statusCode} ${e.errorCode}`);
    assert(typeof e.message === 'string' && e.message.length > 10 && !e.message.startsWith('Error '), e.message);
    return e.message;
  }
  throw new Error(`${what} was not refused`);
}

const b64 = (s) => Buffer.from(s, 'base64url');
let jwks;

/// A full-access token: signed by one of the JWKS's keys (ES256), `aal: 2`, for `userId`.
async function verifyToken(token, userId) {
  jwks ??= await (await fetch(`${API}/.well-known/jwks.json`)).json();
  const [h, p, s] = token.split('.');
  const header = JSON.parse(b64(h));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert(jwk && header.alg === 'ES256', 'the token names a key of the JWKS');
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, b64(s));
  assert(ok, 'the token verifies against the JWKS');
  const claims = JSON.parse(b64(p));
  assert(claims.aal === 2 && claims.sub === userId && claims.exp > Date.now() / 1000, 'aal 2, the user, not expired');
  return claims;
}

/// Frontegg's authentication response, checked: a bearer full-access token of the user.
async function loggedIn(answer, user, what) {
  assert(answer.tokenType === 'bearer' && answer.mfaRequired === false, `${what}: an authentication response`);
  assert(typeof answer.refreshToken === 'string' && answer.expiresIn > 0 && answer.userId === user.id, what);
  secrets.push(answer.accessToken, answer.refreshToken);
  if (answer.recoveryCode) secrets.push(answer.recoveryCode);
  if (answer.deviceToken) secrets.push(answer.deviceToken);
  await verifyToken(answer.accessToken, user.id);
  return answer;
}

/// The current code of a base32 secret (as a QR code carries it), or of a hex one.
function totp(secret, base32 = true) {
  const args = base32 ? ['--totp', '-b', secret] : ['--totp', secret];
  const code = execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
  secrets.push(code);
  return code;
}

/// The authenticator secret inside a `data:image/png;base64,…` QR code (zbarimg).
function secretOfQr(dataUrl) {
  assert(dataUrl?.startsWith('data:image/png;base64,'), 'a PNG data URL');
  const file = path.join(os.tmpdir(), `qr-${crypto.randomUUID()}.png`);
  fs.writeFileSync(file, Buffer.from(dataUrl.split(',')[1], 'base64'));
  try {
    const url = new URL(execFileSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' }).trim());
    const secret = url.searchParams.get('secret');
    secrets.push(secret, url.href);
    return secret;
  } finally {
    fs.unlinkSync(file);
  }
}

async function poll(read) {
  for (let i = 0; i < 100; i++) {
    const found = await read();
    if (found) return found;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error('nothing arrived');
}

const sixDigits = (text) => {
  const code = text.match(/\b(\d{6})\b/)[1];
  secrets.push(code);
  return code;
};

/// The newest text to `number` (moto's record of what SNS sent), once there are `n`.
const textCode = (number, n = 1) =>
  poll(async () => {
    const data = await (await fetch(process.env.MFA_SNS_STORE_URL)).json();
    const texts = (data.sns?.SMS ?? []).filter((t) => t.phone_number === number);
    return texts.length >= n ? sixDigits(texts[n - 1].message) : null;
  });

/// The newest sign-in code mailed to `to` (the local SES store).
const mailCode = (to) =>
  poll(async () => {
    const store = await (await fetch(process.env.MFA_SES_STORE_URL)).json();
    const mails = store.emails.filter((m) => m.destination?.to?.includes(to) && m.subject === 'Your sign-in code');
    return mails.length ? sixDigits(mails[mails.length - 1].body.text) : null;
  });

async function devices(token) {
  bearer = token;
  return step('getMFADevices', () => api.auth.getMFADevices());
}

const flows = {
  // A user with no MFA, at login (an organization requires it): an authenticator, then
  // removed with the recovery code it brought, the platform token as bearer.
  async authenticatorAtLogin(u) {
    bearer = '';
    const policy = await step('checkIfAllowToRememberMfaDevice', () =>
      api.auth.checkIfAllowToRememberMfaDevice(u.token),
    );
    assert(policy.isAllowedToRemember === true && policy.mfaDeviceExpiration > 0, 'remembering is allowed');
    const { qrCode } = await step('preEnrollMFAAuthenticatorAppForLogin', () =>
      api.auth.preEnrollMFAAuthenticatorAppForLogin({ mfaToken: u.token }),
    );
    const secret = secretOfQr(qrCode);
    const answer = await step('enrollMFAAuthenticatorAppForLogin', async () =>
      loggedIn(
        await api.auth.enrollMFAAuthenticatorAppForLogin({ mfaToken: u.token, token: totp(secret), rememberDevice: true }),
        u,
        'enrolment at login',
      ),
    );
    assert(answer.recoveryCode && answer.deviceToken, 'a first enrolment brings a recovery code; the device is remembered');
    const listed = await devices(answer.accessToken);
    assert(listed.authenticators.length === 1, 'the new authenticator is listed');
    bearer = u.token;
    await step('disableMFAAuthenticatorApp', () =>
      api.auth.disableMFAAuthenticatorApp(listed.authenticators[0].id, { token: answer.recoveryCode }),
    );
    const after = await devices(u.token);
    assert(after.authenticators.length === 0, 'the removed authenticator is gone');
  },

  // A user with an authenticator: a login with any authenticator's code, and a wrong one.
  async loginWithCode(u) {
    bearer = '';
    const sentence = await refused('a wrong code', 400, 'INVALID_CODE', () =>
      api.auth.loginWithMfa({ mfaToken: u.token, value: '000000' === totp(u.secretHex, false) ? '111111' : '000000' }),
    );
    secrets.push(sentence);
    await step('loginWithMfa', async () =>
      loggedIn(await api.auth.loginWithMfa({ mfaToken: u.token, value: totp(u.secretHex, false) }), u, 'loginWithMfa'),
    );
  },

  async loginWithThatAuthenticator(u) {
    bearer = '';
    await step('verifyMFAAuthenticatorAppForLogin', async () =>
      loggedIn(
        await api.auth.verifyMFAAuthenticatorAppForLogin(u.authenticator, { mfaToken: u.token, value: totp(u.secretHex, false) }),
        u,
        'verifyMFAAuthenticatorAppForLogin',
      ),
    );
  },

  async phoneAtLogin(u) {
    bearer = '';
    const sent = await step('preEnrollMFASMSForLogin', () =>
      api.auth.preEnrollMFASMSForLogin({ mfaToken: u.token, phoneNumber: u.phone }),
    );
    assert(sent.otcToken && sent.phoneNumber && !sent.phoneNumber.includes(u.phone.slice(-6)), 'masked number');
    const code = await textCode(u.phone);
    const answer = await step('enrollMFASMSForLogin', async () =>
      loggedIn(
        await api.auth.enrollMFASMSForLogin({ mfaToken: u.token, otcToken: sent.otcToken, code }),
        u,
        'enrollMFASMSForLogin',
      ),
    );
    assert(answer.recoveryCode, 'a first enrolment brings a recovery code');
  },

  async loginWithPhone(u) {
    bearer = '';
    const sent = await step('preVerifyMFASMSForLogin', () =>
      api.auth.preVerifyMFASMSForLogin(u.phoneFactor, { mfaToken: u.token }),
    );
    const code = await textCode(u.phone);
    await step('verifyMFASMSForLogin', async () =>
      loggedIn(
        await api.auth.verifyMFASMSForLogin(u.phoneFactor, { mfaToken: u.token, otcToken: sent.otcToken, code }),
        u,
        'verifyMFASMSForLogin',
      ),
    );
  },

  // A phone removed with the code just texted to it: the platform token and the proof.
  async removePhone(u) {
    bearer = u.token;
    const sent = await step('preDisableMFASMS', () => api.auth.preDisableMFASMS(u.phoneFactor));
    const code = await textCode(u.phone);
    bearer = u.token;
    await step('disableMFASMS', () => api.auth.disableMFASMS(u.phoneFactor, { otcToken: sent.otcToken, code }));
    const after = await devices(u.token);
    assert(after.phones.length === 0 && after.authenticators.length === 1, 'the phone is gone, the authenticator stays');
  },

  async loginWithEmailCode(u) {
    bearer = '';
    const sent = await step('preVerifyMFAEmailCode', () => api.auth.preVerifyMFAEmailCode({ mfaToken: u.token }));
    const code = await mailCode(u.email);
    await step('verifyMFAEmailCode', async () =>
      loggedIn(
        await api.auth.verifyMFAEmailCode({ mfaToken: u.token, otcToken: sent.otcToken, code }),
        u,
        'verifyMFAEmailCode',
      ),
    );
  },

  // A passkey at login, a login with it, and its removal with its own assertion.
  async passkey(u, tab) {
    bearer = '';
    const begun = await step('preEnrollMFAWebAuthnForLogin', () =>
      api.auth.preEnrollMFAWebAuthnForLogin({ mfaToken: u.token }),
    );
    const credential = await tab.evaluate((pk) => window.register(pk), begun.options);
    const enrolled = await step('enrollMFAWebAuthnForLogin', async () =>
      loggedIn(
        await api.auth.enrollMFAWebAuthnForLogin({
          mfaToken: u.token,
          webauthnToken: begun.webauthnToken,
          deviceType: 'Platform',
          options: credential,
        }),
        u,
        'enrollMFAWebAuthnForLogin',
      ),
    );
    const listed = await devices(enrolled.accessToken);
    assert(listed.webauthn.length === 1, 'the passkey is listed');
    const id = listed.webauthn[0].id;
    bearer = '';
    const opened = await step('preVerifyMFAWebAuthnForLogin', () =>
      api.auth.preVerifyMFAWebAuthnForLogin(id, { mfaToken: u.token }),
    );
    const assertion = await tab.evaluate((pk) => window.authenticate(pk), opened.options);
    await step('verifyMFAWebAuthnForLogin', async () =>
      loggedIn(
        await api.auth.verifyMFAWebAuthnForLogin(id, { mfaToken: u.token, webauthnToken: opened.webauthnToken, options: assertion }),
        u,
        'verifyMFAWebAuthnForLogin',
      ),
    );
    bearer = u.token;
    const proving = await step('preDisableMFAWebAuthn', () => api.auth.preDisableMFAWebAuthn(id));
    const proof = await tab.evaluate((pk) => window.authenticate(pk), proving.options);
    bearer = u.token;
    await step('disableMFAWebAuthn', () =>
      api.auth.disableMFAWebAuthn(id, { webauthnToken: proving.webauthnToken, options: proof }),
    );
    const after = await devices(u.token);
    assert(after.webauthn.length === 0, 'the passkey is gone');
  },

  // Logged in (a user without MFA may use the platform token): an authenticator, then a
  // second one refused without a fresh second factor.
  async authenticatorLoggedIn(u) {
    bearer = u.token;
    const { qrCode } = await step('preEnrollMFAAuthenticatorApp', () => api.auth.preEnrollMFAAuthenticatorApp());
    const secret = secretOfQr(qrCode);
    bearer = u.token;
    const done = await step('enrollMFAAuthenticatorApp', () => api.auth.enrollMFAAuthenticatorApp({ token: totp(secret) }));
    assert(done.recoveryCode, 'the first factor brings a recovery code');
    secrets.push(done.recoveryCode);
    bearer = u.token;
    await refused('a second authenticator with the password alone', 403, 'STEP_UP_REQUIRED', () =>
      api.auth.enrollMfa(),
    );
  },

  // The legacy trio: enrol, verify, and turn MFA off with the recovery code.
  async legacy(u) {
    bearer = u.token;
    const { qrCode } = await step('enrollMfa', () => api.auth.enrollMfa());
    const secret = secretOfQr(qrCode);
    bearer = u.token;
    const done = await step('verifyMfa', () => api.auth.verifyMfa({ token: totp(secret) }));
    assert(done.recoveryCode, 'the first factor brings a recovery code');
    secrets.push(done.recoveryCode);
    bearer = u.token;
    await refused('turning MFA off with a wrong code', 400, 'INVALID_CODE', () => api.auth.disableMfa({ token: '000000' === totp(secret) ? '111111' : '000000' }));
    bearer = u.token;
    await step('disableMfa', () => api.auth.disableMfa({ token: done.recoveryCode }));
    const after = await devices(u.token);
    assert(after.authenticators.length === 0, 'MFA is off');
  },

  async phoneLoggedIn(u) {
    bearer = u.token;
    const sent = await step('preEnrollMFASMS', () => api.auth.preEnrollMFASMS({ phoneNumber: u.phone }));
    const code = await textCode(u.phone);
    bearer = u.token;
    const done = await step('enrollMFASMS', () => api.auth.enrollMFASMS({ otcToken: sent.otcToken, code }));
    assert(done.recoveryCode, 'the first factor brings a recovery code');
    secrets.push(done.recoveryCode);
  },

  // The platform's backend, with a server credential naming the user in
  // `frontegg-user-id`: enrols an authenticator for a user without MFA, is refused a second
  // factor without a proof, and removes the authenticator with a recovery code.
  async serverForUser(u) {
    extraHeaders = [{ key: 'frontegg-user-id', value: u.id }];
    try {
      bearer = u.serverToken;
      const { qrCode } = await step('preEnrollMFAAuthenticatorApp', () => api.auth.preEnrollMFAAuthenticatorApp());
      const secret = secretOfQr(qrCode);
      const done = await step('enrollMFAAuthenticatorApp', () =>
        api.auth.enrollMFAAuthenticatorApp({ token: totp(secret) }),
      );
      assert(done.recoveryCode, 'the first factor brings a recovery code');
      secrets.push(done.recoveryCode);
      await refused('a second factor from the backend without a proof', 403, 'STEP_UP_REQUIRED', () =>
        api.auth.preEnrollMFASMS({ phoneNumber: u.phone }),
      );
      const listed = await devices(u.token);
      assert(listed.authenticators.length === 1, 'the backend enrolled the authenticator');
      bearer = u.serverToken;
      await step('disableMFAAuthenticatorApp', () =>
        api.auth.disableMFAAuthenticatorApp(listed.authenticators[0].id, { token: done.recoveryCode }),
      );
      const after = await devices(u.token);
      assert(after.authenticators.length === 0, 'the backend removed it with the recovery code');
    } finally {
      extraHeaders = [];
    }
  },

  async recover(u) {
    bearer = u.token;
    await step('recoverMfaToken', () => api.auth.recoverMfaToken({ email: u.email, recoveryCode: u.recoveryCode }));
    const after = await devices(u.token);
    assert(after.authenticators.length === 0, 'the recovery turned MFA off');
  },
};

const { tab, close } = await authenticatorPage(new URL(process.env.MFA_RP_ORIGIN));
try {
  for (const [flow, user] of Object.entries(users)) {
    try {
      await flows[flow](user, tab);
    } catch (e) {
      failed.push({ name: flow, error: String(e?.stack ?? e) });
    }
  }
} finally {
  await close();
}
console.log(JSON.stringify({ passed, failed, secrets }));
