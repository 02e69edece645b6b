// MFA web components: the second step of a login (<mfa-challenge>), enrolment of a factor
// (<mfa-enroll>) and the account page's factor management (<mfa-factors>), in one ES
// module with no build step and no framework. They call only the public MFA API, under the
// `api-base` attribute, with the tokens the host page hands them through a token provider:
//
//   import { strings } from '/ui/mfa-elements.js';
//   element.tokenProvider = async (kind, apiBase) => kind === 'platform' ? passwordStepToken : sessionToken;
//
// `kind` is 'platform' (the token of the password step, for the login itself) or 'session'
// (the full-access token of a login if the page holds one, else the platform token);
// `apiBase` is where the token will be sent (a provider may refuse an unexpected one). The
// elements tell the page what happened with DOM events (bubbling, composed): `mfa:verified`
// (detail: {fullAccessToken, refreshToken, expiresAt, mfaType, purpose: 'login' or
// 'step-up'}), `mfa:enrolled` ({mfaType}),
// `mfa:changed` ({action, factorId?}), `mfa:error` ({code, message, status}) and
// `mfa:enroll-required` (the user has no second factor yet). Theming: the custom properties
// --mfa-accent, --mfa-accent-text, --mfa-radius, --mfa-font, --mfa-text, --mfa-muted,
// --mfa-surface, --mfa-border, --mfa-input-border, --mfa-error, and the parts named in docs/ui-kit.md. Every
// string is in `strings` below: a page translates the kit by assigning to it.

/** Every string the elements show; `{name}` is filled in. */
export const strings = {
  'method.GOOGLE_AUTH': 'Authenticator app',
  'method.PASSKEY': 'Passkey',
  'method.EMAIL_OTP': 'Code by email',
  'method.SMS': 'Code by text message',
  'method.MAGIC_LINK': 'Sign-in link by email',
  'method.DEVICE': 'This remembered device',
  'method.BACKUP_CODE': 'Recovery code',
  'hint.GOOGLE_AUTH': 'Enter the 6-digit code your authenticator app shows.',
  'hint.PASSKEY': 'Use the passkey saved on this device or your security key.',
  'hint.EMAIL_OTP': 'We email you a 6-digit code.',
  'hint.SMS': 'We text you a 6-digit code.',
  'hint.MAGIC_LINK': 'We email you a link that signs you in.',
  'hint.DEVICE': 'This device was remembered at an earlier sign-in.',
  'hint.BACKUP_CODE': 'Enter one of the recovery codes you saved. Each works once.',
  loading: 'Loading…',
  'challenge.title': 'Verify it’s you',
  'challenge.stepUpTitle': 'Confirm it’s you to continue',
  'challenge.other': 'Try another way',
  'challenge.useDevice': 'Continue on this remembered device',
  'challenge.noFactor': 'You have no second factor yet. Set one up to continue.',
  'challenge.verified': 'Verified. You are signed in.',
  'challenge.locked': 'Too many attempts',
  'challenge.lockedText': 'Verification is paused to protect your account. Try again in {time}.',
  'challenge.unlocked': 'You can try again now.',
  'challenge.linkSent': 'We sent a sign-in link to your email. Open it on this device to continue.',
  'challenge.useLink': 'Finish signing in',
  'challenge.linkIntro': 'Press the button to finish signing in with the link from your email.',
  code: 'Code',
  recoveryCode: 'Recovery code',
  verify: 'Verify',
  send: 'Send code',
  resend: 'Send a new code',
  resendIn: 'You can ask for a new code in {seconds} s.',
  sent: 'Code sent. It is valid for a few minutes.',
  sendLink: 'Email me a sign-in link',
  usePasskey: 'Use a passkey',
  remember: 'Remember this device',
  rememberFor: 'Remember this device for {days} days',
  cancel: 'Cancel',
  save: 'Save',
  continue: 'Continue',
  'enroll.title': 'Add a second factor',
  'enroll.choose': 'Choose how you will verify it’s you when you sign in.',
  'enroll.start': 'Set up',
  'enroll.again': 'Add another',
  'enroll.enabled': 'On',
  'enroll.phishingResistant': 'Phishing-resistant',
  'enroll.none': 'No method can be added here.',
  'enroll.scan': 'Scan this QR code with your authenticator app, then enter the code it shows.',
  'enroll.qrAlt': 'QR code for your authenticator app',
  'enroll.secret': 'Can’t scan it? Type this key instead:',
  'enroll.email': 'Email address',
  'enroll.phone': 'Mobile number, with country code',
  'enroll.phoneHint': 'For example +1 415 555 0123.',
  'enroll.sendEmailCode': 'Email me a code',
  'enroll.sendSmsCode': 'Text me a code',
  'enroll.sendLink': 'Email me an activation link',
  'enroll.linkSent': 'We sent an activation link to {email}. Open it to turn on sign-in links.',
  'enroll.activate': 'Turn on sign-in links',
  'enroll.activateIntro': 'Press the button to turn on sign-in links for your account.',
  'enroll.passkeyName': 'Name for this passkey',
  'enroll.passkeyDefault': 'This device',
  'enroll.createPasskey': 'Create a passkey',
  'enroll.done': '{method} is on.',
  'codes.title': 'Save your recovery codes',
  'codes.text': 'Each code signs you in once if you lose your other factors. They are shown only now.',
  'codes.copy': 'Copy codes',
  'codes.copied': 'Codes copied.',
  'codes.download': 'Download codes',
  'codes.saved': 'I saved my codes',
  'factors.title': 'Sign-in factors',
  'factors.none': 'You have no factors.',
  'factors.rename': 'Rename',
  'factors.renameLabel': 'New name for {name}',
  'factors.remove': 'Remove',
  'factors.confirmRemove': 'Remove {name}? You will no longer be able to sign in with it.',
  'factors.removed': '{name} was removed.',
  'factors.renamed': 'Renamed to {name}.',
  'factors.lastUsed': 'last used {when}',
  'factors.neverUsed': 'never used',
  'factors.pending': 'not finished',
  'factors.disabled': 'off',
  'devices.title': 'Remembered devices',
  'devices.none': 'No device is remembered.',
  'devices.forget': 'Forget',
  'devices.forgetAll': 'Forget all devices',
  'devices.until': 'until {when}',
  'devices.forgotten': 'Forgotten.',
  'events.title': 'Recent activity',
  'event.SETUP_STARTED': 'Setup started',
  'event.FACTOR_ADDED': 'Factor added',
  'event.FACTOR_RENAMED': 'Factor renamed',
  'event.FACTOR_REMOVED': 'Factor removed',
  'event.METHOD_ENABLED': 'Method turned on',
  'event.METHOD_DISABLED': 'Method turned off',
  'event.VERIFICATION_SUCCEEDED': 'Signed in',
  'event.VERIFICATION_FAILED': 'Failed verification',
  'event.LOCKED_OUT': 'Locked out',
  'event.BACKUP_CODE_USED': 'Recovery code used',
  'event.BACKUP_CODES_REGENERATED': 'New recovery codes',
  'event.DEVICE_REMEMBERED': 'Device remembered',
  'event.DEVICE_FORGOTTEN': 'Device forgotten',
  'event.SESSIONS_ENDED': 'Other sessions ended',
  'event.RESET': 'Second factors reset',
  'event.ADMIN_RESET': 'Reset by an administrator',
  'event.ENFORCEMENT_CHANGED': 'Organization policy changed',
  separator: ' · ',
  'events.none': 'No activity yet.',
  'codes.regenerate': 'Get new recovery codes',
  'codes.regenerateText': 'New codes replace every code you had.',
  'stepUp.text': 'This change needs a recent second factor.',
  'error.INVALID_CODE': 'That code is not right. Check it and try again.',
  'error.CODE_ALREADY_USED': 'That code was just used. Wait for the next one and enter it.',
  'error.INVALID_LINK': 'This link is invalid, has expired or was already used. Ask for a new one.',
  'error.DEVICE_NOT_REMEMBERED': 'This device is no longer remembered. Choose another way.',
  'error.CEREMONY_EXPIRED': 'That took too long. Start again.',
  'error.INVALID_CREDENTIAL': 'The passkey could not be checked. Try again with the same device.',
  'error.PASSKEY_EXISTS': 'This passkey is already registered.',
  'error.RATE_LIMITED': 'Too many messages. You can ask again in {seconds} s.',
  'error.SESSION_ENDED': 'Your session has ended. Sign in again.',
  'error.TOKEN_EXPIRED': 'Your session has expired. Sign in again.',
  'error.SERVICE_UNAVAILABLE': 'The service is busy. Try again in a moment.',
  'error.NETWORK': 'The network failed. Check your connection and try again.',
  'error.NO_TOKEN': 'The page gave no token: set tokenProvider on the element.',
  'error.PASSKEY_CANCELLED': 'No passkey was used. Try again, or choose another way.',
  retry: 'Try again',
  'error.REQUIRED': 'Enter {field}.',
  aValue: 'a value',
  'error.COPY': 'Copying failed; select the codes and copy them yourself.',
  'time.minutes': '{minutes} min {seconds} s',
  'time.seconds': '{seconds} s',
};

