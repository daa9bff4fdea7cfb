// BitScrape UI entry point: hash router, the one Server-Sent Events connection, token prompt.
import * as api from './api.js';
import { destroyAll } from './charts.js';
import { clear, h } from './dom.js';
import * as dashboard from './views/dashboard.js';
import * as network from './views/network.js';
import * as torrent from './views/torrent.js';
import * as torrents from './views/torrents.js';

// --- live events ---------------------------------------------------------------------------
class Events {
  constructor() {
    this.handlers = { status: new Set(), recent: new Set(), discovery: new Set() };
    this.lastStatus = null;
    this.recent = [];
    this.source = null;
  }
  on(type, fn) {
    this.handlers[type].add(fn);
    return () => this.handlers[type].delete(fn);
  }
  emit(type, data) {
    for (const fn of this.handlers[type]) {
      try { fn(data); } catch (e) { console.error(e); }
    }
  }
  connect() {
    if (this.source) this.source.close();
    const es = new EventSource(api.withToken('/api/events'));
    this.source = es;
    setConn('connecting', 'connecting…');
    es.addEventListener('status', (ev) => {
      const s = JSON.parse(ev.data);
      this.lastStatus = s;
      setConn(s.live ? 'live' : 'idle', s.live ? 'live crawl' : 'browsing database');
      this.emit('status', s);
    });
    es.addEventListener('recent', (ev) => {
      this.recent = JSON.parse(ev.data).items || [];
      this.emit('recent', this.recent);
    });
    es.addEventListener('discovery', (ev) => {
      const d = JSON.parse(ev.data);
      this.recent = [d, ...this.recent].slice(0, 50);
      this.emit('discovery', d);
    });
    es.onerror = () => setConn('down', 'reconnecting…');
  }
}

function setConn(state, text) {
  const el = document.getElementById('conn');
  el.className = `conn ${state}`;
  el.querySelector('.conn-text').textContent = text;
}

const events = new Events();

// --- routing -------------------------------------------------------------------------------
const routes = [
  { re: /^\/?$/, nav: 'dashboard', view: dashboard, title: 'Dashboard' },
  { re: /^\/torrents$/, nav: 'torrents', view: torrents, title: 'Torrents' },
  { re: /^\/torrent\/([0-9a-f]{40})$/, nav: 'torrents', view: torrent, title: 'Torrent' },
  { re: /^\/network$/, nav: 'network', view: network, title: 'Network' },
];

let cleanup = null;

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { path, params };
}

export function navigate(path, params, replace = false) {
  const qs = params ? params.toString() : '';
  const hash = `#${path}${qs ? `?${qs}` : ''}`;
  if (replace) history.replaceState(null, '', hash);
  else if (window.location.hash !== hash) window.location.hash = hash;
}

function route() {
  const { path, params } = parseHash();
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  destroyAll();
  const main = document.getElementById('main');
  clear(main);
  let match = null;
  let r = null;
  for (const candidate of routes) {
    match = candidate.re.exec(path);
    if (match) { r = candidate; break; }
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (r && a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!r) {
    document.title = 'Not found · BitScrape';
    main.append(h('div', { class: 'empty' }, h('h1', { text: 'Page not found' }), h('a', { href: '#/' }, 'Back to the dashboard')));
    return;
  }
  document.title = `${r.title} · BitScrape`;
  cleanup = r.view.render(main, { match, params, events, navigate }) || null;
}

// --- token ---------------------------------------------------------------------------------
let asking = false;
function askForToken() {
  if (asking) return;
  asking = true;
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  document.getElementById('token-error').textContent = api.token() ? 'That token was not accepted.' : '';
  dialog.showModal();
  input.focus();
}

document.getElementById('token-form').addEventListener('submit', () => {
  const t = document.getElementById('token-input').value.trim();
  asking = false;
  if (t) {
    api.setToken(t);
    events.connect();
    route();
  }
});

// --- start ---------------------------------------------------------------------------------
api.adoptTokenFromUrl();
api.setUnauthorizedHandler(askForToken);
window.addEventListener('hashchange', route);
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', route);
api.get('/api/status').then(() => events.connect()).catch((e) => {
  if (e.status !== 401) setConn('down', e.message);
});
route();
