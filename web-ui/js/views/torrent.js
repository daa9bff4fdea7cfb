// One torrent: facts, magnet (copy), .torrent download, file tree, peers.
import * as api from '../api.js';
import { fill, h, icon, toast } from '../dom.js';
import * as fmt from '../format.js';

function treeNode(node, depth) {
  if (!node.children) {
    return h('li', { class: 'file' },
      icon('file'),
      h('span', { class: 'n', text: node.name }),
      h('span', { class: 's', title: `${fmt.num(node.size)} bytes`, text: fmt.bytes(node.size) }));
  }
  const details = h('details', { open: depth < 2 },
    h('summary', {},
      icon('folder'),
      h('span', { class: 'n', text: node.name }),
      h('span', { class: 's', text: `${fmt.num(node.files)} file${node.files === 1 ? '' : 's'} · ${fmt.bytes(node.size)}` })),
    h('ul', { role: 'group' }, node.children.map((c) => treeNode(c, depth + 1))));
  return h('li', {}, details);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {
    return false;
  }
}

export function render(main, { match }) {
  const hash = match[1];
  const body = h('div', { class: 'stack' }, h('p', { class: 'muted', text: 'Loading…' }));
  main.append(h('p', {}, h('a', { href: '#/torrents', text: '← Torrents' })), body);

  api.get(`/api/torrents/${hash}`).then((t) => {
    document.title = `${t.name} · BitScrape`;
    const facts = [
      ['Size', `${fmt.bytes(t.total_bytes)} (${fmt.num(t.total_bytes)} bytes)`],
      ['Files', fmt.num(t.file_count)],
      ['Piece length', fmt.bytes(t.piece_length)],
      ['Infohash v1', t.infohash_v1 ? h('code', { text: t.infohash_v1 }) : h('span', { class: 'muted', text: 'none (v2 only)' })],
      ['Infohash v2', t.infohash_v2 ? h('code', { text: t.infohash_v2 }) : h('span', { class: 'muted', text: 'none (v1 only)' })],
      ['Discovered', fmt.date(t.discovered_at)],
      ['Metadata fetched', fmt.date(t.fetched_at)],
      ['First seen', fmt.date(t.first_seen)],
      ['Last seen', fmt.date(t.last_seen)],
      ['Seen through', t.sources.length ? t.sources.join(', ').replaceAll('_', ' ') : '–'],
      ['Peers known', fmt.num(t.peers.count)],
    ];
    if (t.private) facts.push(['Private', 'yes (BEP-27: only its trackers may be used)']);

    const magnetInput = h('input', { id: 'magnet', type: 'text', readonly: true, value: t.magnet, 'aria-label': 'Magnet link' });
    const copyBtn = h('button', { type: 'button', id: 'copy-magnet', class: 'primary' }, 'Copy magnet');
    copyBtn.addEventListener('click', async () => {
      let ok = await copy(t.magnet);
      if (!ok) {
        // Clipboard API refused (not a secure context): select the text for the user instead.
        magnetInput.focus();
        magnetInput.select();
        ok = document.execCommand && document.execCommand('copy');
      }
      toast(ok ? 'Magnet link copied' : 'Select the link and copy it');
    });
    const download = t.has_torrent_file
      ? h('a', { class: 'button', id: 'download-torrent', href: api.withToken(`/api/torrents/${hash}/torrent`), download: '' }, 'Download .torrent')
      : h('span', { class: 'muted', text: 'No .torrent: the info dict was not kept.' });
    const open = t.magnet.startsWith('magnet:?') ? h('a', { class: 'button', href: t.magnet }, 'Open in client') : null;

    const peerRows = t.peers.recent.map((p) => h('tr', {}, h('td', { class: 'mono', text: p.endpoint }), h('td', { text: fmt.date(p.last_seen) })));
    fill(body,
      h('section', {},
        h('h1', { id: 'torrent-name', text: t.name }),
        h('p', { class: 'subtitle' },
          `${fmt.bytes(t.total_bytes)} · ${fmt.num(t.file_count)} file${t.file_count === 1 ? '' : 's'}`,
          t.infohash_v2 ? h('span', {}, ' ', h('span', { class: 'badge', text: t.infohash_v1 ? 'hybrid v1+v2' : 'v2' })) : null),
        h('div', { class: 'actions' }, download, copyBtn, open),
        h('div', { class: 'magnet' }, magnetInput)),
      h('div', { class: 'grid cols-3' },
        h('section', { class: 'card', 'aria-labelledby': 'files-title' },
          h('h2', { id: 'files-title' }, h('span', { text: 'Files' }),
            t.files.truncated ? h('span', { class: 'badge', text: `first ${fmt.num(t.files.files)} shown` }) : null),
          h('ul', { class: 'tree', role: 'tree', 'aria-label': 'Files' },
            t.single_file ? t.files.children.map((c) => treeNode(c, 0)) : treeNode(t.files, 0))),
        h('div', { class: 'stack' },
          h('section', { class: 'card', 'aria-labelledby': 'facts-title' },
            h('h2', { id: 'facts-title', text: 'Details' }),
            h('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]))),
          h('section', { class: 'card', 'aria-labelledby': 'peers-title' },
            h('h2', { id: 'peers-title', text: 'Recent peers' }),
            peerRows.length
              ? h('table', {}, h('thead', {}, h('tr', {}, h('th', { text: 'Endpoint' }), h('th', { text: 'Last seen' }))), h('tbody', {}, peerRows))
              : h('p', { class: 'muted', text: 'No peers stored.' })))));
  }).catch((e) => {
    fill(body, h('div', { class: 'notice error', role: 'alert' },
      h('strong', { text: e.status === 404 ? 'Torrent not found' : 'Could not load this torrent' }), h('div', { text: e.message })));
  });
}