const t = (key, values = {}) =>
  (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? `{${name}}`));

const css = `
:host { display: block; font: var(--mfa-font, 1rem/1.5 system-ui, sans-serif); color: var(--mfa-text, #1f2328);
  --_accent: var(--mfa-accent, #1d4ed8); --_radius: var(--mfa-radius, 8px); --_muted: var(--mfa-muted, #4b5563);
  --_border: var(--mfa-input-border, #6b7280); --_error: var(--mfa-error, #b3261e); max-width: 100%; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.card { background: var(--mfa-surface, #fff); border: 1px solid var(--mfa-border, #d0d7de); border-radius: var(--_radius);
  padding: 1.25rem; max-width: 32rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 0 0 0.75rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.5rem; }
p { margin: 0.5rem 0; }
.muted { color: var(--_muted); font-size: 0.925rem; }
label { display: block; font-weight: 600; margin: 0.75rem 0 0.25rem; }
label.check { display: flex; gap: 0.5rem; align-items: center; font-weight: 400; }
input[type=text], input[type=email], input[type=tel] { width: 100%; font: inherit; padding: 0.6rem 0.7rem;
  border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); }
input[aria-invalid=true] { border-color: var(--_error); }
input.code { font-size: 1.4rem; letter-spacing: 0.3em; font-variant-numeric: tabular-nums; max-width: 14rem; }
input:focus-visible, button:focus-visible, a:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--_accent); outline-offset: 2px; }
button { font: inherit; cursor: pointer; border-radius: calc(var(--_radius) / 2); padding: 0.55rem 1rem; margin: 0.5rem 0.5rem 0 0;
  border: 1px solid var(--_accent); background: var(--_accent); color: var(--mfa-accent-text, #fff); }
button.secondary { background: transparent; color: var(--_accent); }
button.link { background: none; border: none; padding: 0.25rem 0; color: var(--_accent); text-decoration: underline; }
button:disabled { opacity: 0.6; cursor: not-allowed; }
.error { color: var(--_error); font-weight: 600; margin: 0.5rem 0; }
.error:empty { display: none; }
.status:empty { margin: 0; }
h2:focus { outline: none; }
.status { color: var(--_muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain > li { border-top: 1px solid var(--mfa-border, #d0d7de); padding: 0.6rem 0; }
ul.plain > li:first-child { border-top: none; }
.row { display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; align-items: baseline; justify-content: space-between; }
.qr { width: 200px; max-width: 100%; height: auto; image-rendering: pixelated; display: block; margin: 0.5rem 0; }
code.secret, .codes { font-family: ui-monospace, monospace; word-break: break-all; background: #f3f4f6; padding: 0.15rem 0.35rem;
  border-radius: 4px; }
.codes { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 0.25rem 1rem; padding: 0.75rem;
  list-style: none; margin: 0.5rem 0; }
.stepup { border: 2px solid var(--_accent); border-radius: var(--_radius); padding: 0.75rem; margin: 0.75rem 0; }
.stepup .card { border: none; padding: 0; }
`;

