// Browser tests of the web UI with Debian's Chromium (playwright-core, no downloaded browser).
//
//   node browser_test.mjs --bitscrape BIN --fixture WEB_FIXTURE --workdir DIR --screenshots DIR
//
// 1. web_fixture writes fixture torrents (normal and hostile) into a SQLite file;
// 2. `bitscrape serve` serves it on 127.0.0.1 (any port); the browser loads the dashboard,
//    searches, sorts, opens a torrent page, copies the magnet, downloads the .torrent (checked
//    with our bencode reader + SHA-1, and with libtorrent through /usr/bin/python3), exports CSV,
//    and checks the hostile name `<img src=x onerror=alert(1)>` renders as text with no dialog;
// 3. web_fixture serves the same file with the fake LiveSource: live cards, discoveries
//    streaming in, pause/resume and packet budget controls, the network page;
// 4. a server with an access token: the UI asks for it, refuses a wrong one, accepts ?token=;
// 5. `bitscrape serve --web 0.0.0.0:0` without a token exits non-zero with the reason.
// Every page is saved as a PNG into --screenshots (light, dark, and a phone-sized view).
// No page may open a dialog, throw, or request anything outside the server.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { args, check, launch, run, startServer, stopServer, summary, torrentInfo } from './lib.mjs';

const a = args();
for (const k of ['bitscrape', 'fixture', 'workdir', 'screenshots']) {
  if (!a[k]) { console.error(`missing --${k}`); process.exit(2); }
}
rmSync(a.workdir, { recursive: true, force: true });
mkdirSync(a.workdir, { recursive: true });
mkdirSync(a.screenshots, { recursive: true });
const db = join(a.workdir, 'fixture.db');
const TIMEOUT = 15000;
const TOKEN = 'browser-test-token-0123456789';

const populated = await run(a.fixture, ['populate', '--db', db]);
if (populated.code !== 0) { console.error(populated.stderr); process.exit(1); }
const pop = JSON.parse(populated.stdout.toString());
const byName = (n) => pop.torrents.find((t) => t.name === n);
const HOSTILE = '<img src=x onerror=alert(1)>';

// Static rules of the UI source: data never becomes markup, nothing is fetched from elsewhere.
const uiRoot = new URL('../../web-ui/', import.meta.url).pathname;
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
for (const f of walk(uiRoot)) {
  const text = readFileSync(f, 'utf8');
  const rel = f.slice(uiRoot.length);
  if (f.endsWith('.js')) {
    check(!/\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/.test(text), `${rel}: no innerHTML/outerHTML/document.write/eval`);
  }
  if (f.endsWith('.html')) {
    check(!/<script(?![^>]*\bsrc=)[^>]*>/.test(text) && !/\son[a-z]+=/.test(text) && !/style=/.test(text), `${rel}: no inline script, handler or style`);
  }
  const urls = (text.match(/https?:\/\/[^\s'")]+/g) || []).filter((u) => u !== 'http://www.w3.org/2000/svg');
  check(urls.length === 0, `${rel}: no external URL (${urls.join(' ') || 'none'})`);
}

const servers = [];
const { context, close } = await launch();
const problems = [];  // dialogs, page errors, foreign requests

function watch(page, origin) {
  page.on('dialog', (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) problems.push(`console error: ${m.text()}`); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`foreign request: ${u}`);
  });
}

async function shot(page, name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(a.screenshots, `${name}.png`), fullPage: true });
}

const statValue = (page, label) => page.locator('.stat', { has: page.locator('.label', { hasText: new RegExp(`^${label}$`, 'i') }) }).locator('.value');

