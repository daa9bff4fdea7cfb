// Watch a running BitScrape web UI in Chromium and check that its counters rise — for tests
// against a live crawl (e.g. a loopback testnet). Parameterised by the URL; no fixtures.
//
//   node tests/web/check_live.mjs --url http://127.0.0.1:8080/ [--token T] [--within 60]
//        [--rise live.infohashes_total,store.torrents] [--expect-live] [--screenshots DIR]
//
//   --rise      comma-separated paths into the /api/status document that must increase while
//               the dashboard is open (default: live.packets_in,live.infohashes_total when a
//               crawl is live, else store.infohashes)
//   --within    seconds to wait for every one of them to rise (default 60)
//   --expect-live  fail when the server reports no live crawl
//
// What it checks: the dashboard loads and its event stream connects; each status event the
// page receives is recorded (by listening on the page's own EventSource, so what is checked is
// what the person sees); every --rise path increases; the Torrents card on screen shows the
// latest store.torrents; no dialog, page error or foreign request. Exit 0 when all hold.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { args, check, launch, summary } from './lib.mjs';

const a = args();
if (!a.url) {
  console.error('usage: check_live.mjs --url URL [--token T] [--within S] [--rise a.b,c.d] [--expect-live] [--screenshots DIR]');
  process.exit(2);
}
const url = a.url.endsWith('/') ? a.url : `${a.url}/`;
const origin = new URL(url).origin;
const within = Number(a.within || 60) * 1000;
if (a.screenshots) mkdirSync(a.screenshots, { recursive: true });

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const problems = [];
const { context, close } = await launch();
try {
  const page = await context.newPage();
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`foreign request: ${u}`);
  });
  // Record every status document the page's EventSource delivers.
  await page.addInitScript(() => {
    window.__statuses = [];
    const Orig = window.EventSource;
    window.EventSource = class extends Orig {
      constructor(...args) {
        super(...args);
        this.addEventListener('status', (ev) => window.__statuses.push(JSON.parse(ev.data)));
      }
    };
  });
  await page.goto(a.token ? `${url}?token=${encodeURIComponent(a.token)}` : url);
  await page.waitForFunction(() => window.__statuses.length > 0, null, { timeout: 20000 });
  check(true, 'the dashboard loaded and its event stream delivered a status');
  const first = await page.evaluate(() => window.__statuses[0]);
  if (a['expect-live']) check(first.live !== null, 'the server reports a live crawl');
  const paths = a.rise ? String(a.rise).split(',').filter(Boolean)
    : (first.live ? ['live.packets_in', 'live.infohashes_total'] : ['store.infohashes']);
  const base = Object.fromEntries(paths.map((p) => [p, get(first, p)]));
  for (const p of paths) check(typeof base[p] === 'number', `${p} is a number at start (${base[p]})`);
  if (a.screenshots) await page.screenshot({ path: join(a.screenshots, 'live-start.png'), fullPage: true });

  const deadline = Date.now() + within;
  let latest = first;
  let risen = [];
  while (Date.now() < deadline) {
    latest = await page.evaluate(() => window.__statuses[window.__statuses.length - 1]);
    risen = paths.filter((p) => get(latest, p) > base[p]);
    if (risen.length === paths.length) break;
    await page.waitForTimeout(1000);
  }
  for (const p of paths) check(get(latest, p) > base[p], `${p} rose within ${within / 1000}s (${base[p]} → ${get(latest, p)})`);
  const count = await page.evaluate(() => window.__statuses.length);
  check(count >= 2, `status events keep arriving (${count})`);
  await page.waitForTimeout(1200);
  const shown = await page.evaluate(() => {
    const s = [...document.querySelectorAll('.stat')].find((x) => /^torrents$/i.test(x.querySelector('.label').textContent));
    return s ? s.querySelector('.value').textContent.replace(/[^0-9]/g, '') : null;
  });
  const now = await page.evaluate(() => window.__statuses[window.__statuses.length - 1].store.torrents);
  check(shown !== null && Math.abs(Number(shown) - now) <= 5, `the Torrents card shows the store count (${shown} vs ${now})`);
  if (a.screenshots) await page.screenshot({ path: join(a.screenshots, 'live-end.png'), fullPage: true });
  check(problems.length === 0, `no dialog, page error or foreign request (${problems.join('; ') || 'none'})`);
} catch (e) {
  check(false, `live check aborted: ${e.stack || e}`);
} finally {
  await close();
}
process.exit(summary() ? 0 : 1);
