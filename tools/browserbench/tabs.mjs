// @ts-check
/**
 * One phase of the browser benchmark: opens viewer tabs in headless
 * Chromium (one browser context per tab, the e2e tests' flags), measures
 * them from outside the player, and prints ONE JSON object on stdout. It
 * judges nothing: main.go decodes the frame counter, computes latency,
 * stalls, shares and CPU, and writes the report.
 *
 * What it collects per tab:
 *  - inject.js's readings (frames with the counter's luma, media events,
 *    RTCPeerConnection byte counts), drained once a second (a drain that
 *    times out is sent again by the page at the next one);
 *  - DevTools protocol network events (Network.dataReceived and
 *    loadingFinished encodedDataLength, WebSocket frames) of the page and
 *    of its wasm peer's worker, classified as video, page, wasm, signal or
 *    other by URL, with the video's worker share and first 30 s apart
 *    (net['video:worker'], net['video:first30s']);
 *  - Performance.getMetrics every 2 s: ProcessTime (the renderer process's
 *    CPU seconds), TaskDuration, JSHeapUsedSize; and the renderer's resident
 *    memory (VmRSS in /proc/<pid>/status, which counts the wasm memory the
 *    JS heap does not). The renderer's pid is the one among
 *    SystemInfo.getProcessInfo's renderers whose CPU time in /proc/<pid>/stat
 *    equals the tab's ProcessTime, twice in a row;
 *  - which peer connections end at the server: a connection whose remote
 *    port is a UDP socket of --server-pid (read from /proc) is the origin's;
 *    with --server-pid-file the pid is read from that file each time (the
 *    restart scenario replaces the server process).
 *
 * Usage:
 *   node tabs.mjs --url URL --tabs N [--stagger-ms 700] --duration S
 *     [--churn-every S] [--server-pid PID | --server-pid-file PATH] [--sample-ms 250] --points JSON
 *
 * Environment: CHROMIUM overrides the browser binary (default /usr/bin/chromium).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const DRAIN_MS = 1000;
const PERF_MS = 2000;
const EVAL_TIMEOUT_MS = 5000;
const GOTO_TIMEOUT_MS = 30_000;
const WATCHDOG_SLACK_MS = 120_000;
/** Matching a tab to its renderer process: see matchPid. */
const PID_ROUNDS = 5;
const PID_MATCH_S = 0.03;

/** The e2e tests' Chromium flags (tools/e2e/browser.mjs). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
];

function flags() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      tabs: { type: 'string', default: '1' },
      'stagger-ms': { type: 'string', default: '700' },
      duration: { type: 'string', default: '60' },
      'churn-every': { type: 'string', default: '0' },
      'server-pid': { type: 'string', default: '0' },
      'server-pid-file': { type: 'string', default: '' },
      'sample-ms': { type: 'string', default: '250' },
      points: { type: 'string' },
      'block-webrtc': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.url || !values.points) {
    process.stderr.write('tabs.mjs: --url and --points are required\n');
    process.exit(2);
  }
  return {
    url: String(values.url),
    tabs: Number(values.tabs),
    staggerMs: Number(values['stagger-ms']),
    duration: Number(values.duration),
    churnEvery: Number(values['churn-every']),
    serverPid: Number(values['server-pid']),
    serverPidFile: String(values['server-pid-file']),
    sampleMs: Number(values['sample-ms']),
    points: JSON.parse(String(values.points)),
    blockWebRTC: Boolean(values['block-webrtc']),
  };
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @template T
 * @param {Promise<T>} p
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
function within(p, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The local UDP ports of pid's sockets (its WebRTC transports), from /proc.
 * @param {number} pid
 * @returns {Set<number>}
 */
function udpPorts(pid) {
  const ports = new Set();
  if (!pid) return ports;
  try {
    const inodes = new Set();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // the fd closed meanwhile
      }
    }
    for (const file of ['udp', 'udp6']) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length > 9 && inodes.has(f[9])) ports.add(parseInt(f[1].split(':')[1], 16));
      }
    }
  } catch (err) {
    process.stderr.write(`tabs.mjs: reading /proc/${pid}: ${err instanceof Error ? err.message : err}\n`);
  }
  return ports;
}

