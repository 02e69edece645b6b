// A page on the relying party's origin in Debian's Chromium, headless, driven over the
// DevTools protocol (playwright-core) with a WebAuthn virtual authenticator: its
// `register(publicKey)` and `authenticate(publicKey)` call navigator.credentials with the
// options an API returns (base64url fields decoded) and give back the credential as JSON
// (base64url fields encoded), as a web page of an integrator would.
import http from 'node:http';
import { chromium } from '../../local/node_modules/playwright-core/index.mjs';

const page = `<!doctype html><html><head><title>passkey</title></head><body><script>
const dec = (s) => { s = s.replace(/-/g, '+').replace(/_/g, '/'); while (s.length % 4) s += '=';
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer; };
const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
window.register = async (publicKey) => {
  const o = structuredClone(publicKey);
  o.challenge = dec(o.challenge); o.user.id = dec(o.user.id);
  (o.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
  const c = await navigator.credentials.create({ publicKey: o });
  return { id: c.id, rawId: enc(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment,
    response: { clientDataJSON: enc(c.response.clientDataJSON), attestationObject: enc(c.response.attestationObject),
      transports: c.response.getTransports ? c.response.getTransports() : undefined },
    clientExtensionResults: c.getClientExtensionResults() };
};
window.authenticate = async (publicKey) => {
  const o = structuredClone(publicKey);
  o.challenge = dec(o.challenge);
  (o.allowCredentials || []).forEach((c) => { c.id = dec(c.id); });
  const a = await navigator.credentials.get({ publicKey: o });
  return { id: a.id, rawId: enc(a.rawId), type: a.type,
    response: { clientDataJSON: enc(a.response.clientDataJSON), authenticatorData: enc(a.response.authenticatorData),
      signature: enc(a.response.signature), userHandle: a.response.userHandle ? enc(a.response.userHandle) : null },
    clientExtensionResults: a.getClientExtensionResults() };
};
</script></body></html>`;

/// Serves the page at `origin` (http://localhost:PORT) and opens it; returns the tab and a
/// function that closes everything.
export async function authenticatorPage(origin) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page);
  });
  await new Promise((ok) => server.listen(Number(origin.port), '127.0.0.1', ok));
  const { browser, tab } = await browserWithAuthenticator();
  await tab.goto(origin.href);
  const close = async () => {
    await browser.close();
    server.close();
  };
  return { tab, close };
}

/// Headless Chromium with one tab that has a WebAuthn virtual authenticator (resident keys,
/// user verification, presence simulated); `localhost` resolves to loopback.
export async function browserWithAuthenticator() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
  const tab = await browser.newPage();
  const cdp = await tab.context().newCDPSession(tab);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { browser, tab };
}
