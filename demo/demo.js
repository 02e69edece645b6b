// The demo app: plain JavaScript against the public API (through the demo server's /api).
// The platform token stands for the password step; a login's full-access token is kept
// for the changes that need a fresh second factor. Every error is shown as the API says it.
const $ = (id) => document.getElementById(id);
const store = {
  get platform() { return localStorage.getItem('platformToken') || ''; },
  set platform(v) { localStorage.setItem('platformToken', v); },
  get access() { return localStorage.getItem('accessToken') || ''; },
  set access(v) { if (v) localStorage.setItem('accessToken', v); else localStorage.removeItem('accessToken'); },
};

function log(line) {
  const li = document.createElement('li');
  li.textContent = line;
  $('log').prepend(li);
}

function showSession() {
  $('session').textContent = store.access ? 'logged in with a second factor' : 'none (password only)';
}

/// Calls the API; `as`: 'platform' (the password step) or 'session' (a full-access token,
/// falling back to the platform token). Returns the body, or null after showing the error.
async function api(method, path, body, as = 'session') {
  const token = as === 'platform' ? store.platform : store.access || store.platform;
  $('error').textContent = '';
  const res = await fetch('/api' + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({ success: false, error: `The API answered ${res.status} without JSON.` }));
  log(`${method} ${path} → ${res.status} ${json.message || json.code || ''}`);
  if (!res.ok || json.success === false) {
    $('error').textContent = json.error || `The API answered ${res.status}.`;
    if (json.code === 'SESSION_ENDED' || json.code === 'TOKEN_EXPIRED') { store.access = ''; showSession(); }
    return null;
  }
  return json;
}

function loggedIn(json) {
  if (!json) return;
  store.access = json.fullAccessToken;
  if (json.deviceToken) localStorage.setItem('deviceToken', json.deviceToken);
  showSession();
}

// Base64url for WebAuthn: the API sends and takes credential fields encoded.
const dec = (s) => { s = s.replace(/-/g, '+').replace(/_/g, '/'); while (s.length % 4) s += '=';
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer; };
const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

$('token').onchange = () => { store.platform = $('token').value.trim(); store.access = ''; showSession(); };

$('status').onclick = async () => {
  const json = await api('GET', '/mfa/status');
  if (json) $('status-out').textContent = JSON.stringify(json.data, null, 2);
};

$('add-totp').onclick = async () => {
  const json = await api('POST', '/mfa/setup', { mfaType: 'GOOGLE_AUTH' });
  if (!json) return;
  $('qr').src = json.data.qrCode;
  $('secret').textContent = json.data.secret;
  $('backup').textContent = (json.data.backupCodes || []).join('  ') || '(you keep the codes you have)';
  $('totp-setup').hidden = false;
};
$('verify-totp').onclick = () => api('POST', '/mfa/verify-setup', { mfaType: 'GOOGLE_AUTH', code: $('totp-code').value.trim() });

const optional = (id) => $(id).value.trim() || undefined;
$('add-link').onclick = () => { localStorage.setItem('mfa:linkPurpose', 'setup'); return api('POST', '/mfa/setup', { mfaType: 'MAGIC_LINK', email: optional('link-email') }); };
$('add-email').onclick = () => api('POST', '/mfa/setup', { mfaType: 'EMAIL_OTP', email: optional('email-address') });
$('verify-email').onclick = () => api('POST', '/mfa/verify-setup', { mfaType: 'EMAIL_OTP', code: $('email-code').value.trim() });
$('add-sms').onclick = () => api('POST', '/mfa/setup', { mfaType: 'SMS', phoneNumber: $('phone').value.trim() });
$('verify-sms').onclick = () => api('POST', '/mfa/verify-setup', { mfaType: 'SMS', code: $('sms-code').value.trim() });

