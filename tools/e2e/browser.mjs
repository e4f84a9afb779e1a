// @ts-check
/**
 * Browser harness for Shoal's end-to-end test.
 *
 * Opens N viewer tabs (one browser context each, so no shared storage) in
 * Debian's Chromium, samples each tab's `window.__shoal` test hook once a
 * second, optionally closes the last tab part-way through, and finally prints
 * ONE JSON object on stdout:
 *
 *   {"tabs":[{"index":0,"closedAt":null,"firstChunkMs":812,
 *             "chunks":{"120":"origin","121":"peer"},"stats":{...},"error":null}]}
 *
 * It judges nothing: the Go test (e2e_test.go) does. It exits non-zero only
 * when the harness itself fails (bad flags, the browser does not launch).
 * While it runs, it writes "[tab N] first chunk" on stderr when a tab's
 * hook first reports a chunk, for a test that waits for the tabs to take
 * part in the swarm.
 *
 * Usage:
 *   node browser.mjs --url http://127.0.0.1:8080/watch/demo \
 *     [--tabs 4] [--duration 30] [--close-tab-at 0] [--controls-at 0] [--screenshot out.png]
 *
 * --controls-at S: at S seconds, use tab 0's player controls as a person
 * would (real clicks): pause, play, unmute, set the volume, read the LIVE
 * badge; what the video element did is reported as "controls".
 *
 * Environment: CHROMIUM overrides the browser binary (default /usr/bin/chromium).
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const STAGGER_MS = 300;
const SAMPLE_MS = 500;
const EVAL_TIMEOUT_MS = 3000;
const GOTO_TIMEOUT_MS = 15_000;
/** Beyond duration, how long the harness may take before giving up on itself. */
const WATCHDOG_SLACK_MS = 90_000;

const USAGE = 'usage: node browser.mjs --url URL [--tabs N] [--duration S] [--close-tab-at S] [--controls-at S] [--screenshot PATH]';

/**
 * @typedef {object} Hook  a copy of the page's window.__shoal
 * @property {number} pageStart
 * @property {number | null} firstChunkAt
 * @property {Record<string, string>} chunks
 * @property {object | null} stats
 * @property {string | null} error
 */

/**
 * @typedef {object} Tab
 * @property {number} index
 * @property {import('playwright-core').BrowserContext | null} context
 * @property {import('playwright-core').Page | null} page
 * @property {number | null} closedAt  seconds since the first tab opened
 * @property {Hook | null} hook        latest sample
 * @property {string | null} harnessError  what went wrong driving the tab (navigation, crash)
 * @property {{t: number, player: object | null, video: object | null}[]} timeline  player samples, t in seconds since t0
 * @property {number} t0                 Date.now() when the first tab opened
 * @property {object | null} controls    what --controls-at saw, tab 0 only
 */

