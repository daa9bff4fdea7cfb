// Network: routing-table fill per bucket, keyspace sampling coverage, client versions, nodes.
import * as api from '../api.js';
import { barChart, themeColor } from '../charts.js';
import { fill, h } from '../dom.js';
import * as fmt from '../format.js';

function heatmap(canvas, values, bits) {
  const side = bits === 4 ? 4 : 16;
  const cell = 32;
  canvas.width = side * cell;
  canvas.height = side * cell;
  const ctx = canvas.getContext('2d');
  const max = Math.max(1, ...values);
  const hi = themeColor('--chart-1');
  const lo = themeColor('--bg-sunk');
  const m = /^#([0-9a-f]{6})$/i.exec(hi);
  const n = m ? parseInt(m[1], 16) : 0x3b6ef5;
  for (let i = 0; i < values.length; i++) {
    const x = (i % side) * cell;
    const y = Math.floor(i / side) * cell;
    const v = values[i];
    ctx.fillStyle = lo;
    ctx.fillRect(x, y, cell - 2, cell - 2);
    if (v > 0) {
      const a = 0.15 + 0.85 * Math.sqrt(v / max);
      ctx.fillStyle = `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a.toFixed(3)})`;
      ctx.fillRect(x, y, cell - 2, cell - 2);
    }
  }
}

// The crawlers sharing this database (docs/deploy.md); null when there are none.
function instancesCard(inst) {
  if (!inst || !inst.instances.length) return null;
  const rows = inst.instances.slice().reverse().map((x) => h('tr', { class: x.id === inst.self ? 'self' : '' },
    h('td', { class: 'num', text: String(x.id) + (x.id === inst.self ? ' (this one)' : '') }),
    h('td', {}, h('span', { class: `badge ${x.state}`, text: x.state })),
    h('td', { text: x.host }),
    h('td', { class: 'mono hide-sm', text: x.listen }),
    h('td', { class: 'num', text: fmt.num(x.torrents) }),
    h('td', { class: 'num hide-sm', text: fmt.rate(x.torrents_per_s) }),
    h('td', { title: fmt.date(x.last_heartbeat), text: fmt.ago(x.last_heartbeat) })));
  return h('section', { class: 'card', id: 'instances' },
    h('h2', {}, h('span', { text: 'Crawler instances' }), h('span', { class: 'muted', text: `${fmt.num(inst.live)} live of ${fmt.num(inst.instances.length)}` })),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { class: 'num', text: 'Id' }), h('th', { text: 'State' }), h('th', { text: 'Host' }),
        h('th', { class: 'hide-sm', text: 'Listen' }), h('th', { class: 'num', text: 'Torrents' }),
        h('th', { class: 'num hide-sm', text: 'Rate' }), h('th', { text: 'Last heartbeat' }))),
      h('tbody', {}, rows))));
}