try {
  // ---------------------------------------------------------------- bitscrape serve (no crawl)
  const serve = await startServer(a.bitscrape, ['serve', '--db', db, '--web', '127.0.0.1:0']);
  servers.push(serve);
  const origin = serve.url.replace(/\/$/, '');
  check(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(serve.url), `bitscrape serve printed its URL (${serve.url})`);
  const page = await context.newPage();
  watch(page, origin);

  // Dashboard.
  const resp = await page.goto(serve.url);
  const csp = resp.headers()['content-security-policy'] || '';
  check(csp.includes("default-src 'self'") && !csp.includes('unsafe-inline'), 'the page is served with a strict CSP');
  check(resp.headers()['x-content-type-options'] === 'nosniff', 'the page is served with nosniff');
  await page.waitForFunction((n) => {
    const v = [...document.querySelectorAll('.stat')].find((s) => /torrents/i.test(s.querySelector('.label').textContent));
    return v && v.querySelector('.value').textContent === String(n);
  }, pop.torrents.length, { timeout: TIMEOUT });
  check(true, `dashboard shows ${pop.torrents.length} torrents`);
  await page.waitForFunction(() => document.querySelector('#conn .conn-text').textContent === 'browsing database', null, { timeout: TIMEOUT });
  check(true, 'the event stream connected (browsing database)');
  await page.waitForSelector('.feed li a', { timeout: TIMEOUT });
  check(await page.locator('.feed li a').first().textContent() === 'Filler torrent 040', 'recent discoveries list the newest torrent first');
  await page.waitForSelector('#series-name option', { state: 'attached', timeout: TIMEOUT });
  check(await page.locator('#series-name').inputValue() === 'infohashes_total', 'the history chart picks infohashes_total');
  await page.waitForTimeout(1500);
  await shot(page, 'dashboard');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(800);
  await shot(page, 'dashboard-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // Search, instant results.
  await page.click('nav a[data-nav="torrents"]');
  await page.waitForSelector('#results tbody tr', { timeout: TIMEOUT });
  await page.fill('#search', 'debian');
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('#results tbody tr');
    return rows.length === 1 && rows[0].querySelector('a') && rows[0].querySelector('a').textContent === 'Debian 12 netinst';
  }, null, { timeout: TIMEOUT });
  check(true, 'typing "debian" shows exactly the Debian torrent (debounced search)');
  check((await page.textContent('#result-summary')).startsWith('1–1 of 1'), 'the result summary says 1 of 1');
  check(page.url().includes('#/torrents?q=debian'), 'the search is kept in the address');
  await shot(page, 'torrents-search');

  // Sort by size, then paginate.
  await page.fill('#search', '');
  await page.click('th button.sort:text("Size")');
  await page.waitForFunction(() => {
    const th = [...document.querySelectorAll('#results th')].find((t) => t.textContent.startsWith('Size'));
    const first = document.querySelector('#results tbody tr a');
    return th && th.getAttribute('aria-sort') === 'descending' && first && first.textContent === 'Nature Documentary Collection';
  }, null, { timeout: TIMEOUT });
  check(true, 'sorting by size puts the largest torrent first (aria-sort=descending)');
  await page.selectOption('#page-size', '25');
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 25, null, { timeout: TIMEOUT });
  await page.click('text=Next →');
  await page.waitForFunction((n) => document.querySelector('#result-summary').textContent.startsWith(`26–50 of ${n}`), pop.torrents.length, { timeout: TIMEOUT });
  check(true, 'pagination shows the second page (26–50)');
  await shot(page, 'torrents');

  // Filters: 2 files exactly, by name.
  await page.goto(`${serve.url}#/torrents?min_files=2&max_files=2&sort=name&order=asc`);
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr a').length === 3, null, { timeout: TIMEOUT });
  const twoFiles = await page.$$eval('#results tbody tr a', (as) => as.map((x) => x.textContent));
  check(JSON.stringify(twoFiles) === JSON.stringify(['Big Buck Bunny 1080p', 'Open Source Fonts Pack', 'Ünïcödé — 日本語のテスト']),
    `file-count filter from the address works (${twoFiles.join(', ')})`);

  // Torrent page.
  const debian = byName('Debian 12 netinst');
  await page.goto(`${serve.url}#/torrents?q=debian`);
  await page.click('#results tbody a');
  await page.waitForSelector('#torrent-name', { timeout: TIMEOUT });
  check(await page.textContent('#torrent-name') === 'Debian 12 netinst', 'the torrent page opens from the result');
  check(page.url().endsWith(`#/torrent/${debian.infohash}`), 'the torrent page address carries the infohash');
  check(await page.locator('.tree .n', { hasText: 'README.txt' }).count() === 1, 'the file tree lists docs/README.txt');
  check(await page.locator('.tree summary .n', { hasText: 'install' }).count() === 1, 'the file tree shows nested directories');
  check((await page.inputValue('#magnet')) === `magnet:?xt=urn:btih:${debian.infohash}&dn=Debian%2012%20netinst`, 'the magnet link is shown');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  await page.click('#copy-magnet');
  await page.waitForFunction(() => document.getElementById('toast').textContent.length > 0, null, { timeout: TIMEOUT });
  const clip = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
  check(clip === `magnet:?xt=urn:btih:${debian.infohash}&dn=Debian%2012%20netinst`, 'Copy magnet puts the link on the clipboard');
  await shot(page, 'torrent');

  // .torrent download.
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), page.click('#download-torrent')]);
  const file = join(a.workdir, 'download.torrent');
  await download.saveAs(file);
  check(download.suggestedFilename() === 'Debian 12 netinst.torrent', `the download is named ${download.suggestedFilename()}`);
  const info = torrentInfo(readFileSync(file));
  check(info.sha1 === debian.infohash, 'the downloaded .torrent hashes to the infohash (SHA-1 of its info dict)');
  check(info.name === 'Debian 12 netinst', 'the downloaded .torrent carries the name');
  try {
    const lt = execFileSync('/usr/bin/python3', ['-c',
      'import sys, libtorrent as lt; ti = lt.torrent_info(sys.argv[1]); print(str(ti.info_hashes().v1), ti.name(), ti.num_files())', file]).toString().trim();
    check(lt === `${debian.infohash} Debian 12 netinst 4`, `libtorrent reads the .torrent (${lt})`);
  } catch (e) {
    check(false, `libtorrent (python3-libtorrent) reads the .torrent: ${e.message}`);
  }

  // The hostile name renders as text, in the list and on its page; nothing runs.
  await page.goto(`${serve.url}#/torrents?q=onerror`);
  await page.waitForFunction((n) => {
    const a0 = document.querySelector('#results tbody tr a');
    return a0 && a0.textContent === n;
  }, HOSTILE, { timeout: TIMEOUT });
  check(true, 'the hostile name is listed as literal text');
  check(await page.locator('img[src="x"]').count() === 0, 'no <img src=x> element was created from the name');
  await shot(page, 'hostile-search');
  await page.click('#results tbody a');
  await page.waitForSelector('#torrent-name', { timeout: TIMEOUT });
  check(await page.textContent('#torrent-name') === HOSTILE, 'the hostile torrent page title is literal text');
  check(await page.locator('.tree .n', { hasText: '<script>alert(2)<_script>.txt' }).count() === 1, 'a hostile file name is literal text');
  check(await page.locator('.tree .n', { hasText: 'a&b <i>.mkv' }).count() === 1, 'markup in a nested path is literal text');
  check(await page.locator('main img, main script, main i').count() === 0, 'no element was created from torrent data');
  await page.waitForTimeout(500);
  await shot(page, 'hostile-torrent');

  // CSV export from the UI.
  await page.goto(`${serve.url}#/torrents`);
  await page.waitForSelector('#export-csv');
  const [csv] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), page.click('#export-csv')]);
  const csvFile = join(a.workdir, 'export.csv');
  await csv.saveAs(csvFile);
  const csvText = readFileSync(csvFile, 'utf8');
  check(csvText.startsWith('infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,metadata_ok\n'), 'Export CSV downloads the seed header');
  check(csvText.trim().split('\n').length === pop.torrents.length + 1, 'Export CSV has one row per torrent');
  check(csvText.includes(`${byName(HOSTILE).infohash},<img src=x onerror=alert(1)>,3,`), 'the CSV keeps the hostile name verbatim');

  // Phone-sized view.
  const phone = await context.newPage();
  watch(phone, origin);
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${serve.url}#/torrents`);
  await phone.waitForSelector('#results tbody tr', { timeout: TIMEOUT });
  await shot(phone, 'torrents-phone');
  await phone.goto(`${serve.url}#/torrent/${byName('Nature Documentary Collection').infohash}`);
  await phone.waitForSelector('#torrent-name', { timeout: TIMEOUT });
  await shot(phone, 'torrent-phone');
  await phone.close();

  // Keyboard: the skip link and the nav are reachable with Tab.
  await page.goto(serve.url);
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.textContent) === 'Skip to content', 'Tab reaches the skip link first');
  await page.close();

  // ---------------------------------------------------------------- with a (fake) live crawl
  const live = await startServer(a.fixture, ['serve', '--db', db, '--live']);
  servers.push(live);
  const lorigin = live.url.replace(/\/$/, '');
  const lp = await context.newPage();
  watch(lp, lorigin);
  await lp.goto(live.url);
  await lp.waitForFunction(() => document.querySelector('#conn .conn-text').textContent === 'live crawl', null, { timeout: TIMEOUT });
  check(await statValue(lp, 'Fetch success').textContent() === '62.5 %', 'live cards show the crawler\'s success rate');
  await lp.waitForFunction(() => document.querySelectorAll('.feed li.fresh').length >= 1, null, { timeout: TIMEOUT });
  check(true, 'new discoveries stream into the feed');
  const runText = async () => (await statValue(lp, 'Infohashes / s').locator('..').locator('.sub').textContent());
  const first = await runText();
  await lp.waitForTimeout(2200);
  check(first !== await runText(), `live totals change as events arrive (${first} → ${await runText()})`);
  await lp.click('text=Pause sampling');
  await lp.waitForFunction(() => [...document.querySelectorAll('.control button')].some((b) => b.textContent === 'Resume sampling'), null, { timeout: TIMEOUT });
  const st1 = await lp.evaluate(async () => (await (await fetch('/api/status')).json()).live);
  check(st1.sampling_paused === true && st1.fetching_paused === false, 'Pause sampling reached the crawler (fetching untouched)');
  await lp.fill('#packet-budget', '250');
  await lp.click('text=Apply');
  await lp.waitForFunction(() => document.getElementById('toast').textContent.includes('250'), null, { timeout: TIMEOUT });
  const st2 = await lp.evaluate(async () => (await (await fetch('/api/status')).json()).live);
  check(st2.packet_budget === 250, 'the packet budget reached the crawler');
  await lp.fill('#packet-budget', '0');
  await lp.click('text=Apply');
  const budgetValid = await lp.evaluate(() => document.getElementById('packet-budget').validity.valid);
  const st3 = await lp.evaluate(async () => (await (await fetch('/api/status')).json()).live);
  check(!budgetValid && st3.packet_budget === 250, 'an out-of-range budget is refused by the form and not sent');
  await lp.waitForTimeout(1200);
  await shot(lp, 'dashboard-live');
  await lp.emulateMedia({ colorScheme: 'dark' });
  await lp.waitForTimeout(600);
  await shot(lp, 'dashboard-live-dark');
  await lp.emulateMedia({ colorScheme: 'light' });
  await lp.click('nav a[data-nav="network"]');
  await lp.waitForSelector('canvas.heatmap', { timeout: TIMEOUT });
  check(await lp.locator('td.mono', { hasText: '<b>bold</b> "client"' }).count() === 1, 'a hostile client version is literal text');
  check(await lp.locator('main b').count() === 0, 'no element was created from a client version');
  await lp.waitForSelector('#instances tbody tr', { timeout: TIMEOUT });
  check(await lp.locator('#instances tbody tr').count() === 2, 'the network page lists the two crawler instances');
  check(await lp.locator('#instances td', { hasText: 'crawl-a' }).count() === 1 &&
        await lp.locator('#instances .badge.live').count() === 1 && await lp.locator('#instances .badge.stopped').count() === 1,
        'each instance with its state');
  check(await lp.locator('#instances td', { hasText: HOSTILE }).count() === 1 && await lp.locator('main img').count() === 0,
        'a hostile host name is literal text');
  await lp.waitForTimeout(800);
  await shot(lp, 'network');
  await lp.emulateMedia({ colorScheme: 'dark' });
  await lp.waitForTimeout(600);
  await shot(lp, 'network-dark');
  await lp.close();

  // ---------------------------------------------------------------- access token
  const tok = await startServer(a.fixture, ['serve', '--db', db, '--token', TOKEN]);
  servers.push(tok);
  const tp = await context.newPage();
  watch(tp, tok.url.replace(/\/$/, ''));
  await tp.goto(tok.url);
  await tp.waitForSelector('#token-dialog[open]', { timeout: TIMEOUT });
  check(true, 'without a token the UI asks for one');
  await shot(tp, 'token-prompt');
  await tp.fill('#token-input', 'not-the-token-000000');
  await tp.click('#token-form button[type="submit"]');
  await tp.waitForFunction(() => document.getElementById('token-error').textContent.includes('not accepted'), null, { timeout: TIMEOUT });
  check(true, 'a wrong token is refused');
  await tp.fill('#token-input', TOKEN);
  await tp.click('#token-form button[type="submit"]');
  await tp.waitForFunction((n) => {
    const v = [...document.querySelectorAll('.stat')].find((s) => /torrents/i.test(s.querySelector('.label').textContent));
    return v && v.querySelector('.value').textContent === String(n) && !document.getElementById('token-dialog').open;
  }, pop.torrents.length, { timeout: TIMEOUT });
  check(true, 'the right token unlocks the dashboard');
  await tp.close();
  const tp2 = await context.newPage();
  watch(tp2, tok.url.replace(/\/$/, ''));
  await tp2.goto(`${tok.url}?token=${TOKEN}#/torrents`);
  await tp2.waitForSelector('#results tbody tr a', { timeout: TIMEOUT });
  check(!tp2.url().includes('token='), 'a ?token= in the address is adopted and removed from the address bar');
  const dl = await tp2.getAttribute('#export-csv', 'href');
  check(dl.endsWith(`&token=${TOKEN}`), 'download links carry the token');
  await tp2.close();

  // ---------------------------------------------------------------- refusing a public bind
  const refused = await run(a.bitscrape, ['serve', '--db', db, '--web', '0.0.0.0:0']);
  check(refused.code !== 0, `serve on 0.0.0.0 without a token exits non-zero (${refused.code})`);
  check(refused.stderr.includes('without an access token') && refused.stderr.includes('--web-token'),
    `… saying why: ${refused.stderr.trim()}`);

  check(problems.length === 0, `no dialog, page error or foreign request (${problems.join('; ') || 'none'})`);
} catch (e) {
  check(false, `browser test aborted: ${e.stack || e}`);
} finally {
  await close();
  for (const s of servers) {
    const code = await stopServer(s);
    check(code === 0, `a server stopped cleanly on SIGTERM (exit ${code})`);
  }
}
console.log(`screenshots: ${a.screenshots}`);
process.exit(summary() ? 0 : 1);