/** Builds an element: h('button', {class: 'x', onclick}, 'text', child…). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node && key !== 'list' && key !== 'part') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

// Base64url for WebAuthn: the API sends and takes credential fields encoded.
const dec = (s) => {
  s = s.replace(/-/g, '+').replace(/_/g, '/');
  while (s.length % 4) s += '=';
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer;
};
const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

async function createPasskey(publicKey) {
  const o = structuredClone(publicKey);
  o.challenge = dec(o.challenge);
  o.user.id = dec(o.user.id);
  (o.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
  const c = await navigator.credentials.create({ publicKey: o });
  return { id: c.id, rawId: enc(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment,
    response: { clientDataJSON: enc(c.response.clientDataJSON), attestationObject: enc(c.response.attestationObject),
      transports: c.response.getTransports ? c.response.getTransports() : undefined },
    clientExtensionResults: c.getClientExtensionResults() };
}

async function getPasskey(publicKey, extra = {}) {
  const o = structuredClone(publicKey);
  o.challenge = dec(o.challenge);
  (o.allowCredentials || []).forEach((c) => { c.id = dec(c.id); });
  const a = await navigator.credentials.get({ publicKey: o, ...extra });
  return { id: a.id, rawId: enc(a.rawId), type: a.type,
    response: { clientDataJSON: enc(a.response.clientDataJSON), authenticatorData: enc(a.response.authenticatorData),
      signature: enc(a.response.signature), userHandle: a.response.userHandle ? enc(a.response.userHandle) : null },
    clientExtensionResults: a.getClientExtensionResults() };
}

/** A time as the reader's locale writes it (the API gives Unix seconds or milliseconds). */
const when = (at) => (at ? new Date(at < 1e12 ? at * 1000 : at).toLocaleString() : '');
const duration = (s) => (s >= 60 ? t('time.minutes', { minutes: Math.floor(s / 60), seconds: s % 60 }) : t('time.seconds', { seconds: s }));
let serial = 0;

/** The user a token names (read, not verified: it only picks this browser's device token). */
function subject(token) {
  try {
    const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return String(claims.sub || claims.userId || '');
  } catch {
    return '';
  }
}

/** What the three elements share: the shadow root, the API calls, errors, events, step-up. */
class MfaElement extends HTMLElement {
  constructor() {
    super();
    this.uid = `mfa${++serial}`;
    this.provider = null;
    this.providerSet = new Promise((resolve) => { this.onProvider = resolve; });
    this.freshToken = null;
    this.timers = new Set();
    // A provider the page set before this module defined the element.
    if (Object.prototype.hasOwnProperty.call(this, 'tokenProvider')) {
      const fn = this.tokenProvider;
      delete this.tokenProvider;
      this.tokenProvider = fn;
    }
    const root = this.attachShadow({ mode: 'open' });
    this.titleEl = h('h2', { part: 'title', id: `${this.uid}-title`, tabindex: '-1' });
    this.body = h('div', { part: 'body' });
    this.errorEl = h('p', { class: 'error', part: 'error', role: 'alert', tabindex: '-1', id: `${this.uid}-error` });
    this.statusEl = h('p', { class: 'status', part: 'status', role: 'status' });
    this.card = h('section', { class: 'card', part: 'container', 'aria-labelledby': `${this.uid}-title` },
      this.titleEl, this.errorEl, this.statusEl, this.body);
    root.append(h('style', {}, css), this.card);
  }

  get apiBase() { return (this.getAttribute('api-base') || '').replace(/\/$/, ''); }

