// Torrents: instant (debounced) search, filters, sortable table, pagination, export.
import * as api from '../api.js';
import { clear, fill, h, safeHash } from '../dom.js';
import * as fmt from '../format.js';

const UNITS = [['MiB', 2 ** 20], ['GiB', 2 ** 30], ['KiB', 1024], ['B', 1]];
const SORTABLE = { name: 'Name', size: 'Size', discovered: 'Discovered' };

function sizeField(id, label, bytes) {
  const input = h('input', { id, type: 'number', min: 0, step: 'any', inputmode: 'decimal' });
  const unit = h('select', { 'aria-label': `${label} unit` }, UNITS.map(([u, m]) => h('option', { value: m, text: u })));
  if (bytes) {
    const n = Number(bytes);
    const [, m] = UNITS.find(([, mm]) => n >= mm && n % mm === 0) || UNITS[3];
    unit.value = m;
    input.value = n / m;
  }
  const el = h('div', { class: 'field' }, h('label', { for: id, text: label }), h('div', { class: 'field-row' }, input, unit));
  return {
    el, input, unit,
    bytes() {
      if (input.value === '') return '';
      const v = Number(input.value);
      return Number.isFinite(v) && v >= 0 ? Math.round(v * Number(unit.value)) : '';
    },
  };
}

