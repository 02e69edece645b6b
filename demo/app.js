// The demo journey's pages: the tokens they keep, the UI kit's token provider, and the
// local inbox (development only: the local SES's mails and SNS's texts).
import '/ui/mfa-elements.js';

export const tokens = {
  get platform() { return localStorage.getItem('platformToken') || ''; },
  set platform(v) { localStorage.setItem('platformToken', v); },
  get access() { return localStorage.getItem('accessToken') || ''; },
  set access(v) { if (v) localStorage.setItem('accessToken', v); else localStorage.removeItem('accessToken'); },
};

/** Hands the page's tokens to an element of the kit; keeps a login's full-access token. */
export function wire(element) {
  element.tokenProvider = async (kind) => (kind === 'platform' ? tokens.platform : tokens.access || tokens.platform);
  element.addEventListener('mfa:verified', (e) => { tokens.access = e.detail.fullAccessToken; });
  return element;
}

export function signOut() {
  tokens.access = '';
  localStorage.removeItem('platformToken');
  location.href = '/';
}

/** The development panel: every mail and text the local stack holds, newest first. */
export function inbox(panel) {
  const list = panel.querySelector('ul');
  const refresh = async () => {
    const { mails, texts } = await (await fetch('/inbox')).json();
    list.replaceChildren(
      ...mails.map((m) => Object.assign(document.createElement('li'), { className: 'mail', textContent: `mail to ${m.to.join(', ')}: ${m.subject} — ${m.text}` })),
      ...texts.map((t) => Object.assign(document.createElement('li'), { className: 'text', textContent: `text to ${t.to}: ${t.text}` })),
    );
  };
  panel.querySelector('button').addEventListener('click', refresh);
  panel.addEventListener('toggle', () => { if (panel.open) refresh(); });
}
