// `bitscrape serve` and `bitscrape export` as a person runs them (no browser):
//   - export csv / jsonl (--all) writes byte for byte what /api/export serves;
//   - export --format torrents writes one parseable .torrent per torrent, safely named;
//   - the .torrent download's Content-Disposition on the wire (RFC 6266 filename*);
//   - serve refuses a non-loopback address without a token, and a missing database;
//   - crawl refuses a bad flag value with the same message as the same value in its config file;
//   - serve stops cleanly on SIGINT and SIGTERM.
//   node cli_test.mjs --bitscrape BIN --fixture WEB_FIXTURE --workdir DIR
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { args, check, run, startServer, stopServer, summary, torrentInfo } from './lib.mjs';

const a = args();
for (const k of ['bitscrape', 'fixture', 'workdir']) {
  if (!a[k]) { console.error(`missing --${k}`); process.exit(2); }
}
rmSync(a.workdir, { recursive: true, force: true });
mkdirSync(a.workdir, { recursive: true });
const db = join(a.workdir, 'fixture.db');
const populated = await run(a.fixture, ['populate', '--db', db]);
if (populated.code !== 0) { console.error(populated.stderr); process.exit(1); }
const pop = JSON.parse(populated.stdout.toString());

let serve = null;
try {
  serve = await startServer(a.bitscrape, ['serve', '--db', db, '--web', '127.0.0.1:0']);
  const api = async (path) => Buffer.from(await (await fetch(serve.url + path.replace(/^\//, ''))).arrayBuffer());

  // Export: CLI and API agree byte for byte.
  for (const [format, all] of [['csv', false], ['csv', true], ['jsonl', false], ['jsonl', true]]) {
    const cli = await run(a.bitscrape, ['export', '--format', format, '--db', db, ...(all ? ['--all'] : [])]);
    check(cli.code === 0, `export --format ${format}${all ? ' --all' : ''} exits 0 (${cli.stderr.trim()})`);
    const web = await api(`/api/export?format=${format}${all ? '&all=1' : ''}`);
    check(cli.stdout.length > 100 && cli.stdout.equals(web), `export --format ${format}${all ? ' --all' : ''} equals /api/export (${cli.stdout.length} bytes)`);
  }
  const out = join(a.workdir, 'out.jsonl');
  const toFile = await run(a.bitscrape, ['export', '--format', 'jsonl', '--db', db, '--output', out]);
  check(toFile.code === 0 && toFile.stderr.includes(`exported ${pop.torrents.length} torrents`), `export --output FILE reports what it wrote (${toFile.stderr.trim()})`);
  check(readFileSync(out, 'utf8').trim().split('\n').length === pop.torrents.length, 'the JSONL file has one line per torrent');

  // .torrent files.
  const dir = join(a.workdir, 'torrents');
  const t = await run(a.bitscrape, ['export', '--format', 'torrents', '--db', db, '--output', dir]);
  check(t.code === 0, `export --format torrents exits 0 (${t.stderr.trim()})`);
  const files = readdirSync(dir);
  check(files.length === pop.torrents.length, `one .torrent per torrent (${files.length})`);
  const keys = new Set(pop.torrents.map((x) => x.infohash));
  let good = 0;
  for (const f of files) {
    const info = torrentInfo(readFileSync(join(dir, f)));
    const key = keys.has(info.sha1) ? info.sha1 : info.sha256.slice(0, 40);
    if (keys.has(key) && f.endsWith(`-${key.slice(0, 8)}.torrent`) && !/[<>:"\\|?*]/.test(f)) good++;
    else console.log(`  bad: ${f}`);
  }
  check(good === files.length, 'every .torrent parses, hashes to a stored key and has a safe name');
  check(files.includes(`_img src=x onerror=alert(1)_-${pop.torrents.find((x) => x.name.startsWith('<img')).infohash.slice(0, 8)}.torrent`),
    'the hostile name became a safe file name');

  // Content-Disposition as sent on the wire.
  const hostile = pop.torrents.find((x) => x.name.startsWith('<img'));
  const res = await fetch(`${serve.url}api/torrents/${hostile.infohash}/torrent`);
  check(res.headers.get('content-disposition') ===
    'attachment; filename="_img src=x onerror=alert(1)_.torrent"; filename*=UTF-8\'\'_img%20src%3Dx%20onerror%3Dalert%281%29_.torrent',
  `Content-Disposition: ${res.headers.get('content-disposition')}`);
  check(res.headers.get('content-type') === 'application/x-bittorrent', 'served as application/x-bittorrent');

  // Refusals.
  const pub = await run(a.bitscrape, ['serve', '--db', db, '--web', '0.0.0.0:0']);
  check(pub.code === 2 && /without an access token/.test(pub.stderr) && /--web-token/.test(pub.stderr),
    `serve on 0.0.0.0 without a token is refused: ${pub.stderr.trim()}`);
  const v6 = await run(a.bitscrape, ['serve', '--db', db, '--web', '[::]:0']);
  check(v6.code === 2 && /without an access token/.test(v6.stderr), 'serve on [::] without a token is refused');
  const shortTok = await run(a.bitscrape, ['serve', '--db', db, '--web', '0.0.0.0:0', '--web-token', 'short']);
  check(shortTok.code === 2 && /16 to 256/.test(shortTok.stderr), `a short token is refused: ${shortTok.stderr.trim()}`);
  const missing = await run(a.bitscrape, ['serve', '--db', join(a.workdir, 'nope.db'), '--web', '127.0.0.1:0']);
  check(missing.code === 2 && /no database at/.test(missing.stderr), `serve on a missing database says so: ${missing.stderr.trim()}`);
  const badWeb = await run(a.bitscrape, ['serve', '--db', db, '--web', 'localhost']);
  check(badWeb.code === 2 && /--web/.test(badWeb.stderr), `a bad --web is refused: ${badWeb.stderr.trim()}`);
  const badFmt = await run(a.bitscrape, ['export', '--format', 'xml', '--db', db]);
  check(badFmt.code !== 0, 'export --format xml is refused');

  // crawl's flags validate exactly as its config keys do (one settings table behind both).
  const cfgFile = join(a.workdir, 'bad-keyspace.toml');
  writeFileSync(cfgFile, '[dht]\nkeyspace = ["zz"]\n');
  const fromFile = await run(a.bitscrape, ['crawl', '--config', cfgFile, '--db', join(a.workdir, 'c.db'), '--web', 'off']);
  check(fromFile.code === 2 && /dht\.keyspace: 'zz' is not a hex prefix/.test(fromFile.stderr), `keyspace "zz" in the config is refused: ${fromFile.stderr.trim()}`);
  for (const bad of ['zz', 'a'.repeat(40), '']) {
    const r = await run(a.bitscrape, ['crawl', '--keyspace', bad, '--db', join(a.workdir, 'c.db'), '--web', 'off']);
    check(r.code === 2 && /--keyspace: '.*' is not a hex prefix of 1 to 16 digits/.test(r.stderr), `--keyspace '${bad.slice(0, 8)}' is refused: ${r.stderr.trim()}`);
  }
  const budget = await run(a.bitscrape, ['crawl', '--packet-budget', '0', '--db', join(a.workdir, 'c.db'), '--web', 'off']);
  check(budget.code === 2 && /--packet-budget: must be between 1 and/.test(budget.stderr), `--packet-budget 0 is refused: ${budget.stderr.trim()}`);
  const badListen = await run(a.bitscrape, ['crawl', '--listen', 'nowhere', '--db', join(a.workdir, 'c.db'), '--web', 'off']);
  check(badListen.code === 2 && /--listen: 'nowhere' is not IP:PORT/.test(badListen.stderr), `a bad --listen is refused: ${badListen.stderr.trim()}`);

  // SIGINT stops it too.
  const s2 = await startServer(a.bitscrape, ['serve', '--db', db, '--web', '127.0.0.1:0']);
  const st = await (await fetch(`${s2.url}api/status`)).json();
  check(st.store.torrents === pop.torrents.length, 'a second serve on the same database answers (read-only, shared)');
  const code2 = await new Promise((resolve) => { s2.proc.once('exit', (c) => resolve(c)); s2.proc.kill('SIGINT'); });
  check(code2 === 0, `serve exits 0 on SIGINT (${code2})`);
} catch (e) {
  check(false, `cli test aborted: ${e.stack || e}`);
} finally {
  const code = await stopServer(serve);
  check(code === 0, `serve exits 0 on SIGTERM (${code})`);
}
process.exit(summary() ? 0 : 1);
