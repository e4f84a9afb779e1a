// @ts-check
/**
 * trace.mjs: where a viewer tab's renderer spends its time, from a DevTools
 * performance trace (the Tracing domain, through playwright-core).
 *
 * Opens --tabs viewer tabs of --url (300 ms apart, one browser context
 * each), traces the first for --duration seconds starting --warm seconds
 * after it opened (--warm 0: from the page's start), and prints, for each
 * of the tab's renderer threads, how busy it was (% of one core) and the
 * event names with the most self time. The trace itself goes to --out,
 * for chrome://tracing or Perfetto.
 *
 *   node trace.mjs --url http://127.0.0.1:8090/watch/live --tabs 3 --warm 0 --duration 15
 *
 * With --compile-log NAMED.wasm it also prints what V8 compiled of the
 * wasm peer, from Chromium's own log of every compile
 * (--js-flags=--trace-wasm-compilation-times): per tier the functions and
 * their compile time, and the --top functions TurboFan spent longest on,
 * named from the name section of NAMED.wasm, an unstripped build of the
 * same code (the served peer has no names):
 *
 *   GOOS=js GOARCH=wasm go build -trimpath -o /tmp/named.wasm ./wasm
 *   tools/scripts/trace-tab.sh --tabs 1 --warm 0 --duration 20 --compile-log /tmp/named.wasm
 *
 * tools/scripts/trace-tab.sh runs it against a fresh server and ffmpeg feed.
 */
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' },
    tabs: { type: 'string', default: '1' },
    warm: { type: 'string', default: '20' },
    duration: { type: 'string', default: '15' },
    out: { type: 'string', default: 'artifacts/trace.json' },
    top: { type: 'string', default: '12' },
    'compile-log': { type: 'string', default: '' },
  },
});
if (!a.url) {
  console.error('usage: node trace.mjs --url URL [--tabs N] [--warm S] [--duration S] [--out FILE] [--top N]');
  process.exit(2);
}
const tabs = Number(a.tabs), warm = Number(a.warm), duration = Number(a.duration), top = Number(a.top);
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm',
  'disabled-by-default-v8.compile', 'disabled-by-default-v8.gc', 'toplevel', 'blink', 'media'];

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream'];
/** Chromium's output lines (with --compile-log) */
const logLines = [];
const browser = a['compile-log'] ? await launchLogged() : await chromium.launch({ executablePath, args });

/**
 * Starts Chromium with V8's compile log on its output, which playwright's
 * own launch does not hand over, and connects to it over CDP.
 */
async function launchLogged() {
  const dir = fs.mkdtempSync('/tmp/trace-chromium-');
  const proc = spawn(executablePath, [...args, '--js-flags=--trace-wasm-compilation-times', '--enable-logging=stderr',
    '--remote-debugging-port=0', `--user-data-dir=${dir}`, 'about:blank'], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => proc.kill());
  /** @type {(url: string) => void} */
  let found = () => {};
  const wsURL = new Promise((resolve) => { found = resolve; });
  for (const stream of [proc.stdout, proc.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      logLines.push(line);
      const m = /DevTools listening on (ws:\S+)/.exec(line);
      if (m) found(m[1]);
    });
  }
  return chromium.connectOverCDP(/** @type {string} */ (await wsURL));
}
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const pages = [];
/** the traced tab's main frame, to find its renderer in the trace */
let frameId = '';
for (let i = 0; i < tabs; i++) {
  const context = await browser.newContext();
  // Shoal's page publishes window.__shoal (its player's stalls, read below) only when a test asks.
  await context.addInitScript(() => { /** @type {any} */ (window).__shoalTest = true; });
  const page = await context.newPage();
  if (i === 0) frameId = (await (await context.newCDPSession(page)).send('Page.getFrameTree')).frameTree.frame.id;
  if (i === 0 && warm === 0) await browser.startTracing(page, { path: a.out, categories: CATEGORIES });
  page.goto(a.url).catch((err) => console.error(`tab ${i}: ${err.message}`));
  pages.push(page);
  await sleep(300);
}
if (warm > 0) {
  await sleep(warm * 1000);
  await browser.startTracing(pages[0], { path: a.out, categories: CATEGORIES });
}
await sleep(duration * 1000);
const player = await pages[0].evaluate(() => {
  const p = /** @type {any} */ (window).__shoal?.player;
  return p ? { stalls: p.stalls, stalledMs: Math.round(p.stalledMs), latency: p.latency } : null;
}).catch(() => null);
await browser.stopTracing();
await browser.close();

