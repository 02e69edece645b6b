// One passkey ceremony in a real browser (`chromium.mjs`): the page calls
// navigator.credentials.create() and .get() with the options the API returns; the
// registration is posted back to the API, and the assertion is printed as JSON for the
// calling test to verify.
//
// Environment: MFA_API_URL, MFA_RP_ORIGIN (http://localhost:PORT), BROWSER_TOKEN.
import { authenticatorPage } from './chromium.mjs';

const api = process.env.MFA_API_URL;
const origin = new URL(process.env.MFA_RP_ORIGIN);
const token = process.env.BROWSER_TOKEN;

async function call(path, body) {
  const res = await fetch(api + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const { tab, close } = await authenticatorPage(origin);
try {
  const setup = await call('/mfa/setup', { mfaType: 'PASSKEY', deviceInfo: { name: 'Chromium' } });
  const credential = await tab.evaluate((pk) => window.register(pk), setup.data.publicKey);
  const completed = await call('/mfa/passkey/complete-registration', { credential, challenge: setup.data.challenge });

  const options = await call('/mfa/passkey/auth-options');
  const assertion = await tab.evaluate((pk) => window.authenticate(pk), options.data.publicKey);
  console.log(JSON.stringify({ completed, assertion }));
} finally {
  await close();
}
