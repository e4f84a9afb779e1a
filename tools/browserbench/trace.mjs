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
 * tools/scripts/trace-tab.sh runs it against a fresh server and ffmpeg feed.
 */
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' },
    tabs: { type: 'string', default: '1' },
    warm: { type: 'string', default: '20' },
    duration: { type: 'string', default: '15' },
    out: { type: 'string', default: 'artifacts/trace.json' },
    top: { type: 'string', default: '12' },
  },
});
if (!a.url) {
  console.error('usage: node trace.mjs --url URL [--tabs N] [--warm S] [--duration S] [--out FILE] [--top N]');
  process.exit(2);
}
const tabs = Number(a.tabs), warm = Number(a.warm), duration = Number(a.duration), top = Number(a.top);
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm',
  'disabled-by-default-v8.compile', 'disabled-by-default-v8.gc', 'toplevel', 'blink', 'media'];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream'],
});
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