  // The first load waits for a task of its own: a page sets `tokenProvider` in a script
  // that runs after the module defining the elements has upgraded them.
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    this.beginTimer = setTimeout(() => {
      this.beginTimer = null;
      if (this.isConnected) this.begin();
      else this.started = false;
    }, 0);
  }

  disconnectedCallback() {
    this.clearTimers();
    this.statusEl.classList.remove('sr-only');
    if (this.beginTimer) {
      clearTimeout(this.beginTimer);
      this.beginTimer = null;
      this.started = false;
    }
  }
  clearTimers() { for (const id of this.timers) clearInterval(id); this.timers.clear(); }

  /** The host page's hook: `async (kind, apiBase) => token`. Set it before or after the
   *  element is inserted: its first request waits for it (5 s at most). */
  set tokenProvider(fn) {
    this.provider = fn;
    if (fn) this.onProvider();
  }

  get tokenProvider() { return this.provider; }

  async token(kind) {
    if (kind === 'session' && this.freshToken) return this.freshToken;
    if (!this.provider) await Promise.race([this.providerSet, new Promise((ok) => setTimeout(ok, 5000))]);
    return this.provider ? (await this.provider(kind, this.apiBase)) || '' : '';
  }

  /** This browser's remembered-device token for the user `token` names, on this API. */
  deviceKey(token) { return `mfa:deviceToken:${this.apiBase}:${subject(token)}`; }

  /** Calls the API: {ok, status, code, message, body, retryAfter}. */
  async call(method, path, body, kind = 'session') {
    const headers = {};
    if (kind) {
      // A provider that refuses (throws) is a missing token: the element offers to try again.
      const token = await this.token(kind).catch(() => '');
      if (!token) return { ok: false, status: 0, code: 'NO_TOKEN', message: t('error.NO_TOKEN'), body: {} };
      headers.authorization = `Bearer ${token}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(this.apiBase + path, { method, headers, redirect: 'error', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return { ok: false, status: 0, code: 'NETWORK', message: t('error.NETWORK'), body: {} };
    }
    const json = await res.json().catch(() => ({}));
    const retryAfter = Number(res.headers.get('retry-after')) || 0;
    const ok = res.ok && json.success !== false;
    return { ok, status: res.status, code: ok ? null : json.code || `HTTP_${res.status}`, message: json.error || json.message || '', body: json, retryAfter };
  }

  emit(name, detail = {}) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  /** The sentence for a failed call: the kit's own for a known code, else the API's. */
  sentence(reply) {
    const key = `error.${reply.code}`;
    if (strings[key]) return t(key, { seconds: reply.retryAfter || 60 });
    return reply.message || t('error.SERVICE_UNAVAILABLE');
  }

  /** Shows a failed call's error, announces it, moves focus to it and tells the page;
   *  `input`, the field it is about, is marked invalid and described by it. */
  fail(reply, input) {
    const message = typeof reply === 'string' ? reply : this.sentence(reply);
    this.errorEl.textContent = message;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', this.errorEl.id);
      input.addEventListener('input', () => input.removeAttribute('aria-invalid'), { once: true });
    }
    this.errorEl.focus();
    if (typeof reply !== 'string') this.emit('mfa:error', { code: reply.code, message, status: reply.status });
    return null;
  }

  say(text) {
    this.errorEl.textContent = '';
    this.statusEl.classList.remove('sr-only');
    this.statusEl.textContent = text;
  }

  /** A first load that failed: its error, and a button to load again. */
  failLoad(reply, again) {
    this.show(this.titleEl.textContent, this.button(t('retry'), again));
    return this.fail(reply);
  }
  clearMessages() { this.errorEl.textContent = ''; this.statusEl.textContent = ''; }

  /** Replaces the element's body; focuses the first field (or `focus`), as the next step;
   *  `focus === false` leaves the focus where it is (a list redrawn after another change). */
  show(title, nodes, focus) {
    this.titleEl.textContent = title;
    this.body.replaceChildren(...[nodes].flat().filter((n) => n !== null && n !== undefined && n !== false));
    this.view = null;
    if (focus === false) return;
    const target = focus || this.body.querySelector('input:not([type=checkbox]), button');
    if (target) target.focus();
  }

  /** A labelled one-time-code input. */
  codeField(labelText = t('code'), { numeric = true } = {}) {
    const id = `${this.uid}-code-${++serial}`;
    const input = h('input', { id, type: 'text', class: numeric ? 'code' : '', name: 'code', part: 'input',
      autocomplete: 'one-time-code', inputmode: numeric ? 'numeric' : 'text', autocapitalize: 'off',
      maxlength: numeric ? '8' : '32', required: true });
    return { input, nodes: [h('label', { for: id }, labelText), input] };
  }

  field(labelText, attrs, hint) {
    const id = `${this.uid}-f-${++serial}`;
    const hintId = hint ? `${id}-hint` : undefined;
    const input = h('input', { id, part: 'input', 'aria-describedby': hintId, ...attrs });
    return { input, nodes: [h('label', { for: id }, labelText), hint ? h('p', { class: 'muted', id: hintId }, hint) : null, input] };
  }

  button(text, onclick, { secondary = false, cls, label } = {}) {
    const b = h('button', { type: 'button', part: secondary ? 'button secondary' : 'button', class: cls || (secondary ? 'secondary' : ''), 'aria-label': label }, text);
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { await onclick(); } finally { if (b.isConnected && !b.dataset.hold) b.disabled = false; }
    });
    return b;
  }

  /** A form whose submit (Enter or its button) runs `action`. */
  form(nodes, submitText, action) {
    const submit = h('button', { type: 'submit', part: 'button' }, submitText);
    const form = h('form', { novalidate: true }, ...nodes, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const empty = [...form.querySelectorAll('input[required]')].find((i) => !i.value.trim());
      if (empty) {
        this.fail(t('error.REQUIRED', { field: form.querySelector(`label[for="${empty.id}"]`)?.textContent.toLowerCase() || t('aValue') }));
        empty.focus();
        return;
      }
      submit.disabled = true;
      try { await action(); } finally { if (submit.isConnected) submit.disabled = false; }
    });
    return form;
  }

  /** Counts down `seconds`, calling `tick(left)` each second and `done()` at zero. */
  countdown(seconds, tick, done) {
    let left = Math.max(1, Math.ceil(seconds));
    tick(left);
    const id = setInterval(() => {
      left -= 1;
      if (left > 0) { tick(left); return; }
      clearInterval(id);
      this.timers.delete(id);
      done();
    }, 1000);
    this.timers.add(id);
  }

  /** Recovery codes, shown once, with copy and download. */
  codesPanel(codes, onDone) {
    const list = h('ul', { class: 'codes', part: 'codes', 'aria-label': t('codes.title') }, codes.map((c) => h('li', {}, c)));
    const text = codes.join('\n') + '\n';
    const copy = this.button(t('codes.copy'), async () => {
      try { await navigator.clipboard.writeText(text); this.say(t('codes.copied')); } catch { this.fail(t('error.COPY')); }
    }, { secondary: true });
    const href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const download = h('a', { part: 'link', download: 'recovery-codes.txt', href }, t('codes.download'));
    const done = () => { URL.revokeObjectURL(href); return onDone(); };
    return [h('p', {}, t('codes.text')), list, copy, download, h('div', {}, this.button(t('codes.saved'), done))];
  }

  /** Runs `attempt` (an API call); when the API asks for a recent second factor, shows an
   *  <mfa-challenge> in place, and once it is passed runs `attempt` again with its token. */
  async withStepUp(attempt, slot = this.body) {
    const reply = await attempt();
    if (reply.ok || reply.code !== 'STEP_UP_REQUIRED') return reply;
    const passed = await this.stepUp(slot);
    if (!passed) return { ok: false, code: 'STEP_UP_CANCELLED', message: '' };
    // The step-up's token makes this one retry; the page keeps it from `mfa:verified`.
    this.freshToken = passed;
    try { return await attempt(); } finally { this.freshToken = null; }
  }

  stepUp(slot) {
    return new Promise((resolve) => {
      this.clearMessages();
      const challenge = h('mfa-challenge', { 'api-base': this.getAttribute('api-base') || '', purpose: 'step-up' });
      challenge.tokenProvider = () => this.token('session');
      const box = h('div', { class: 'stepup', part: 'step-up', role: 'group', 'aria-label': t('challenge.stepUpTitle') },
        h('p', {}, t('stepUp.text')), challenge,
        this.button(t('cancel'), () => { box.remove(); resolve(false); }, { secondary: true }));
      // The token goes with the promise: a step-up passed after Cancel (or after the box
      // was redrawn away) settles nothing and leaves no token behind.
      challenge.addEventListener('mfa:verified', (e) => {
        setTimeout(() => box.remove(), 0);
        resolve(e.detail.fullAccessToken);
      });
      slot.prepend(box);
    });
  }
}

const ORDER = ['PASSKEY', 'GOOGLE_AUTH', 'SMS', 'EMAIL_OTP', 'MAGIC_LINK'];

/**
 * <mfa-challenge api-base="/api" [purpose="step-up"] [link-token="…"]>: the second step of
 * a login. It offers the user's enabled factors, the primary first, then a remembered
 * device (when this browser holds one) and a recovery code; after too many failures it
 * shows how long to wait. `link-token`: the token of a mailed sign-in link, used on press.
 */
export class MfaChallenge extends MfaElement {
  begin() {
    this.titleEl.textContent = this.defaultTitle;
    const link = this.getAttribute('link-token');
    if (link) this.linkLanding(link); else this.load();
  }

  get stepUpMode() { return this.getAttribute('purpose') === 'step-up'; }
  get defaultTitle() { return this.stepUpMode ? t('challenge.stepUpTitle') : t('challenge.title'); }

  /** The user's factors, and the ways to verify offered: a remembered device first (never
   *  for a step-up), the primary method, the others, a recovery code. */
  async load() {
    this.show(this.defaultTitle, h('p', { class: 'muted' }, t('loading')));
    // The status says whether this login may remember its device: one request before the login.
    const [status, platform] = await Promise.all([
      this.call('GET', '/mfa/status', undefined, 'platform'),
      this.token('platform'),
    ]);
    if (!status.ok) return this.failLoad(status, () => this.load());
    const { enabledMethods = [], primaryMethod } = status.body.data;
    if (enabledMethods.length === 0) {
      this.show(this.defaultTitle, h('p', {}, t('challenge.noFactor')));
      this.emit('mfa:enroll-required', { status: status.body.data });
      return null;
    }
    this.deviceStore = this.deviceKey(platform);
    const remember = status.body.data.rememberDevice;
    this.remember = !this.stepUpMode && remember?.isAllowedToRemember ? remember.lifetimeSeconds : 0;
    const rank = (m) => (m === primaryMethod ? -1 : ORDER.indexOf(m));
    // A sign-in link finishes on another page: no way to confirm a change in place.
    this.methods = enabledMethods.filter((m) => !(this.stepUpMode && m === 'MAGIC_LINK')).sort((a, b) => rank(a) - rank(b));
    const device = !this.stepUpMode && localStorage.getItem(this.deviceStore);
    this.options = [...(device ? ['DEVICE'] : []), ...this.methods, 'BACKUP_CODE'];
    this.choose(this.options[0]);
    return true;
  }

  /** Shows one way to verify, with the others offered below it. */
  choose(method) {
    this.clearTimers();
    this.clearMessages();
    this.stopAutofill();
    const others = this.options.filter((m) => m !== method);
    const other = others.length
      ? h('nav', { 'aria-label': t('challenge.other'), part: 'other-ways' }, h('h3', {}, t('challenge.other')),
        h('ul', { class: 'plain' }, others.map((m) => h('li', {},
          h('button', { type: 'button', class: 'link', part: 'choice', dataset: { method: m }, onclick: () => this.choose(m) }, t(`method.${m}`))))))
      : null;
    this.rememberChecked = () => false;
    const panel = this.panel(method);
    this.show(this.defaultTitle, [h('h3', { part: 'method' }, t(`method.${method}`)), h('p', { class: 'muted' }, t(`hint.${method}`)), ...panel, other]);
    const codeInput = this.body.querySelector('input.code');
    if (codeInput && this.methods.includes('PASSKEY')) this.autofill(codeInput);
  }

  /** Passkey autofill where the browser offers it: the code field also lists the user's
   *  passkeys (a conditional WebAuthn request), so picking one there signs in. */
  async autofill(input) {
    const pkc = globalThis.PublicKeyCredential;
    if (!pkc?.isConditionalMediationAvailable || !(await pkc.isConditionalMediationAvailable().catch(() => false))) return;
    const options = await this.call('POST', '/mfa/passkey/auth-options', undefined, 'platform');
    if (!options.ok || !input.isConnected) return;
    input.setAttribute('autocomplete', 'one-time-code webauthn');
    const abort = new AbortController();
    this.autofillAbort = abort;
    let credential;
    try {
      credential = await getPasskey(options.body.data.publicKey, { mediation: 'conditional', signal: abort.signal });
    } catch {
      return;
    }
    if (this.autofillAbort === abort) this.verify({ mfaType: 'PASSKEY', credential, rememberDevice: this.rememberChecked() || undefined });
  }

  stopAutofill() {
    if (this.autofillAbort) this.autofillAbort.abort();
    this.autofillAbort = null;
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.stopAutofill();
    this.started = false;
  }

  rememberBox() {
    if (!this.remember) return { nodes: [], checked: () => false };
    const id = `${this.uid}-remember`;
    const box = h('input', { type: 'checkbox', id, part: 'checkbox' });
    const days = Math.round(this.remember / 86400);
    this.rememberChecked = () => box.checked;
    return { nodes: [h('label', { class: 'check', for: id }, box, t('rememberFor', { days }))], checked: () => box.checked };
  }

  panel(method) {
    const remember = this.rememberBox();
    if (method === 'DEVICE') {
      return [this.button(t('challenge.useDevice'), () => this.verify({ mfaType: 'DEVICE', deviceToken: localStorage.getItem(this.deviceStore) || '' }))];
    }
    if (method === 'PASSKEY') {
      return [...remember.nodes, this.button(t('usePasskey'), () => this.passkey(remember.checked()))];
    }
    if (method === 'MAGIC_LINK') {
      return [this.button(t('sendLink'), async () => {
        const reply = await this.call('POST', '/mfa/magic-link/send', undefined, 'platform');
        if (!reply.ok) return this.fail(reply);
        localStorage.setItem('mfa:linkPurpose', 'login');
        this.say(t('challenge.linkSent'));
        return null;
      })];
    }
    const backup = method === 'BACKUP_CODE';
    const code = this.codeField(backup ? t('recoveryCode') : t('code'), { numeric: !backup });
    const form = this.form([...code.nodes, ...(backup ? [] : remember.nodes)], t('verify'), () => (backup
      ? this.verify({ code: code.input.value.trim() }, '/mfa/recover', code.input)
      : this.verify({ mfaType: method, code: code.input.value.trim(), rememberDevice: remember.checked() || undefined }, undefined, code.input)));
    if (method === 'EMAIL_OTP' || method === 'SMS') return [this.sender(method, code.input), form];
    return [form];
  }

  /** The send button of a mailed or texted code, with its cool-down shown. */
  sender(method, input) {
    const note = h('p', { class: 'muted', part: 'cooldown' });
    const wrap = h('div', {});
    const send = this.button(t('send'), async () => {
      const reply = await this.call('POST', method === 'SMS' ? '/mfa/sms/send' : '/mfa/email-code/send', undefined, 'platform');
      if (!reply.ok && reply.code !== 'RATE_LIMITED') return this.fail(reply);
      if (reply.ok) { this.say(t('sent')); input.focus(); } else this.fail(reply);
      send.textContent = t('resend');
      send.dataset.hold = 'cool-down';
      send.disabled = true;
      this.countdown(reply.retryAfter || 60, (s) => { note.textContent = t('resendIn', { seconds: s }); },
        () => { delete send.dataset.hold; send.disabled = false; note.textContent = ''; });
      return null;
    }, { secondary: true });
    wrap.append(send, note);
    return wrap;
  }

  async passkey(remember) {
    this.stopAutofill();
    const options = await this.call('POST', '/mfa/passkey/auth-options', undefined, 'platform');
    if (!options.ok) return this.fail(options);
    let credential;
    try { credential = await getPasskey(options.body.data.publicKey); } catch { return this.fail(t('error.PASSKEY_CANCELLED')); }
    return this.verify({ mfaType: 'PASSKEY', credential, rememberDevice: remember || undefined });
  }

  /** One verification at a time: a second (a passkey picked from autofill while a code is
   *  on its way, say) waits for none and is dropped. */
  async verify(body, path = '/mfa/verify-login', input) {
    if (this.busy) return null;
    this.busy = true;
    this.clearMessages();
    let reply;
    try { reply = await this.call('POST', path, body, 'platform'); } finally { this.busy = false; }
    if (reply.ok) return this.verified(reply.body, body.mfaType || 'BACKUP_CODE');
    if (reply.code === 'TOO_MANY_ATTEMPTS') return this.locked(reply.retryAfter || 900);
    if (reply.code === 'DEVICE_NOT_REMEMBERED') {
      localStorage.removeItem(this.deviceStore);
      this.options = this.options.filter((m) => m !== 'DEVICE');
      this.choose(this.options[0]);
      return this.fail(reply);
    }
    if (input) input.value = '';
    return this.fail(reply, input);
  }

  async verified(body, mfaType) {
    this.clearTimers();
    this.stopAutofill();
    if (body.deviceToken) localStorage.setItem(this.deviceStore || this.deviceKey(await this.token('platform')), body.deviceToken);
    this.show(this.defaultTitle, [], this.titleEl);
    this.say(t('challenge.verified'));
    this.emit('mfa:verified', { fullAccessToken: body.fullAccessToken, refreshToken: body.refreshToken, expiresAt: body.expiresAt,
      mfaType, purpose: this.stepUpMode ? 'step-up' : 'login' });
    return null;
  }

  /** After too many failures: what happened, and the time left to wait, counted down. The
   *  live region says it once; the count itself is not a live region. */
  locked(seconds) {
    this.clearTimers();
    this.stopAutofill();
    const text = h('p', { part: 'locked' });
    this.show(t('challenge.locked'), text, this.titleEl);
    const sentence = t('challenge.lockedText', { time: duration(Math.ceil(seconds)) });
    this.errorEl.textContent = '';
    this.statusEl.textContent = sentence;
    this.statusEl.classList.add('sr-only');
    const said = setTimeout(() => { if (this.statusEl.textContent === sentence) this.statusEl.textContent = ''; }, 10000);
    this.emit('mfa:error', { code: 'TOO_MANY_ATTEMPTS', message: sentence, status: 429 });
    this.countdown(seconds, (s) => { text.textContent = t('challenge.lockedText', { time: duration(s) }); }, async () => {
      clearTimeout(said);
      this.statusEl.classList.remove('sr-only');
      if (await this.load()) this.say(t('challenge.unlocked'));
    });
    return null;
  }

  linkLanding(token) {
    this.show(t('challenge.title'), [h('p', {}, t('challenge.linkIntro')),
      this.button(t('challenge.useLink'), () => this.verify({ mfaType: 'MAGIC_LINK', token }))]);
  }
}

/**
 * <mfa-enroll api-base="/api" [methods="PASSKEY GOOGLE_AUTH …"] [link-token="…"]>: adds a
 * factor of each method the deployment and the organization allow (narrowed by `methods`):
 * the authenticator's QR code and typed key, codes by mail or text with their resend
 * cool-down, the passkey ceremony, sign-in links, and recovery codes shown once.
 * `link-token`: the token of a mailed activation link, used on press.
 */
export class MfaEnroll extends MfaElement {
  begin() {
    // The list of methods follows changes made by the page's other elements.
    this.onChanged = () => { if (this.view === 'list') this.load(false); };
    window.addEventListener('mfa:changed', this.onChanged);
    const link = this.getAttribute('link-token');
    if (link) {
      this.show(t('enroll.title'), [h('p', {}, t('enroll.activateIntro')), this.button(t('enroll.activate'), async () => {
        const reply = await this.call('POST', '/mfa/magic-link/activate', { token: link }, null);
        if (!reply.ok) return this.fail(reply);
        return this.enrolled('MAGIC_LINK');
      })]);
    } else this.load();
  }

  async load(focus = true) {
    this.clearTimers();
    if (focus) this.show(t('enroll.title'), h('p', { class: 'muted' }, t('loading')));
    const reply = await this.call('GET', '/mfa/methods');
    if (!reply.ok) return this.failLoad(reply, () => this.load());
    const only = (this.getAttribute('methods') || '').split(/[\s,]+/).filter(Boolean);
    const methods = reply.body.data
      .filter((m) => m.isAvailable && (only.length === 0 || only.includes(m.type)))
      .sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
    if (methods.length === 0) return this.show(t('enroll.title'), h('p', {}, t('enroll.none')));
    this.show(t('enroll.title'), [h('p', { class: 'muted' }, t('enroll.choose')), h('ul', { class: 'plain' }, methods.map((m) =>
      h('li', { class: 'row', part: 'option', dataset: { method: m.type } },
        h('span', {}, h('strong', {}, t(`method.${m.type}`)), m.isEnabled ? `${t('separator')}${t('enroll.enabled')}` : '',
          m.isPhishingResistant ? `${t('separator')}${t('enroll.phishingResistant')}` : '',
          h('br'), h('span', { class: 'muted' }, t(`hint.${m.type}`))),
        this.button(t('enroll.start'), () => this.start(m.type), { label: `${t('enroll.start')}: ${t(`method.${m.type}`)}` }))))],
    focus ? this.titleEl : false);
    this.view = 'list';
    return null;
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener('mfa:changed', this.onChanged);
    this.started = false;
  }

  back() { return this.button(t('cancel'), () => this.load(), { secondary: true }); }

  start(method) {
    this.clearMessages();
    const title = t(`method.${method}`);
    if (method === 'GOOGLE_AUTH') return this.authenticator();
    if (method === 'PASSKEY') {
      const name = this.field(t('enroll.passkeyName'), { type: 'text', value: t('enroll.passkeyDefault'), autocomplete: 'off', required: true });
      return this.show(title, [this.form(name.nodes, t('enroll.createPasskey'), () => this.passkey(name.input.value.trim())), this.back()]);
    }
    const address = method === 'SMS'
      ? this.field(t('enroll.phone'), { type: 'tel', autocomplete: 'tel', inputmode: 'tel', required: true }, t('enroll.phoneHint'))
      : this.field(t('enroll.email'), { type: 'email', autocomplete: 'email' });
    const submit = { SMS: 'enroll.sendSmsCode', EMAIL_OTP: 'enroll.sendEmailCode', MAGIC_LINK: 'enroll.sendLink' }[method];
    return this.show(title, [this.form(address.nodes, t(submit), () => this.send(method, address.input.value.trim())), this.back()]);
  }

  async setup(body) {
    return this.withStepUp(() => this.call('POST', '/mfa/setup', body));
  }

  async authenticator() {
    const reply = await this.setup({ mfaType: 'GOOGLE_AUTH' });
    if (!reply.ok) return this.fail(reply);
    const { qrCode, secret, backupCodes } = reply.body.data;
    const code = this.codeField();
    const form = this.form(code.nodes, t('verify'), async () => {
      const done = await this.call('POST', '/mfa/verify-setup', { mfaType: 'GOOGLE_AUTH', code: code.input.value.trim() });
      if (!done.ok) { code.input.value = ''; return this.fail(done, code.input); }
      if (backupCodes?.length) return this.show(t('codes.title'), this.codesPanel(backupCodes, () => this.enrolled('GOOGLE_AUTH')));
      return this.enrolled('GOOGLE_AUTH');
    });
    this.show(t('method.GOOGLE_AUTH'), [h('p', {}, t('enroll.scan')),
      h('img', { class: 'qr', part: 'qr', src: qrCode, alt: t('enroll.qrAlt'), width: 200, height: 200 }),
      h('p', { class: 'muted' }, t('enroll.secret'), ' ', h('code', { class: 'secret', part: 'secret' }, secret.replace(/(.{4})/g, '$1 ').trim())),
      form, this.back()], code.input);
    return null;
  }

  async send(method, address) {
    const body = method === 'SMS' ? { mfaType: 'SMS', phoneNumber: address } : { mfaType: method, email: address || undefined };
    const reply = await this.setup(body);
    if (!reply.ok) return this.fail(reply);
    if (method === 'MAGIC_LINK') {
      this.show(t('method.MAGIC_LINK'), [this.back()]);
      this.say(t('enroll.linkSent', { email: reply.body.data?.email || address }));
      localStorage.setItem('mfa:linkPurpose', 'setup');
      return null;
    }
    const code = this.codeField();
    const note = h('p', { class: 'muted', part: 'cooldown' });
    const resend = this.button(t('resend'), () => this.send(method, address), { secondary: true });
    const form = this.form(code.nodes, t('verify'), async () => {
      const done = await this.call('POST', '/mfa/verify-setup', { mfaType: method, code: code.input.value.trim() });
      if (!done.ok) { code.input.value = ''; return this.fail(done, code.input); }
      return this.enrolled(method);
    });
    this.show(t(`method.${method}`), [form, resend, note, this.back()], code.input);
    this.say(t('sent'));
    this.countdown(reply.retryAfter || 60, (s) => { resend.disabled = true; note.textContent = t('resendIn', { seconds: s }); },
      () => { resend.disabled = false; note.textContent = ''; });
    return null;
  }

  async passkey(name) {
    const reply = await this.setup({ mfaType: 'PASSKEY', deviceInfo: { name: name || t('enroll.passkeyDefault') } });
    if (!reply.ok) return this.fail(reply);
    let credential;
    try {
      credential = await createPasskey(reply.body.data.publicKey);
    } catch (e) {
      // InvalidStateError: the authenticator holds one of the excluded credentials.
      return this.fail(t(e?.name === 'InvalidStateError' ? 'error.PASSKEY_EXISTS' : 'error.PASSKEY_CANCELLED'));
    }
    const done = await this.call('POST', '/mfa/passkey/complete-registration', { credential, challenge: reply.body.data.challenge });
    if (!done.ok) return this.fail(done);
    return this.enrolled('PASSKEY');
  }

  enrolled(mfaType) {
    this.clearTimers();
    this.show(t('enroll.title'), this.getAttribute('link-token') ? [] : [this.button(t('enroll.again'), () => this.load(), { secondary: true })], this.titleEl);
    this.say(t('enroll.done', { method: t(`method.${mfaType}`) }));
    this.emit('mfa:enrolled', { mfaType });
    return null;
  }
}

/**
 * <mfa-factors api-base="/api">: the account page's list of factors (rename, remove with
 * the step-up done in place), remembered devices (forget one or all), recent activity and
 * new recovery codes. It reloads when an <mfa-enroll> of the page enrols a factor.
 */
export class MfaFactors extends MfaElement {
  begin() {
    this.titleEl.textContent = t('factors.title');
    this.onEnrolled = () => this.refresh();
    window.addEventListener('mfa:enrolled', this.onEnrolled);
    this.refresh();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener('mfa:enrolled', this.onEnrolled);
    this.started = false;
  }

  async refresh(focus) {
    const [factors, devices, events] = await Promise.all([
      this.call('GET', '/mfa/factors'), this.call('GET', '/mfa/devices'), this.call('GET', '/mfa/events')]);
    const failed = [factors, devices, events].find((r) => !r.ok);
    if (failed) return this.failLoad(failed, () => this.refresh());
    this.factors = factors.body.data;
    const list = h('ul', { class: 'plain', part: 'factors' }, this.factors.length
      ? this.factors.map((f) => this.factorRow(f)) : h('li', {}, t('factors.none')));
    const deviceList = devices.body.data;
    const deviceRows = h('ul', { class: 'plain', part: 'devices' }, deviceList.length
      ? deviceList.map((d) => h('li', { class: 'row', dataset: { deviceId: d.deviceId } },
        h('span', {}, h('strong', {}, d.name), ' ', h('span', { class: 'muted' }, t('devices.until', { when: when(d.expiresAt) }))),
        h('button', { type: 'button', class: 'secondary', part: 'button secondary', 'aria-label': `${t('devices.forget')}: ${d.name}`,
          onclick: () => this.change(() => this.call('DELETE', `/mfa/devices/${encodeURIComponent(d.deviceId)}`), 'forget-device', t('devices.forgotten')) },
        t('devices.forget'))))
      : h('li', {}, t('devices.none')));
    const eventRows = h('ul', { class: 'plain', part: 'events' }, events.body.data.events.length
      ? events.body.data.events.slice(0, 10).map((e) => h('li', { class: 'row' },
        h('span', {}, strings[`event.${e.kind}`] ?? e.kind, e.mfaType ? `${t('separator')}${t(`method.${e.mfaType}`)}` : ''),
        h('span', { class: 'muted' }, when(e.at))))
      : h('li', {}, t('events.none')));
    this.show(t('factors.title'), [list,
      h('h3', {}, t('codes.regenerate')), h('p', { class: 'muted' }, t('codes.regenerateText')),
      this.button(t('codes.regenerate'), () => this.newCodes(), { secondary: true }),
      h('h3', {}, t('devices.title')), deviceRows,
      deviceList.length ? this.button(t('devices.forgetAll'), () => this.change(() => this.call('DELETE', '/mfa/devices'), 'forget-devices', t('devices.forgotten')), { secondary: true }) : null,
      h('h3', {}, t('events.title')), eventRows], focus || this.titleEl);
    return true;
  }

  factorRow(f) {
    const name = f.name || t(`method.${f.mfaType}`);
    const state = f.state === 'enabled' || f.state === 'ENABLED' ? '' : `${t('separator')}${f.state === 'pending' || f.state === 'PENDING' ? t('factors.pending') : t('factors.disabled')}`;
    const row = h('li', { part: 'factor', dataset: { factorId: f.factorId, mfaType: f.mfaType } });
    const view = () => row.replaceChildren(h('div', { class: 'row' },
      h('span', {}, h('strong', { class: 'name' }, name), h('br'),
        h('span', { class: 'muted' }, t(`method.${f.mfaType}`), f.hint ? `${t('separator')}${f.hint}` : '', state, t('separator'),
          f.lastUsedAt ? t('factors.lastUsed', { when: when(f.lastUsedAt) }) : t('factors.neverUsed'))),
      h('span', {},
        h('button', { type: 'button', class: 'secondary rename', part: 'button secondary', 'aria-label': `${t('factors.rename')}: ${name}`, onclick: rename }, t('factors.rename')),
        h('button', { type: 'button', class: 'secondary remove', part: 'button secondary', 'aria-label': `${t('factors.remove')}: ${name}`, onclick: confirm }, t('factors.remove')))));
    const rename = () => {
      const field = this.field(t('factors.renameLabel', { name }), { type: 'text', value: name, maxlength: '64', autocomplete: 'off', required: true });
      row.replaceChildren(this.form(field.nodes, t('save'), () => this.change(
        () => this.call('PATCH', `/mfa/factors/${encodeURIComponent(f.factorId)}`, { name: field.input.value.trim() }),
        'rename', t('factors.renamed', { name: field.input.value.trim() }), f.factorId)),
      this.button(t('cancel'), () => { view(); row.querySelector('button.rename').focus(); }, { secondary: true }));
      field.input.focus();
      field.input.select();
    };
    const confirm = () => {
      const slot = h('div', {});
      row.replaceChildren(slot, h('p', {}, t('factors.confirmRemove', { name })),
        this.button(t('factors.remove'), () => this.change(
          () => this.call('DELETE', `/mfa/factors/${encodeURIComponent(f.factorId)}`), 'remove', t('factors.removed', { name }), f.factorId, slot), { cls: 'confirm' }),
        this.button(t('cancel'), () => { view(); row.querySelector('button.remove').focus(); }, { secondary: true }));
      row.querySelector('button').focus();
    };
    view();
    return row;
  }

  /** A change: the step-up in place when it needs one, then the list again and the event. */
  async change(attempt, action, done, factorId, slot) {
    this.clearMessages();
    const reply = await this.withStepUp(attempt, slot || this.body);
    if (reply.code === 'STEP_UP_CANCELLED') return this.refresh();
    if (!reply.ok) return this.fail(reply);
    this.emit('mfa:changed', { action, factorId });
    if (await this.refresh()) this.say(done);
    return null;
  }

  async newCodes() {
    this.clearMessages();
    const reply = await this.withStepUp(() => this.call('POST', '/mfa/backup-codes'));
    if (!reply.ok) return reply.code === 'STEP_UP_CANCELLED' ? null : this.fail(reply);
    this.emit('mfa:changed', { action: 'recovery-codes' });
    this.show(t('codes.title'), this.codesPanel(reply.body.data.backupCodes, () => this.refresh()));
    return null;
  }
}

customElements.define('mfa-challenge', MfaChallenge);
customElements.define('mfa-enroll', MfaEnroll);
customElements.define('mfa-factors', MfaFactors);