/**
 * CPU seconds (user + system) of pid so far, or null once it is gone.
 * @param {number} pid
 */
function procCPU(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Resident memory of pid in bytes, or null.
 * @param {number} pid
 */
function procRSS(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} url
 * @param {string} type  CDP resource type
 */
function classify(url, type) {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // data: and the like
  }
  // Shoal's video over HTTP: the start-up run (media), the init segment,
  // single chunks (fallback); HLS: playlists, init and segments.
  if (/^\/api\/streams\/[^/]+\/(chunks\/|init$|media$)/.test(path) || path.startsWith('/hls/')) return 'video';
  if (path.endsWith('.wasm')) return 'wasm';
  if (['Document', 'Script', 'Stylesheet', 'Font', 'Image'].includes(type)) return 'page';
  return 'other';
}

/**
 * @typedef {object} Tab
 * @property {number} index
 * @property {number} openedAt   epoch ms when the harness started opening it
 * @property {number | null} closedAt
 * @property {import('playwright-core').BrowserContext | null} context
 * @property {import('playwright-core').Page | null} page
 * @property {import('playwright-core').CDPSession | null} cdp
 * @property {number | null} firstFrameAt
 * @property {number} presented
 * @property {number} skew
 * @property {any[]} frames
 * @property {any[]} events
 * @property {string[]} errors
 * @property {Map<number, any>} pcs
 * @property {Map<string, {url: string, kind: string, data: number, total: number, at: number, worker: boolean}>} requests
 * @property {Record<string, number>} wsBytes
 * @property {any[]} perf
 * @property {number} pid        the renderer's, once known (0 before)
 * @property {Map<number, number[]>} pidHistory  renderer pid -> |its /proc CPU - ProcessTime| in recent rounds
 */