$('add-passkey').onclick = async () => {
  const json = await api('POST', '/mfa/setup', { mfaType: 'PASSKEY', deviceInfo: { name: 'Demo browser' } });
  if (!json) return;
  const o = structuredClone(json.data.publicKey);
  o.challenge = dec(o.challenge); o.user.id = dec(o.user.id);
  (o.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
  let c;
  try { c = await navigator.credentials.create({ publicKey: o }); } catch (e) { $('error').textContent = `The browser made no passkey: ${e.message}`; return; }
  const credential = { id: c.id, rawId: enc(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment,
    response: { clientDataJSON: enc(c.response.clientDataJSON), attestationObject: enc(c.response.attestationObject),
      transports: c.response.getTransports ? c.response.getTransports() : undefined },
    clientExtensionResults: c.getClientExtensionResults() };
  await api('POST', '/mfa/passkey/complete-registration', { credential, challenge: json.data.challenge });
};

// Logins take the platform token: a second factor on top of the password step.
$('send-code').onclick = () => {
  const method = $('login-method').value;
  if (method === 'EMAIL_OTP') return api('POST', '/mfa/email-code/send', undefined, 'platform');
  if (method === 'SMS') return api('POST', '/mfa/sms/send', undefined, 'platform');
  $('error').textContent = 'Only email and SMS codes are sent; pick one of them first.';
};
$('login').onclick = async () => {
  const method = $('login-method').value;
  const code = $('login-code').value.trim();
  const json = method === 'BACKUP_CODE'
    ? await api('POST', '/mfa/recover', { code }, 'platform')
    : await api('POST', '/mfa/verify-login', { mfaType: method, code, rememberDevice: $('remember').checked }, 'platform');
  loggedIn(json);
};
$('login-passkey').onclick = async () => {
  const options = await api('POST', '/mfa/passkey/auth-options', undefined, 'platform');
  if (!options) return;
  const o = structuredClone(options.data.publicKey);
  o.challenge = dec(o.challenge);
  (o.allowCredentials || []).forEach((c) => { c.id = dec(c.id); });
  let a;
  try { a = await navigator.credentials.get({ publicKey: o }); } catch (e) { $('error').textContent = `The browser gave no assertion: ${e.message}`; return; }
  const credential = { id: a.id, rawId: enc(a.rawId), type: a.type,
    response: { clientDataJSON: enc(a.response.clientDataJSON), authenticatorData: enc(a.response.authenticatorData),
      signature: enc(a.response.signature), userHandle: a.response.userHandle ? enc(a.response.userHandle) : null },
    clientExtensionResults: a.getClientExtensionResults() };
  loggedIn(await api('POST', '/mfa/verify-login', { mfaType: 'PASSKEY', credential, rememberDevice: $('remember').checked }, 'platform'));
};
$('send-link').onclick = () => { localStorage.setItem('mfa:linkPurpose', 'login'); return api('POST', '/mfa/magic-link/send', undefined, 'platform'); };
$('login-device').onclick = async () => {
  const deviceToken = localStorage.getItem('deviceToken') || '';
  loggedIn(await api('POST', '/mfa/verify-login', { mfaType: 'DEVICE', deviceToken }, 'platform'));
};

async function listFactors() {
  const json = await api('GET', '/mfa/factors');
  if (!json) return;
  $('factor-list').replaceChildren(...json.data.map((f) => {
    const li = document.createElement('li');
    li.dataset.factorId = f.factorId;
    li.dataset.mfaType = f.mfaType;
    const name = document.createElement('input');
    name.value = f.name; name.className = 'name';
    const rename = document.createElement('button');
    rename.textContent = 'Rename'; rename.className = 'rename';
    rename.onclick = async () => { if (await api('PATCH', `/mfa/factors/${f.factorId}`, { name: name.value })) listFactors(); };
    const remove = document.createElement('button');
    remove.textContent = 'Remove'; remove.className = 'remove';
    remove.onclick = async () => { if (await api('DELETE', `/mfa/factors/${f.factorId}`)) listFactors(); };
    li.append(`${f.mfaType} ${f.hint || ''} (${f.state}) `, name, rename, remove);
    return li;
  }));
}
$('factors').onclick = listFactors;

$('events').onclick = async () => {
  const json = await api('GET', '/mfa/events');
  if (!json) return;
  const events = json.data.events;
  $('event-list').replaceChildren(...events.map((e) => {
    const li = document.createElement('li');
    li.textContent = `${new Date(e.at).toISOString()} ${e.kind} ${e.mfaType || ''} by ${e.actor}`;
    return li;
  }));
};

$('reset').onclick = async () => {
  if (await api('POST', '/mfa/reset')) { store.access = ''; showSession(); }
};

$('inbox-refresh').onclick = async () => {
  const { mails, texts } = await (await fetch('/inbox')).json();
  $('inbox').replaceChildren(
    ...mails.map((m) => { const li = document.createElement('li'); li.className = 'mail';
      li.textContent = `mail to ${m.to.join(', ')}: ${m.subject} — ${m.text}`; return li; }),
    ...texts.map((t) => { const li = document.createElement('li'); li.className = 'text';
      li.textContent = `text to ${t.to}: ${t.text}`; return li; }),
  );
};

(async () => {
  const fromQuery = new URLSearchParams(location.search).get('token');
  if (fromQuery) { store.platform = fromQuery; store.access = ''; }
  if (!store.platform) store.platform = (await (await fetch('/demo-token')).json()).token;
  $('token').value = store.platform;
  showSession();
})();
