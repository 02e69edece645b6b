// The demo app's server (local only; no build step, no dependencies): serves the pages in
// this directory and the UI kit (`/ui/mfa-elements.js`) at the origin magic links point
// to, `/mfa/magic-link` as the landing page, `/api/…` passed to the MFA API with the
// caller's `Authorization` and `User-Agent` (so the pages call only the public API, on
// one origin; `Retry-After` comes back with the answer), `/inbox` (the local SES mails and
// SNS texts, so every flow can be finished in the browser), and `/demo-token` (a
// platform token for the demo user, from DEMO_TOKEN).
//
// It listens on loopback only and answers only requests addressed to itself: a `Host`
// (or a browser's `Origin`) other than localhost or 127.0.0.1 at its port is refused
// with 403, so a page of another site cannot reach it through DNS rebinding.
//
// Environment: MFA_API_URL, MFA_SES_STORE_URL, MFA_SNS_STORE_URL, DEMO_TOKEN; the port
// is the first argument (default 8080).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const dir = path.dirname(fileURLToPath(import.meta.url));
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };
// The journey built on the UI kit (sign-in stand-in, second step, enrolment, account),
// the mailed links' landing page, and the API console for developers.
const pages = {
  '/': 'index.html', '/verify': 'verify.html', '/enroll': 'enroll.html', '/account': 'account.html',
  '/mfa/magic-link': 'landing.html', '/app.js': 'app.js', '/app.css': 'app.css',
  '/plain': 'plain.html', '/console': 'console.html', '/demo.js': 'demo.js', '/demo.css': 'demo.css',
  '/ui/mfa-elements.js': '../ui/mfa-elements.js',
};

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

async function inbox() {
  const [mails, texts] = await Promise.all([
    fetch(process.env.MFA_SES_STORE_URL).then((r) => r.json()).catch(() => ({ emails: [] })),
    fetch(process.env.MFA_SNS_STORE_URL).then((r) => r.json()).catch(() => ({})),
  ]);
  return {
    mails: (mails.emails || []).map((m) => ({ to: m.destination?.to || [], subject: m.subject, text: m.body?.text || '' })).reverse(),
    texts: (texts.sns?.SMS || []).map((t) => ({ to: t.phone_number, text: t.message })).reverse(),
  };
}

// Why a request is not for this server (its `Host`, or a browser's `Origin`), or null.
export function foreign(headers, port) {
  const own = [`localhost:${port}`, `127.0.0.1:${port}`];
  if (!own.includes(headers.host || '')) return `Host ${JSON.stringify(headers.host || '')}`;
  const origin = headers.origin;
  if (origin !== undefined && !own.map((h) => `http://${h}`).includes(origin)) {
    return `Origin ${JSON.stringify(origin)}`;
  }
  return null;
}

export function serve(port) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const refused = foreign(req.headers, port);
    if (refused) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        success: false,
        error: `The demo server answers only requests for itself; this one named ${refused}. Open it at http://localhost:${port}/.`,
        code: 'FOREIGN_HOST',
      }));
      return;
    }
    try {
      if (url.pathname.startsWith('/api/')) {
        const headers = { 'content-type': 'application/json' };
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        if (req.headers['user-agent']) headers['user-agent'] = req.headers['user-agent'];
        const sent = await body(req);
        const answer = await fetch(process.env.MFA_API_URL + url.pathname.slice(4) + url.search, {
          method: req.method, headers, body: sent.length ? sent : undefined,
        });
        const passed = { 'content-type': answer.headers.get('content-type') || 'application/json' };
        if (answer.headers.get('retry-after')) passed['retry-after'] = answer.headers.get('retry-after');
        res.writeHead(answer.status, passed);
        res.end(Buffer.from(await answer.arrayBuffer()));
      } else if (url.pathname === '/inbox') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(await inbox()));
      } else if (url.pathname === '/demo-token') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: process.env.DEMO_TOKEN || '' }));
      } else if (pages[url.pathname]) {
        const file = pages[url.pathname];
        res.writeHead(200, { 'content-type': types[path.extname(file)] });
        res.end(await readFile(path.join(dir, file)));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    } catch (e) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: false, error: `The demo server could not reach the API: ${e.message}.` }));
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || 8080);
  await serve(port);
  console.log(`demo app on http://localhost:${port}/`);
}