export function render(main) {
  const body = h('div', { class: 'stack' }, h('p', { class: 'muted', text: 'Loading…' }));
  main.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', { text: 'Network' }), h('p', { class: 'subtitle', text: 'The DHT as this crawler sees it, and the crawlers sharing its database.' }))), body);

  let timer = 0;
  let charts = [];
  async function load(first) {
    let r;
    let inst;
    try {
      [r, inst] = await Promise.all([api.get('/api/nodes'), api.get('/api/instances')]);
    } catch (e) {
      fill(body, h('div', { class: 'notice error', role: 'alert', text: e.message }));
      return;
    }
    if (!first && !r.live) return;
    const nodesTable = r.recent_good.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { text: 'Endpoint' }), h('th', { class: 'hide-sm', text: 'Node id' }), h('th', { text: 'Last seen' }))),
        h('tbody', {}, r.recent_good.map((n) => h('tr', {},
          h('td', { class: 'mono', text: n.endpoint }), h('td', { class: 'mono hide-sm', text: n.id }),
          h('td', { title: fmt.date(n.last_seen), text: fmt.ago(n.last_seen) }))))))
      : h('p', { class: 'muted', text: 'No good nodes stored yet.' });
    const stored = h('section', { class: 'card' },
      h('h2', {}, h('span', { text: 'Recently good nodes' }), h('span', { class: 'muted', text: `${fmt.num(r.stored)} stored` })),
      nodesTable);

    const instances = instancesCard(inst);
    if (!r.live) {
      fill(body, instances, h('p', { class: 'notice', text: 'No crawl is running in this process, so there is no live routing table, keyspace coverage or client census. They appear when the web UI runs inside `bitscrape crawl`.' }), stored);
      return;
    }
    const live = r.live;
    // Routing table: one bar per bucket, a dataset per family.
    const depth = Math.max(0, ...live.routing_table.map((t) => t.buckets.length));
    const labels = Array.from({ length: depth }, (_, i) => String(i));
    const rtCanvas = h('canvas', { role: 'img', 'aria-label': 'Nodes per routing-table bucket' });
    const rtSummary = live.routing_table.map((t) => `${t.family}: ${fmt.num(t.nodes)} nodes in ${t.buckets.length} buckets`).join(' · ');
    const routing = h('section', { class: 'card' }, h('h2', { text: 'Routing table fill' }),
      h('p', { class: 'muted', text: rtSummary || 'Empty.' }), h('div', { class: 'chart-box' }, rtCanvas));

    const ks = live.keyspace;
    const hm = h('canvas', { class: 'heatmap', role: 'img',
      'aria-label': `Keyspace coverage: ${fmt.percent(ks.covered_fraction)} of ${ks.nodes_queried.length} prefixes queried` });
    const keyspace = h('section', { class: 'card' },
      h('h2', {}, h('span', { text: 'Keyspace coverage' }), h('span', { class: 'muted', text: `${ks.prefix_bits}-bit prefixes` })),
      h('p', { class: 'muted', text: `${fmt.percent(ks.covered_fraction)} of prefixes sampled · ${fmt.num(ks.samples.reduce((a, b) => a + b, 0))} samples from ${fmt.num(ks.nodes_queried.reduce((a, b) => a + b, 0))} nodes` }),
      h('div', { class: 'heatmap-wrap' }, hm,
        h('div', { class: 'legend' }, h('span', { text: 'fewer' }), h('span', { class: 'ramp' }), h('span', { text: 'more nodes queried' }),
          h('span', { class: 'muted', text: ` · cell = prefix ${ks.prefix_bits === 8 ? '00…ff' : '0…f'}, row by row` }))));

    const clients = live.client_versions;
    const top = clients.slice(0, 10);
    const cvCanvas = h('canvas', { role: 'img', 'aria-label': 'Nodes by client version' });
    const census = h('section', { class: 'card' }, h('h2', { text: 'Client versions' }),
      top.length ? h('div', { class: 'chart-box' }, cvCanvas) : h('p', { class: 'muted', text: 'No versions reported yet.' }),
      top.length ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { text: 'Version' }), h('th', { class: 'num', text: 'Nodes' }))),
        h('tbody', {}, clients.map((c) => h('tr', {}, h('td', { class: 'mono', text: c.version }), h('td', { class: 'num', text: fmt.num(c.nodes) })))))) : null);

    for (const c of charts) if (c) c.destroy();
    fill(body, instances, h('div', { class: 'grid cols-2' }, routing, keyspace), h('div', { class: 'grid cols-2' }, census, stored));
    charts = [];
    charts.push(barChart(rtCanvas, labels, live.routing_table.map((t) => ({ label: t.family, data: t.buckets.map((b) => b.nodes) })),
      { xTitle: 'bucket (shared prefix bits)', yTitle: 'nodes' }));
    heatmap(hm, ks.nodes_queried, ks.prefix_bits);
    if (top.length) charts.push(barChart(cvCanvas, top.map((c) => c.version), [{ label: 'nodes', data: top.map((c) => c.nodes) }], { horizontal: true }));
  }
  load(true);
  timer = setInterval(() => load(false), 10000);
  return () => clearInterval(timer);
}