async function main() {
  const opts = flags();
  const t0 = Date.now();
  /** The server's pid now. */
  const serverPid = () => {
    if (!opts.serverPidFile) return opts.serverPid;
    try {
      return Number(readFileSync(opts.serverPidFile, 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };
  const watchdog = setTimeout(() => {
    process.stderr.write('tabs.mjs: watchdog expired; the harness is stuck\n');
    process.exit(3);
  }, opts.duration * 1000 + WATCHDOG_SLACK_MS);
  watchdog.unref();

  const inject = readFileSync(new URL('./inject.js', import.meta.url), 'utf8');
  // window.__shoalTest: Shoal's page publishes window.__shoal (read by inject.js) only when a test asks.
  const initScript = `window.__shoalTest = true;\nwindow.__benchConfig = ${JSON.stringify({ samplePoints: opts.points, sampleMs: opts.sampleMs })};\n${inject}`;
  // SIGINT ends the phase early, with a report. Ctrl-C in a terminal sends
  // it to this process and, through the Go harness, again: the third one
  // gives up.
  let interrupted = false;
  let sigints = 0;
  process.on('SIGINT', () => {
    if (++sigints >= 3) process.exit(130);
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('tabs.mjs: interrupted; reporting what was measured\n');
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // --block-webrtc: without --allow-loopback-in-peer-connection a tab
    // in the loopback-only namespace gathers no ICE candidate (and the
    // server runs without -ice-loopback), so no data channel ever opens,
    // as for a viewer whose network blocks WebRTC: every tab must play
    // from HTTP. (Chromium's --force-webrtc-ip-handling-policy did not
    // stop the loopback pairs.)
    args: opts.blockWebRTC ? CHROMIUM_ARGS.filter((a) => a !== '--allow-loopback-in-peer-connection') : CHROMIUM_ARGS,
    handleSIGINT: false,
  });
  const bcdp = await browser.newBrowserCDPSession();
  const processInfo = async () => {
    try {
      const r = await within(bcdp.send('SystemInfo.getProcessInfo'), EVAL_TIMEOUT_MS, 'getProcessInfo');
      return { at: Date.now(), processes: r.processInfo.map((p) => ({ type: p.type, pid: p.id, cpu: p.cpuTime })) };
    } catch (err) {
      return { at: Date.now(), error: String(err) };
    }
  };
  const procStart = await processInfo();

  /** @type {Tab[]} */
  const tabs = [];
  const serverPorts = new Set();

  /**
   * Counts one DevTools network event of tab's, from its page or (prefix
   * 'w<session>:') its worker, into tab.requests and tab.wsBytes.
   * @param {Tab} tab @param {string} prefix @param {string} method @param {any} e
   */
  const countNetwork = (tab, prefix, method, e) => {
    const id = prefix + e.requestId;
    switch (method) {
      case 'Network.requestWillBeSent':
        tab.requests.set(id, { url: e.request.url, kind: classify(e.request.url, e.type ?? ''), data: 0, total: 0, at: Date.now(), worker: prefix !== '' });
        break;
      case 'Network.dataReceived': {
        const r = tab.requests.get(id);
        if (r) r.data += e.encodedDataLength;
        break;
      }
      case 'Network.loadingFinished': {
        const r = tab.requests.get(id);
        if (r) r.total = e.encodedDataLength;
        break;
      }
      case 'Network.webSocketFrameReceived': {
        const p = e.response.payloadData ?? '';
        const n = e.response.opcode === 2 ? Math.floor((p.length * 3) / 4) : Buffer.byteLength(p);
        tab.wsBytes.signal = (tab.wsBytes.signal ?? 0) + n;
        break;
      }
    }
  };

  // What a tab's wasm peer fetches itself (the engine's chunks over HTTP,
  // the signaling socket) goes out from its dedicated worker, whose
  // network events the page's DevTools session never sees. The browser's
  // session watches for workers, attaches to each (non-flat: its messages
  // come wrapped in Target.receivedMessageFromTarget) and counts its
  // network events into the tab whose browser context it runs in. A worker
  // runs a moment before Network.enable reaches it: what it fetches at
  // once (the wasm from the HTTP cache) may go uncounted; its chunk
  // fetches come seconds later.
  /** @type {Map<string, Tab>} */
  const tabByContext = new Map();
  /** @type {Map<string, Tab>} */
  const workerTabs = new Map();
  bcdp.on('Target.targetCreated', async ({ targetInfo: ti }) => {
    const tab = ti.type === 'worker' ? tabByContext.get(ti.browserContextId ?? '') : undefined;
    if (!tab) return;
    try {
      const { sessionId } = await bcdp.send('Target.attachToTarget', { targetId: ti.targetId, flatten: false });
      workerTabs.set(sessionId, tab);
      await bcdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Network.enable' }) });
    } catch (err) {
      process.stderr.write(`[tab ${tab.index}] cannot watch its worker's network: ${err}\n`);
    }
  });
  bcdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }) => {
    const tab = workerTabs.get(sessionId);
    if (!tab) return;
    const m = JSON.parse(message);
    if (m.method?.startsWith('Network.')) countNetwork(tab, `w${sessionId}:`, m.method, m.params);
  });
  await bcdp.send('Target.setDiscoverTargets', { discover: true });

  /** @param {Tab} tab */
  const drain = async (tab) => {
    if (!tab.page || tab.page.isClosed()) return;
    try {
      const got = [tab.frames.length, tab.events.length];
      const d = await within(tab.page.evaluate(([f, e]) => /** @type {any} */ (window).__bench?.drain(f, e) ?? null, got), EVAL_TIMEOUT_MS, 'drain');
      if (!d) return;
      tab.firstFrameAt = d.firstFrameAt;
      tab.presented = d.presented;
      tab.skew = d.skew;
      if (tab.frames.length !== got[0] || tab.events.length !== got[1]) return; // a concurrent drain got there first
      tab.frames.push(...d.frames);
      tab.events.push(...d.events);
      tab.errors = d.errors;
      let fresh = false;
      for (const pc of d.pcs) {
        const old = tab.pcs.get(pc.id);
        if (!old || old.server === undefined) fresh = fresh || pc.port > 0;
        tab.pcs.set(pc.id, { ...pc, server: old?.server });
      }
      if (fresh) {
        // Classify while the connection is up: the origin's sockets are
        // gone from /proc once it has closed them.
        for (const p of udpPorts(serverPid())) serverPorts.add(p);
        for (const pc of tab.pcs.values()) {
          if (pc.server === undefined && pc.port > 0) pc.server = serverPorts.has(pc.port);
        }
      }
    } catch (err) {
      process.stderr.write(`[tab ${tab.index}] drain failed: ${err instanceof Error ? err.message : err}\n`);
    }
  };

  /** @type {number[]} */
  let renderers = [];
  const listRenderers = async () => {
    const info = await processInfo();
    if (info.processes) renderers = info.processes.filter((p) => p.type === 'renderer').map((p) => p.pid);
  };

  /**
   * Finds the tab's renderer: the one whose /proc CPU time has matched
   * ProcessTime (both count the same clock ticks) within PID_MATCH_S in each
   * of the last PID_ROUNDS rounds, when no other renderer did. Two tabs
   * doing the same work drift apart within a few rounds.
   * @param {Tab} tab
   * @param {number} processTime
   */
  const matchPid = (tab, processTime) => {
    const taken = new Set(tabs.filter((t) => t !== tab && t.page && t.pid).map((t) => t.pid));
    for (const pid of renderers) {
      if (taken.has(pid)) continue;
      const cpu = procCPU(pid);
      if (cpu === null) continue;
      const h = tab.pidHistory.get(pid) ?? [];
      h.push(Math.abs(cpu - processTime));
      if (h.length > PID_ROUNDS) h.shift();
      tab.pidHistory.set(pid, h);
    }
    const fits = [...tab.pidHistory].filter(([pid, h]) => !taken.has(pid) && h.length === PID_ROUNDS && h.every((d) => d <= PID_MATCH_S));
    if (fits.length === 1) {
      tab.pid = fits[0][0];
      process.stderr.write(`[tab ${tab.index}] renderer pid ${tab.pid}\n`);
    }
  };

  /** @param {Tab} tab */
  const perf = async (tab) => {
    if (!tab.cdp || !tab.page || tab.page.isClosed()) return;
    try {
      const r = await within(tab.cdp.send('Performance.getMetrics'), EVAL_TIMEOUT_MS, 'getMetrics');
      /** @type {Record<string, number>} */
      const m = {};
      for (const { name, value } of r.metrics) m[name] = value;
      if (!tab.pid) matchPid(tab, m.ProcessTime);
      const rss = tab.pid ? procRSS(tab.pid) : null;
      const pcpu = tab.pid ? procCPU(tab.pid) : null;
      // Shoal's wasm peer runs in a worker, whose memory getMetrics leaves
      // out: the peer says what its Go runtime holds (window.__shoal.stats).
      const mem = await within(tab.page.evaluate(() => {
        const s = /** @type {any} */ (window).__shoal?.stats;
        return s && typeof s.memoryBytes === 'number' ? [s.memoryBytes, s.goHeapBytes] : null;
      }), EVAL_TIMEOUT_MS, 'memory').catch(() => null);
      tab.perf.push({
        at: Date.now(), cpu: m.ProcessTime, procCpu: pcpu, task: m.TaskDuration, heap: m.JSHeapUsedSize, heapTotal: m.JSHeapTotalSize, rss,
        wasm: mem?.[0] ?? null, goHeap: mem?.[1] ?? null,
      });
    } catch (err) {
      process.stderr.write(`[tab ${tab.index}] getMetrics failed: ${err instanceof Error ? err.message : err}\n`);
    }
  };

  /** @param {number} index */
  const open = async (index) => {
    /** @type {Tab} */
    const tab = {
      index, openedAt: Date.now(), closedAt: null, context: null, page: null, cdp: null,
      firstFrameAt: null, presented: 0, skew: 0, frames: [], events: [], errors: [],
      pcs: new Map(), requests: new Map(), wsBytes: {}, perf: [], pid: 0, pidHistory: new Map(),
    };
    tabs.push(tab);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript({ content: initScript });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    Object.assign(tab, { context, page, cdp });
    page.on('pageerror', (err) => process.stderr.write(`[tab ${index}] uncaught: ${err.message}\n`));
    page.on('console', (msg) => {
      const t = msg.type();
      if (t === 'error' || t === 'warning') process.stderr.write(`[tab ${index}] console ${t}: ${msg.text()}\n`);
    });
    page.on('crash', () => {
      tab.errors.push('the tab crashed');
      process.stderr.write(`[tab ${index}] crashed\n`);
    });
    for (const m of ['Network.requestWillBeSent', 'Network.dataReceived', 'Network.loadingFinished', 'Network.webSocketFrameReceived']) {
      cdp.on(/** @type {any} */ (m), (/** @type {any} */ e) => countNetwork(tab, '', m, e));
    }
    // The tab's browser context, to know its wasm peer's worker when it
    // starts (workerNetwork).
    const { targetInfo } = await cdp.send('Target.getTargetInfo');
    if (targetInfo.browserContextId) tabByContext.set(targetInfo.browserContextId, tab);
    await cdp.send('Network.enable');
    await cdp.send('Performance.enable');
    tab.openedAt = Date.now();
    try {
      await page.goto(opts.url, { waitUntil: 'commit', timeout: GOTO_TIMEOUT_MS });
    } catch (err) {
      tab.errors.push(`opening ${opts.url}: ${err instanceof Error ? err.message : err}`);
    }
  };

  /** @param {Tab} tab */
  const close = async (tab) => {
    await drain(tab);
    await perf(tab);
    tab.closedAt = Date.now();
    await tab.context?.close().catch(() => {});
    tab.page = null;
    tab.cdp = null;
    tab.context = null;
  };

  const elapsed = () => (Date.now() - t0) / 1000;
  /** @type {Promise<void>[]} */
  const opening = [];
  for (let i = 0; i < opts.tabs && !interrupted; i++) {
    if (i > 0) await sleep(opts.staggerMs);
    opening.push(open(i));
  }
  await Promise.all(opening);

  let nextChurn = opts.churnEvery > 0 ? opts.churnEvery : Infinity;
  let lastPerf = 0;
  while (elapsed() < opts.duration && !interrupted) {
    await sleep(Math.min(DRAIN_MS, Math.max(0, (opts.duration - elapsed()) * 1000)));
    const live = tabs.filter((t) => t.page);
    await Promise.all(live.map(drain));
    if (Date.now() - lastPerf >= PERF_MS) {
      lastPerf = Date.now();
      if (live.some((t) => !t.pid)) await listRenderers();
      for (const t of live) await perf(t); // one at a time: ProcessTime is matched against /proc right after

    }
    if (elapsed() >= nextChurn && elapsed() < opts.duration - 1) {
      nextChurn += opts.churnEvery;
      const oldest = live[0];
      if (oldest) {
        process.stderr.write(`[tab ${oldest.index}] replaced at ${elapsed().toFixed(1)} s by tab ${tabs.length}\n`);
        await close(oldest);
        await open(tabs.length);
      }
    }
  }
  const procEnd = await processInfo();
  await Promise.all(tabs.filter((t) => t.page).map(close));
  await browser.close().catch(() => {});

  const out = {
    interrupted,
    startedAt: t0,
    endedAt: Date.now(),
    processes: { start: procStart, end: procEnd },
    serverPorts: serverPorts.size,
    tabs: tabs.map((t) => {
      /** @type {Record<string, number>} */
      const net = { ...t.wsBytes };
      for (const r of t.requests.values()) {
        const n = Math.max(r.data, r.total);
        net[r.kind] = (net[r.kind] ?? 0) + n;
        // Where a tab's video over HTTP goes: the worker's share (the
        // engine's fetches) and what was asked for in the tab's first 30 s
        // (the start: feed, join backlog, the fetches while channels open).
        if (r.kind !== 'video') continue;
        if (r.worker) net['video:worker'] = (net['video:worker'] ?? 0) + n;
        if (r.at - t.openedAt < 30_000) net['video:first30s'] = (net['video:first30s'] ?? 0) + n;
      }
      return {
        index: t.index,
        openedAt: t.openedAt,
        closedAt: t.closedAt,
        firstFrameAt: t.firstFrameAt,
        presented: t.presented,
        skewMs: t.skew,
        frames: t.frames,
        events: t.events,
        errors: t.errors,
        pcs: [...t.pcs.values()],
        net,
        requests: t.requests.size,
        pid: t.pid,
        perf: t.perf,
      };
    }),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`tabs.mjs: ${err instanceof Error ? err.stack : err}\n`);
  process.exitCode = 1;
});