/** @type {any[]} */
const events = JSON.parse(fs.readFileSync(a.out, 'utf8')).traceEvents;
const names = new Map(), processes = new Map();
for (const e of events) {
  if (e.ph !== 'M') continue;
  if (e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  if (e.name === 'process_name') processes.set(e.pid, e.args.name);
}
// The traced tab's renderer: the process its main frame was committed in
// (trace events name frames and their processes), else the busiest one
// that is not Chromium's own UI (headless Chromium has WebUI renderers too).
/** @type {number | undefined} */
let framePid;
for (const e of events) {
  const d = e.args?.data;
  if (d?.frame === frameId && d.processId) framePid = d.processId;
  for (const f of d?.frames ?? []) if (f.frame === frameId && f.processId) framePid = f.processId;
}
/** @type {Map<string, any[]>} */
const byThread = new Map();
for (const e of events) {
  if (e.ph !== 'X' || e.dur === undefined) continue;
  const k = `${e.pid}:${e.tid}`;
  if (!byThread.has(k)) byThread.set(k, []);
  byThread.get(k)?.push(e);
}
/** Busy time (top-level events) and self time per event name of one thread. */
function selfTimes(/** @type {any[]} */ list) {
  list.sort((x, y) => x.ts - y.ts || y.dur - x.dur);
  const stack = [], self = new Map();
  let busy = 0;
  const close = (/** @type {any} */ x) => self.set(x.name, (self.get(x.name) ?? 0) + x.dur - x.child);
  for (const e of list) {
    e.child = 0;
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) close(stack.pop());
    if (stack.length) stack[stack.length - 1].child += e.dur;
    else busy += e.dur;
    stack.push(e);
  }
  while (stack.length) close(stack.pop());
  return { busy, self };
}
const pct = (/** @type {number} */ us) => `${(us / 1e4 / duration).toFixed(1).padStart(5)}%`;
const renderers = [...byThread.keys()]
  .filter((k) => names.get(k) === 'CrRendererMain' && !/WebUI/.test(processes.get(Number(k.split(':')[0])) ?? ''))
  .map((k) => ({ pid: Number(k.split(':')[0]), busy: selfTimes(byThread.get(k) ?? []).busy }))
  .sort((x, y) => y.busy - x.busy);
const pid = framePid ?? renderers[0]?.pid;
console.log(`tab 0 of ${tabs}, ${warm > 0 ? `from ${warm} s` : 'from the page\'s start'} for ${duration} s; player: ${JSON.stringify(player)}`);
const rows = [...byThread].filter(([k]) => Number(k.split(':')[0]) === pid)
  .map(([k, list]) => ({ name: names.get(k) ?? k, ...selfTimes(list) }))
  .sort((x, y) => y.busy - x.busy);
for (const r of rows) {
  if (r.busy / 1e4 / duration < 0.5) continue;
  console.log(`${pct(r.busy)} ${processes.get(pid) ?? 'renderer'} / ${r.name}`);
  for (const [n, us] of [...r.self].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`        ${pct(us)} ${n}`);
}

if (a['compile-log']) compileReport(logLines, wasmNames(fs.readFileSync(a['compile-log'])));

/**
 * Prints what V8 compiled, from its "Compiled function <module>#<index>
 * using <tier>, took <t> μs …; bodysize <b> …" lines.
 * @param {string[]} lines @param {Map<number, string>} names
 */
function compileReport(lines, names) {
  const re = /Compiled function \S+#(\d+) using (\w+), took (\d+) μs.*bodysize (\d+)/;
  /** @type {Map<string, {n: number, us: number}>} */
  const tiers = new Map();
  const turbofan = [];
  for (const line of lines) {
    const m = re.exec(line);
    if (!m) continue;
    const [, index, tier, us, body] = m;
    const t = tiers.get(tier) ?? { n: 0, us: 0 };
    t.n++;
    t.us += Number(us);
    tiers.set(tier, t);
    if (tier === 'TurboFan') turbofan.push({ name: names.get(Number(index)) ?? `#${index}`, us: Number(us), body: Number(body) });
  }
  if (tiers.size === 0) {
    console.log('compile log: no compile lines (does this Chromium log --trace-wasm-compilation-times?)');
    return;
  }
  for (const [tier, t] of tiers) console.log(`compile log: ${tier} ${t.n} functions, ${(t.us / 1000).toFixed(0)} ms`);
  turbofan.sort((x, y) => y.us - x.us);
  for (const f of turbofan.slice(0, top)) console.log(`   ${(f.us / 1000).toFixed(0).padStart(5)} ms  ${String(f.body).padStart(6)} B  ${f.name}`);
}

/**
 * Function names by index from a wasm module's name section.
 * @param {Uint8Array} b
 * @returns {Map<number, string>}
 */
function wasmNames(b) {
  let i = 8;
  const leb = () => {
    let r = 0, shift = 0, x;
    do {
      x = b[i++];
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  };
  const text = (/** @type {number} */ n) => new TextDecoder().decode(b.subarray(i, (i += n)));
  const names = new Map();
  while (i < b.length) {
    const id = b[i++];
    const size = leb();
    const end = i + size;
    if (id === 0 && text(leb()) === 'name') {
      while (i < end) {
        const sub = b[i++];
        const subEnd = leb() + i;
        if (sub === 1) {
          for (let n = leb(); n > 0; n--) {
            const index = leb();
            names.set(index, text(leb()));
          }
        }
        i = subEnd;
      }
    }
    i = end;
  }
  return names;
}