/** @returns {{url: string, tabs: number, duration: number, closeTabAt: number, controlsAt: number, screenshot: string}} */
function flags() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        tabs: { type: 'string', default: '4' },
        duration: { type: 'string', default: '30' },
        'close-tab-at': { type: 'string', default: '0' },
        'controls-at': { type: 'string', default: '0' },
        screenshot: { type: 'string', default: '' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  if (!values.url) usage('--url is required');
  /** @param {string} name @param {string} v @param {number} min */
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) usage(`--${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const out = {
    url: String(values.url),
    tabs: Math.floor(num('tabs', String(values.tabs), 1)),
    duration: num('duration', String(values.duration), 1),
    closeTabAt: num('close-tab-at', String(values['close-tab-at']), 0),
    controlsAt: num('controls-at', String(values['controls-at']), 0),
    screenshot: String(values.screenshot ?? ''),
  };
  if (out.closeTabAt >= out.duration) usage('--close-tab-at must be before --duration ends');
  return out;
}

/**
 * @param {string} why
 * @returns {never}
 */
function usage(why) {
  process.stderr.write(`browser.mjs: ${why}\n${USAGE}\n`);
  process.exit(2);
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reject after ms so a wedged page cannot hang the harness.
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
 * Copy window.__shoal out of a tab; null before the page has set it.
 * @param {Tab} tab
 */
async function sample(tab) {
  if (!tab.page || tab.page.isClosed()) return;
  try {
    const hook = await within(
      tab.page.evaluate(() => {
        const h = /** @type {any} */ (window).__shoal;
        return h ? JSON.parse(JSON.stringify(h)) : null;
      }),
      EVAL_TIMEOUT_MS,
      'reading window.__shoal',
    );
    if (hook) {
      if (typeof hook.firstChunkAt === 'number' && typeof tab.hook?.firstChunkAt !== 'number') {
        process.stderr.write(`[tab ${tab.index}] first chunk\n`);
      }
      tab.hook = hook;
      if (hook.player || hook.video) {
        tab.timeline.push({ t: Math.round((Date.now() - tab.t0) / 100) / 10, player: hook.player, video: hook.video, joined: hook.joinedAt != null });
      }
    }
  } catch (err) {
    // A sample can fail while the page navigates; keep the last good one.
    process.stderr.write(`[tab ${tab.index}] sample failed: ${err instanceof Error ? err.message : err}\n`);
  }
}

/**
 * @param {Tab} tab
 * @returns {object} the tab's entry in the report
 */
function report(tab) {
  const h = tab.hook;
  const firstChunkMs = h && typeof h.firstChunkAt === 'number' ? h.firstChunkAt - h.pageStart : null;
  return {
    index: tab.index,
    closedAt: tab.closedAt,
    firstChunkMs,
    firstFrameMs: h?.player && typeof h.player.firstFrameAt === 'number' ? h.player.firstFrameAt - h.pageStart : null,
    chunks: h?.chunks ?? {},
    stats: h?.stats ?? null,
    timeline: tab.timeline,
    controls: tab.controls ?? null,
    error: h?.error ?? tab.harnessError ?? (h ? null : 'window.__shoal was never set'),
    reconnects: h?.reconnects ?? 0,
  };
}

/**
 * Uses the player's controls with real clicks and reports what the video
 * element did after each.
 * @param {import('playwright-core').Page} page
 */
async function exerciseControls(page) {
  const video = () => page.evaluate(() => {
    const v = /** @type {HTMLVideoElement} */ (document.getElementById('video'));
    return { paused: v.paused, muted: v.muted, volume: v.volume, currentTime: v.currentTime };
  });
  const out = {};
  await page.hover('#player');
  await page.click('#c-play', { timeout: 5000 });
  await sleep(500);
  out.afterPause = await video();
  await sleep(500);
  out.pausedStill = await video();
  await page.click('#c-play', { timeout: 5000 });
  await sleep(1000);
  out.afterPlay = await video();
  await page.click('#c-mute', { timeout: 5000 });
  await sleep(200);
  out.afterUnmute = await video();
  await page.fill('#c-volume', '0.3');
  await sleep(200);
  out.afterVolume = await video();
  out.liveBadge = await page.textContent('#c-live');
  return out;
}

async function main() {
  const opts = flags();
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

  const watchdog = setTimeout(() => {
    process.stderr.write('browser.mjs: watchdog expired; the harness is stuck\n');
    process.exit(3);
  }, opts.duration * 1000 + WATCHDOG_SLACK_MS);
  watchdog.unref();

  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      args: [
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
      ],
    });
  } catch (err) {
    process.stderr.write(`browser.mjs: could not launch ${executablePath}: ${err instanceof Error ? err.message : err}\n`);
    process.exitCode = 1;
    return;
  }

  try {
    /** @type {Tab[]} */
    const tabs = [];
    const t0 = Date.now();
    const elapsed = () => (Date.now() - t0) / 1000;

    /** @param {number} index */
    const open = async (index) => {
      /** @type {Tab} */
      const tab = { index, context: null, page: null, closedAt: null, hook: null, harnessError: null, timeline: [], t0, controls: null };
      tabs.push(tab);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      // The page publishes window.__shoal only when a test asks (frontend/lib/page.js).
      await context.addInitScript(() => { /** @type {any} */ (window).__shoalTest = true; });
      const page = await context.newPage();
      tab.context = context;
      tab.page = page;
      page.on('console', (msg) => {
        if (msg.type() === 'error') process.stderr.write(`[tab ${index}] console error: ${msg.text()}\n`);
      });
      page.on('pageerror', (err) => {
        process.stderr.write(`[tab ${index}] uncaught: ${err.message}\n`);
      });
      page.on('crash', () => {
        tab.harnessError = 'the tab crashed';
        process.stderr.write(`[tab ${index}] crashed\n`);
      });
      try {
        await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: GOTO_TIMEOUT_MS });
      } catch (err) {
        tab.harnessError = `opening ${opts.url}: ${err instanceof Error ? err.message : err}`;
        process.stderr.write(`[tab ${index}] ${tab.harnessError}\n`);
      }
    };

    /** @type {Promise<void>[]} */
    const opening = [];
    for (let i = 0; i < opts.tabs; i++) {
      if (i > 0) await sleep(STAGGER_MS);
      opening.push(open(i));
    }
    await Promise.all(opening);

    const closeIdx = opts.tabs - 1;
    let closed = opts.closeTabAt <= 0;
    let controlled = opts.controlsAt <= 0;
    while (elapsed() < opts.duration) {
      await sleep(Math.min(SAMPLE_MS, Math.max(0, (opts.duration - elapsed()) * 1000)));
      await Promise.all(tabs.map(sample));
      if (!controlled && elapsed() >= opts.controlsAt && tabs[0]?.page) {
        controlled = true;
        tabs[0].controls = await exerciseControls(tabs[0].page).catch((err) => ({ error: String(err) }));
      }
      if (!closed && elapsed() >= opts.closeTabAt) {
        closed = true;
        const tab = tabs[closeIdx];
        await sample(tab);
        tab.closedAt = Math.round(elapsed() * 10) / 10;
        await tab.context?.close().catch(() => {});
        tab.page = null;
        tab.context = null;
        process.stderr.write(`[tab ${closeIdx}] closed at ${tab.closedAt} s\n`);
      }
    }
    await Promise.all(tabs.map(sample));

    if (opts.screenshot) {
      const page = tabs[0]?.page;
      if (page && !page.isClosed()) {
        try {
          await within(page.screenshot({ path: opts.screenshot, fullPage: true }), 15_000, 'screenshot');
        } catch (err) {
          process.stderr.write(`[tab 0] screenshot failed: ${err instanceof Error ? err.message : err}\n`);
        }
      } else {
        process.stderr.write('[tab 0] not open at the end; no screenshot\n');
      }
    }

    process.stdout.write(`${JSON.stringify({ tabs: tabs.sort((a, b) => a.index - b.index).map(report) })}\n`);
  } finally {
    await browser.close().catch(() => {});
  }
}

main().catch((err) => {
  process.stderr.write(`browser.mjs: ${err instanceof Error ? err.stack : err}\n`);
  process.exitCode = 1;
});
