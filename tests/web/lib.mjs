// Shared helpers for the browser tests: Debian's Chromium through playwright-core (never a
// downloaded browser), child processes that print their URL, a tiny bencode reader, checks.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.BITSCRAPE_CHROMIUM || '/usr/bin/chromium';

export function args(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = true;
    else { out[a.slice(2)] = next; i++; }
  }
  return out;
}

export async function launch() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error('playwright-core is not installed: run scripts/setup.sh --test (npm ci in tests/web)');
  }
  const profile = mkdtempSync(join(tmpdir(), 'bitscrape-chromium-'));
  // launchPersistentContext gives the fresh --user-data-dir; downloads are accepted.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1360, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--no-default-browser-check'],
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// Starts `cmd args`, resolves with {proc, url} once a line on stdout contains http://...
export function startServer(cmd, argv, { timeoutMs = 20000, env } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${cmd} printed no URL in ${timeoutMs} ms:\n${out}\n${err}`)); }, timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1], stderr: () => err }); }
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited with ${code} before printing its URL:\n${out}\n${err}`)); });
  });
}

export function stopServer(s) {
  return new Promise((resolve) => {
    if (!s || s.proc.exitCode !== null) return resolve(s ? s.proc.exitCode : 0);
    const t = setTimeout(() => s.proc.kill('SIGKILL'), 10000);
    s.proc.once('exit', (code, signal) => { clearTimeout(t); resolve(code ?? signal); });
    s.proc.kill('SIGTERM');
  });
}

// Runs a command to completion: {code, stdout, stderr}.
export function run(cmd, argv, { timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${cmd} ${argv.join(' ')} timed out`)); }, timeoutMs);
    proc.stdout.on('data', (d) => out.push(d));
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(out), stderr: err }); });
  });
}

// Minimal bencode reader over a Buffer: returns {value, end}; dicts keep the byte span of
// each value so the info dict's exact bytes can be hashed.
export function bdecode(buf, pos = 0, depth = 0) {
  if (depth > 64) throw new Error('bencode too deep');
  const c = buf[pos];
  if (c === 0x69) { // i
    const e = buf.indexOf(0x65, pos);
    return { value: BigInt(buf.toString('latin1', pos + 1, e)), end: e + 1 };
  }
  if (c === 0x6c) { // l
    const list = [];
    let p = pos + 1;
    while (buf[p] !== 0x65) { const r = bdecode(buf, p, depth + 1); list.push(r.value); p = r.end; }
    return { value: list, end: p + 1 };
  }
  if (c === 0x64) { // d
    const dict = new Map();
    const spans = new Map();
    let p = pos + 1;
    while (buf[p] !== 0x65) {
      const k = bdecode(buf, p, depth + 1);
      const v = bdecode(buf, k.end, depth + 1);
      const key = k.value.toString('latin1');
      dict.set(key, v.value);
      spans.set(key, [k.end, v.end]);
      p = v.end;
    }
    dict.spans = spans;
    return { value: dict, end: p + 1 };
  }
  if (c >= 0x30 && c <= 0x39) {
    const colon = buf.indexOf(0x3a, pos);
    const len = Number(buf.toString('latin1', pos, colon));
    return { value: buf.subarray(colon + 1, colon + 1 + len), end: colon + 1 + len };
  }
  throw new Error(`bad bencode at ${pos}`);
}

// The infohash (SHA-1 of the exact info dict bytes) and the name of a .torrent file.
export function torrentInfo(buf) {
  const { value, end } = bdecode(buf);
  if (end !== buf.length) throw new Error('trailing bytes after the .torrent');
  if (!(value instanceof Map) || !value.has('info')) throw new Error('no info dict');
  const [s, e] = value.spans.get('info');
  const info = value.get('info');
  return {
    sha1: createHash('sha1').update(buf.subarray(s, e)).digest('hex'),
    sha256: createHash('sha256').update(buf.subarray(s, e)).digest('hex'),
    name: info.get('name').toString('utf8'),
  };
}

let failures = 0;
let passes = 0;
export function check(cond, what) {
  if (cond) { passes++; console.log(`ok - ${what}`); } else { failures++; console.log(`FAIL - ${what}`); }
  return cond;
}
export function summary() {
  console.log(`${passes} passed, ${failures} failed`);
  return failures === 0 && passes > 0;
}
