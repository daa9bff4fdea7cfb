// Dashboard: totals and live rates, charts over time, recent discoveries, crawl controls.
import * as api from '../api.js';
import { timeChart } from '../charts.js';
import { clear, fill, h, safeHash, toast } from '../dom.js';
import * as fmt from '../format.js';

const LIVE_WINDOW_MS = 5 * 60 * 1000;
const PREFERRED_SERIES = ['infohashes_total', 'metadata_total', 'torrents', 'nodes_in_table', 'packets_in'];
const RANGES = [['1h', 3600], ['6h', 6 * 3600], ['24h', 86400], ['7d', 7 * 86400], ['30d', 30 * 86400]];

function stat(label, { accent = false } = {}) {
  const value = h('div', { class: 'value', text: '–' });
  const sub = h('div', { class: 'sub', text: '\u00a0' });
  const el = h('div', { class: `stat${accent ? ' accent' : ''}` }, h('div', { class: 'label', text: label }), value, sub);
  return { el, set(v, s) { value.textContent = v; if (s !== undefined) sub.textContent = s || '\u00a0'; } };
}

function discoveryItem(d, fresh) {
  const hash = safeHash(d.infohash);
  const isMeta = d.kind === 'metadata';
  const title = isMeta && hash
    ? h('a', { href: `#/torrent/${hash}`, class: 'title' }, d.name ?? hash)
    : h('span', { class: 'title mono' }, d.infohash);
  const detail = isMeta ? `${fmt.bytes(d.total_bytes)} · ${fmt.num(d.file_count)} file${d.file_count === 1 ? '' : 's'}` : '';
  return h('li', { class: fresh ? 'fresh' : '' },
    h('span', { class: `badge ${isMeta ? 'meta' : 'hash'}`, text: isMeta ? 'metadata' : 'infohash' }),
    h('span', { class: 'title' }, title, detail ? h('div', { class: 'muted', text: detail }) : null),
    h('time', { class: 'when', datetime: d.at, title: fmt.date(d.at), text: fmt.ago(d.at) }));
}

