// www/js/app.js -- the console's frame: login, the hash router (#/zones, #/zone/NAME/TAB, #/lookup), keys

import { api, session, whenUnauthorized } from './api.js';
import { h, fill, $, flash, showError } from './dom.js';
import { zonesPage, newZonePage } from './zones.js';
import { zonePage } from './zone.js';
import { lookupPage } from './lookup.js';

const main = $('#main');
let cleanup = null;           // what the page on screen stops when it is left (live timers)

function loginPage(el, _args, reason) {
  const input = h('input#key', { type: 'password', autocomplete: 'current-password', required: true,
                                  'data-field': 'key', spellcheck: 'false' });
  const form = h('form.card.login', { on: { submit: async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    try {
      await api('GET', 'status', { key });
      session.set(key);
      location.hash = sessionStorage.getItem('tandem.after-login') || '#/zones';
      sessionStorage.removeItem('tandem.after-login');
    } catch (e) {
      showError(form, e.status === 401 ? { message: 'This key is not accepted.', field: 'key' } : e);
    }
  } } },
    h('h1', 'Log in'),
    h('p.muted', 'Give an API key of this server (the admin key is in the file named by http.api-key-file). ' +
                 'It is kept in this browser tab only, until you log out or close the tab.'),
    reason ? h('div.field-error', reason) : null,
    h('label.field', h('span.label', 'API key'), input),
    h('button.primary', { type: 'submit' }, 'Log in'));
  fill(el, form);
  input.focus();
}

const routes = [
  [/^#\/login$/, loginPage],
  [/^#\/zones$/, zonesPage],
  [/^#\/new$/, newZonePage],
  [/^#\/zone\/([^/]+)(?:\/(\w+))?$/, zonePage],
  [/^#\/lookup$/, lookupPage],
];

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  let hash = location.hash || '#/zones';
  const loggedIn = !!session.key();
  $('#nav').hidden = !loggedIn;
  if (!loggedIn && hash !== '#/login') {
    sessionStorage.setItem('tandem.after-login', hash);
    location.hash = '#/login';
    return;
  }
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('current', hash.startsWith('#/' + a.dataset.nav) ||
                                  (a.dataset.nav === 'zones' && (hash.startsWith('#/zone/') || hash === '#/new')));
  for (const [re, page] of routes) {
    const m = re.exec(hash);
    if (m) {
      const args = m.slice(1).map((s) => s === undefined ? s : decodeURIComponent(s));
      try {
        const c = await page(main, args);
        if (typeof c === 'function') cleanup = c;
      } catch (e) {
        if (e.status !== 401) fill(main, h('div.card', h('h1', 'Something went wrong'), h('p.error', e.message)));
      }
      return;
    }
  }
  fill(main, h('div.card', h('h1', 'No such page'), h('a', { href: '#/zones' }, 'Back to the zones')));
}

whenUnauthorized(() => {
  session.clear();
  if (location.hash !== '#/login') {
    sessionStorage.setItem('tandem.after-login', location.hash);
    location.hash = '#/login';
    flash('The API did not accept the key (it may have been deleted): log in again.', 'error');
  }
});

$('#logout').addEventListener('click', () => {
  session.clear();
  location.hash = '#/login';
});

// Keys: g z (zones), g l (look up), / (the page's filter), ? (help). Not while typing in a field.
let pendingG = false;
document.addEventListener('keydown', (ev) => {
  const t = ev.target;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))))
    return;
  if (pendingG) {
    pendingG = false;
    if (ev.key === 'z') location.hash = '#/zones';
    else if (ev.key === 'l') location.hash = '#/lookup';
    return;
  }
  if (ev.key === 'g') { pendingG = true; setTimeout(() => { pendingG = false; }, 1000); }
  else if (ev.key === '/') {
    const f = document.querySelector('[data-filter]');
    if (f) { ev.preventDefault(); f.focus(); f.select?.(); }
  } else if (ev.key === '?') {
    flash('Keys: g z zones, g l look up, / filter, n new record (records window), Esc cancel an edit.');
  }
});

window.addEventListener('hashchange', route);
route();