export function render(main, { params }) {
  const state = {
    q: params.get('q') || '',
    min_size: params.get('min_size') || '',
    max_size: params.get('max_size') || '',
    min_files: params.get('min_files') || '',
    max_files: params.get('max_files') || '',
    from: params.get('from') || '',
    to: params.get('to') || '',
    sort: params.get('sort') || '',
    order: params.get('order') || '',
    limit: Number(params.get('limit')) || 50,
    offset: Number(params.get('offset')) || 0,
  };

  main.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', { text: 'Torrents' }), h('p', { class: 'subtitle', text: 'Search names and file paths of every torrent whose metadata was fetched.' }))));

  // --- search form ---
  const q = h('input', { id: 'search', type: 'search', placeholder: 'Search torrents and files…', value: state.q,
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'result-summary' });
  const minSize = sizeField('min-size', 'Min size', state.min_size);
  const maxSize = sizeField('max-size', 'Max size', state.max_size);
  const minFiles = h('input', { id: 'min-files', type: 'number', min: 0, step: 1, value: state.min_files });
  const maxFiles = h('input', { id: 'max-files', type: 'number', min: 0, step: 1, value: state.max_files });
  const from = h('input', { id: 'from', type: 'date', value: state.from });
  const to = h('input', { id: 'to', type: 'date', value: state.to });
  const reset = h('button', { type: 'button', text: 'Clear filters' });
  const form = h('form', { class: 'card', role: 'search', 'aria-label': 'Search torrents' },
    h('div', { class: 'search-bar' }, h('label', { for: 'search', class: 'visually-hidden', text: 'Search' }), q),
    h('details', { open: Boolean(state.min_size || state.max_size || state.min_files || state.max_files || state.from || state.to) },
      h('summary', { class: 'muted', text: 'Filters' }),
      h('div', { class: 'filters' },
        minSize.el, maxSize.el,
        h('div', { class: 'field' }, h('label', { for: 'min-files', text: 'Min files' }), minFiles),
        h('div', { class: 'field' }, h('label', { for: 'max-files', text: 'Max files' }), maxFiles),
        h('div', { class: 'field' }, h('label', { for: 'from', text: 'Discovered from' }), from),
        h('div', { class: 'field' }, h('label', { for: 'to', text: 'Discovered until' }), to),
        h('div', { class: 'field' }, reset))));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); search(true); });

  // --- results ---
  const summary = h('p', { id: 'result-summary', class: 'muted', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert' });
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h('table', { id: 'results' }, h('caption', { class: 'visually-hidden', text: 'Search results' }), h('thead', {}, headRow), tbody);
  const prevBtn = h('button', { type: 'button', text: '← Previous' });
  const nextBtn = h('button', { type: 'button', text: 'Next →' });
  const pageSize = h('select', { id: 'page-size', 'aria-label': 'Results per page' },
    [25, 50, 100, 200].map((n) => h('option', { value: n, text: `${n} per page` })));
  pageSize.value = String(state.limit);
  const results = h('section', { class: 'card', 'aria-label': 'Results' }, summary, error,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'pager' }, h('span', { class: 'toolbar' }, prevBtn, nextBtn), pageSize));

  // --- export ---
  const includeAll = h('input', { id: 'export-all', type: 'checkbox' });
  const csv = h('a', { class: 'button', id: 'export-csv', download: '' }, 'Export CSV');
  const jsonl = h('a', { class: 'button', id: 'export-jsonl', download: '' }, 'Export JSONL');
  function exportLinks() {
    const all = includeAll.checked ? '&all=1' : '';
    csv.setAttribute('href', api.withToken(`/api/export?format=csv${all}`));
    jsonl.setAttribute('href', api.withToken(`/api/export?format=jsonl${all}`));
  }
  includeAll.addEventListener('change', exportLinks);
  exportLinks();
  const exportCard = h('section', { class: 'card', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title', text: 'Export the database' }),
    h('div', { class: 'toolbar' }, csv, jsonl,
      h('label', { class: 'check', for: 'export-all' }, includeAll, 'Include infohashes without metadata')),
    h('p', { class: 'muted', text: 'The whole database, streamed: CSV in the seed format (infohash, name, file_count, total_bytes, piece_length, peer_ip, peer_port, metadata_ok) or one JSON object per line.' }));

  main.append(h('div', { class: 'stack' }, form, results, exportCard));

  function headers() {
    clear(headRow);
    const col = (key, label, cls) => {
      const th = h('th', { scope: 'col', class: cls || '' });
      if (SORTABLE[key]) {
        const active = state.sort === key;
        if (active) th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
        th.append(h('button', {
          type: 'button', class: 'sort', text: label,
          onclick: () => {
            if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
            else { state.sort = key; state.order = key === 'name' ? 'asc' : 'desc'; }
            state.offset = 0;
            search(false);
          },
        }));
      } else {
        th.textContent = label;
      }
      return th;
    };
    headRow.append(col('name', 'Name'), col('size', 'Size', 'num'), col('files', 'Files', 'num hide-sm'), col('discovered', 'Discovered', 'hide-sm'));
  }

  function readForm() {
    state.q = q.value;
    state.min_size = minSize.bytes();
    state.max_size = maxSize.bytes();
    state.min_files = minFiles.value;
    state.max_files = maxFiles.value;
    state.from = from.value;
    state.to = to.value;
    state.limit = Number(pageSize.value);
  }

  let seq = 0;
  let timer = 0;
  async function search(resetPage) {
    clearTimeout(timer);  // an explicit action supersedes a pending debounced one
    readForm();
    if (resetPage) state.offset = 0;
    const p = {
      q: state.q, min_size: state.min_size, max_size: state.max_size, min_files: state.min_files,
      max_files: state.max_files, from: state.from, to: state.to,
      sort: state.sort || (state.q.trim() ? 'relevance' : 'discovered'),
      order: state.order, limit: state.limit, offset: state.offset,
    };
    // Keep the address bar in step (replaceState: typing does not flood the history).
    const url = new URLSearchParams();
    for (const [k, v] of Object.entries(state)) {
      if (v !== '' && !(k === 'offset' && v === 0) && !(k === 'limit' && v === 50)) url.set(k, String(v));
    }
    history.replaceState(null, '', `#/torrents${url.toString() ? `?${url}` : ''}`);
    headers();
    const mine = ++seq;
    table.setAttribute('aria-busy', 'true');
    try {
      const r = await api.get(`/api/torrents${api.query(p)}`);
      if (mine !== seq) return;  // a newer search is on its way
      error.textContent = '';
      clear(tbody);
      for (const t of r.items) {
        const hash = safeHash(t.infohash);
        tbody.append(h('tr', {},
          h('td', { class: 'name' }, hash ? h('a', { href: `#/torrent/${hash}` }, t.name) : t.name,
            t.private ? h('span', { class: 'badge', text: 'private' }) : null,
            t.infohash_v2 ? h('span', { class: 'badge', text: t.infohash_v1 ? 'hybrid' : 'v2' }) : null),
          h('td', { class: 'num', title: `${fmt.num(t.total_bytes)} bytes`, text: fmt.bytes(t.total_bytes) }),
          h('td', { class: 'num hide-sm', text: fmt.num(t.file_count) }),
          h('td', { class: 'hide-sm', title: fmt.date(t.discovered_at), text: fmt.day(t.discovered_at) })));
      }
      if (!r.items.length) tbody.append(h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'No torrents match.' })));
      const first = r.items.length ? state.offset + 1 : 0;
      const last = state.offset + r.items.length;
      summary.textContent = `${fmt.num(first)}–${fmt.num(last)} of ${r.total_exact ? '' : 'more than '}${fmt.num(r.total)} torrents` +
        (r.window_limited ? ` — ordered among the newest ${fmt.num(r.window)} matches only; narrow the search to rank them all` : '');
      prevBtn.disabled = state.offset === 0;
      nextBtn.disabled = last >= r.total;
    } catch (e) {
      if (mine !== seq) return;
      error.textContent = e.message;
    } finally {
      if (mine === seq) table.removeAttribute('aria-busy');
    }
  }

  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => search(true), 250); });
  for (const el of [minSize.input, maxSize.input, minFiles, maxFiles]) {
    el.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => search(true), 400); });
  }
  for (const el of [minSize.unit, maxSize.unit, from, to, pageSize]) el.addEventListener('change', () => search(true));
  reset.addEventListener('click', () => {
    for (const el of [minSize.input, maxSize.input, minFiles, maxFiles, from, to]) el.value = '';
    search(true);
  });
  prevBtn.addEventListener('click', () => { state.offset = Math.max(0, state.offset - state.limit); search(false); });
  nextBtn.addEventListener('click', () => { state.offset += state.limit; search(false); });

  search(false);
  q.focus();
  return () => clearTimeout(timer);
}