export function render(main, { events }) {
  const unsub = [];
  const subtitle = h('p', { class: 'subtitle', text: 'Loading…' });
  main.append(h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Dashboard' }), subtitle)));

  // --- stat cards ---
  const cards = {
    torrents: stat('Torrents', { accent: true }),
    infohashes: stat('Infohashes'),
    files: stat('Files'),
    peers: stat('Peers'),
    nodes: stat('Nodes stored'),
  };
  const liveCards = {
    table: stat('Nodes in table'),
    samples: stat('Samples / s'),
    ih: stat('Infohashes / s', { accent: true }),
    meta: stat('Metadata / s', { accent: true }),
    success: stat('Fetch success'),
    packets: stat('Packets in / out'),
  };
  const stats = h('section', { class: 'stats', 'aria-label': 'Totals' }, Object.values(cards).map((c) => c.el));
  const liveStats = h('section', { class: 'stats', 'aria-label': 'Live rates', hidden: true },
    Object.values(liveCards).map((c) => c.el));
  main.append(stats, liveStats);

  // --- charts column ---
  const liveCanvas = h('canvas', { role: 'img', 'aria-label': 'Discovery rates over the last five minutes' });
  const liveTitle = h('span', { text: 'Rates, last 5 minutes' });
  const liveCard = h('section', { class: 'card' }, h('h2', {}, liveTitle), h('div', { class: 'chart-box' }, liveCanvas));

  const seriesSelect = h('select', { id: 'series-name', 'aria-label': 'Counter' });
  const rangeSelect = h('select', { id: 'series-range', 'aria-label': 'Time range' },
    RANGES.map(([label, secs]) => h('option', { value: secs, text: label })));
  const histBox = h('div', { class: 'chart-box' });
  const histCard = h('section', { class: 'card' },
    h('h2', {}, h('span', { text: 'History' }), h('span', { class: 'toolbar' }, seriesSelect, rangeSelect)),
    histBox);

  // --- side column ---
  const feed = h('ul', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const feedCard = h('section', { class: 'card' }, h('h2', { text: 'Recent discoveries' }), feed);
  const controls = h('div', { class: 'controls' });
  const controlsCard = h('section', { class: 'card', hidden: true, 'aria-labelledby': 'controls-title' },
    h('h2', { id: 'controls-title', text: 'Crawl controls' }), controls);
  const queues = h('tbody');
  const queuesCard = h('section', { class: 'card', hidden: true },
    h('h2', { text: 'Queues' }),
    h('table', { class: 'queues' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Queue' }), h('th', { class: 'num', text: 'Depth' }), h('th', { text: 'Fill' }))),
      queues));

  main.append(h('div', { class: 'grid cols-3' },
    h('div', { class: 'stack' }, liveCard, histCard),
    h('div', { class: 'stack' }, controlsCard, feedCard, queuesCard)));

  // --- live rate chart, fed by status events ---
  const buf = [[], [], []];
  let liveChart = null;
  let prev = null;
  let mode = null;
  function pushRates(s) {
    const now = Date.now();
    let values;
    let labels;
    if (s.live) {
      values = [s.live.infohashes_per_s, s.live.metadata_per_s, s.live.samples_per_s];
      labels = ['infohashes/s', 'metadata/s', 'samples/s'];
    } else {
      // No crawl here: rates of what the database gains (another process may be crawling).
      const dt = prev ? (now - prev.t) / 1000 : 0;
      const d = (k) => (prev && dt > 0 && s.store && prev.store ? Math.max(0, (s.store[k] - prev.store[k]) / dt) : 0);
      values = [d('infohashes'), d('torrents'), d('nodes')];
      labels = ['infohashes/s', 'torrents/s', 'nodes/s'];
      prev = { t: now, store: s.store };
    }
    const m = s.live ? 'live' : 'store';
    if (m !== mode) {
      mode = m;
      buf.forEach((b) => b.splice(0));
      if (liveChart) liveChart.destroy();
      liveChart = timeChart(liveCanvas, labels.map((label, i) => ({ label, points: buf[i] })), { span: LIVE_WINDOW_MS });
      liveTitle.textContent = s.live ? 'Live rates, last 5 minutes' : 'Database growth, last 5 minutes';
    }
    values.forEach((v, i) => {
      buf[i].push({ x: now, y: Number.isFinite(v) ? v : 0 });
      while (buf[i].length && buf[i][0].x < now - LIVE_WINDOW_MS) buf[i].shift();
    });
    if (liveChart) {
      liveChart.options.scales.x.min = now - LIVE_WINDOW_MS;
      liveChart.options.scales.x.max = now;
      liveChart.update('none');
    }
  }

  // --- controls ---
  const ctl = {};
  function control(key, label, endpoint) {
    const badge = h('span', { class: 'badge' });
    const button = h('button', { type: 'button' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const r = await api.post(endpoint, { paused: !ctl[key].paused });
        update(r.live);
        toast(`${label} ${r.live[`${key}_paused`] ? 'paused' : 'resumed'}`);
      } catch (e) {
        ctlError.textContent = e.message;
      } finally {
        button.disabled = false;
      }
    });
    ctl[key] = { paused: false, badge, button, label };
    return h('div', { class: 'control' }, h('div', { class: 'what' }, h('strong', { text: label }), badge), button);
  }
  const budgetInput = h('input', { id: 'packet-budget', type: 'number', min: 1, max: 1000000, step: 1, inputmode: 'numeric' });
  const budgetForm = h('form', { class: 'control' },
    h('div', { class: 'field' }, h('label', { for: 'packet-budget', text: 'Packet budget (packets/s)' }),
      h('div', { class: 'field-row' }, budgetInput, h('button', { type: 'submit', class: 'primary', text: 'Apply' }))));
  const ctlError = h('p', { class: 'error', role: 'alert' });
  budgetForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    ctlError.textContent = '';
    const v = Number(budgetInput.value);
    if (!Number.isFinite(v) || v < 1 || v > 1000000) {
      ctlError.textContent = 'The packet budget must be between 1 and 1,000,000 packets/s.';
      return;
    }
    try {
      const r = await api.post('/api/control/packet-budget', { packets_per_s: v });
      budgetDirty = false;
      update(r.live);
      toast(`Packet budget set to ${fmt.num(v)}/s`);
    } catch (e) {
      ctlError.textContent = e.message;
    }
  });
  let budgetDirty = false;
  budgetInput.addEventListener('input', () => { budgetDirty = true; });
  fill(controls, control('sampling', 'Sampling', '/api/control/sampling'),
    control('fetching', 'Metadata fetching', '/api/control/fetching'), budgetForm, ctlError);

  function update(live) {
    for (const key of ['sampling', 'fetching']) {
      const c = ctl[key];
      c.paused = Boolean(live[`${key}_paused`]);
      c.badge.className = `badge ${c.paused ? 'paused' : 'running'}`;
      c.badge.textContent = c.paused ? 'paused' : 'running';
      c.button.textContent = `${c.paused ? 'Resume' : 'Pause'} ${key}`;
      c.button.setAttribute('aria-pressed', String(c.paused));
    }
    if (!budgetDirty && document.activeElement !== budgetInput) budgetInput.value = Math.round(live.packet_budget);
  }

  // --- status updates ---
  function onStatus(s) {
    const st = s.store || {};
    cards.torrents.set(fmt.num(st.torrents), s.live ? `${fmt.rate(s.live.metadata_per_s)}/s fetched` : '');
    cards.infohashes.set(fmt.num(st.infohashes), `${fmt.num(st.pending)} pending · ${fmt.num(st.failed)} failed`);
    cards.files.set(fmt.num(st.files));
    cards.peers.set(fmt.num(st.peers));
    cards.nodes.set(fmt.num(st.nodes));
    const live = s.live;
    liveStats.hidden = !live;
    controlsCard.hidden = !live;
    queuesCard.hidden = !live || !live.queues.length;
    if (live) {
      subtitle.textContent = `Live crawl · up ${fmt.duration(live.uptime_s)}`;
      liveCards.table.set(fmt.num(live.nodes_in_table));
      liveCards.samples.set(fmt.rate(live.samples_per_s));
      liveCards.ih.set(fmt.rate(live.infohashes_per_s), `${fmt.num(live.infohashes_total)} this run`);
      liveCards.meta.set(fmt.rate(live.metadata_per_s), `${fmt.num(live.metadata_total)} this run`);
      liveCards.success.set(fmt.percent(live.metadata_success_rate));
      liveCards.packets.set(`${fmt.rate(live.packets_in_per_s)} / ${fmt.rate(live.packets_out_per_s)}`,
        `budget ${fmt.num(live.packet_budget)}/s`);
      update(live);
      clear(queues);
      for (const q of live.queues) {
        const bar = h('span');
        bar.style.width = q.capacity ? `${Math.min(100, (100 * q.depth) / q.capacity)}%` : '0';
        queues.append(h('tr', {}, h('td', { text: q.name }), h('td', { class: 'num', text: fmt.num(q.depth) }),
          h('td', { title: q.capacity ? `of ${fmt.num(q.capacity)}` : 'unbounded' }, h('div', { class: 'meter' }, bar))));
      }
    } else {
      subtitle.textContent = 'Browsing the database — no crawl is running in this process';
    }
    pushRates(s);
  }

  // --- recent discoveries ---
  function showRecent(items) {
    fill(feed, items.length ? items.map((d) => discoveryItem(d, false))
      : h('li', { class: 'empty' }, 'Nothing discovered yet.'));
  }
  function onDiscovery(d) {
    const empty = feed.querySelector('.empty');
    if (empty) empty.parentElement.remove();
    feed.prepend(discoveryItem(d, true));
    while (feed.children.length > 50) feed.lastElementChild.remove();
  }

  // --- history ---
  let histChart = null;
  async function loadHistory() {
    const name = seriesSelect.value;
    if (!name) return;
    const span = Number(rangeSelect.value);
    const to = Math.floor(Date.now() / 1000);
    try {
      const r = await api.get(`/api/series${api.query({ name, from: to - span, to, points: 300 })}`);
      if (histChart) histChart.destroy();
      clear(histBox);
      const canvas = h('canvas', { role: 'img', 'aria-label': `${name} over time` });
      histBox.append(canvas);
      const points = r.points.map(([t, v]) => ({ x: t * 1000, y: v }));
      histChart = timeChart(canvas, [{ label: name, points }], { span: span * 1000 });
      if (histChart) { histChart.options.scales.x.min = (to - span) * 1000; histChart.options.scales.x.max = to * 1000; histChart.update('none'); }
      if (!points.length) histBox.append(h('p', { class: 'empty', text: 'No samples in this range.' }));
    } catch (e) {
      fill(histBox, h('p', { class: 'error', text: e.message }));
    }
  }
  seriesSelect.addEventListener('change', loadHistory);
  rangeSelect.addEventListener('change', loadHistory);
  api.get('/api/series/names').then((r) => {
    if (!r.names.length) {
      fill(histBox, h('p', { class: 'empty', text: 'No counter history in this database yet — it is recorded while crawling.' }));
      seriesSelect.disabled = rangeSelect.disabled = true;
      return;
    }
    for (const n of r.names) seriesSelect.append(h('option', { value: n, text: n }));
    seriesSelect.value = PREFERRED_SERIES.find((p) => r.names.includes(p)) || r.names[0];
    loadHistory();
  }).catch((e) => fill(histBox, h('p', { class: 'error', text: e.message })));

  unsub.push(events.on('status', onStatus), events.on('recent', showRecent), events.on('discovery', onDiscovery));
  if (events.lastStatus) onStatus(events.lastStatus);
  else api.get('/api/status').then(onStatus).catch((e) => { subtitle.textContent = e.message; });
  if (events.recent.length) showRecent(events.recent);
  else api.get('/api/recent').then((r) => showRecent(r.items)).catch(() => {});
  const ticker = setInterval(() => {
    for (const t of feed.querySelectorAll('time')) t.textContent = fmt.ago(t.getAttribute('datetime'));
  }, 10000);

  return () => { unsub.forEach((u) => u()); clearInterval(ticker); };
}
