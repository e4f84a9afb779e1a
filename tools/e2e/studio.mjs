// @ts-check
/**
 * Browser harness for the studio end-to-end test (studio_test.go).
 *
 * Drives one headless Chromium through the broadcaster's pages as a person
 * would, with real clicks and typing, and prints ONE JSON object on stdout
 * with what it saw. It judges little: the Go test does.
 *
 *   --mode setup  --base URL --user U --password P --stream NAME --state FILE [--shots DIR]
 *       Tries a wrong password (reports the error shown), signs in, creates
 *       the stream with the "New stream" form, presses "Show" and reads the
 *       key. Saves the cookies to FILE. Prints {wrongPasswordError, key}.
 *       With --shots, the sign-in page with its error at both widths
 *       (DIR/signin-error-desktop.png, -phone.png).
 *
 *   --mode live   --base URL --stream NAME --state FILE [--shots DIR] [--tag T]
 *       With the saved cookies (no new sign-in), opens /studio#NAME, waits
 *       up to 90 s for the live status and the preview to play, reads the
 *       key with "Show", takes screenshots (DIR/studio-T-desktop.png at
 *       1280x800 and DIR/studio-T-phone.png at 390x844), then opens
 *       /watch/NAME, waits up to 90 s for its video to start and samples its
 *       currentTime for 6 s. Prints
 *       {signedIn, listed, key, status, preview, watch: {times, error}}.
 *
 *   --mode browser --base URL --stream NAME --state FILE [--shots DIR]
 *       With the saved cookies, opens /studio#NAME and uses "Go live from
 *       the browser" with Chromium's fake camera and microphone: waits up
 *       to 60 s for the status to show a WHIP ingest with a keyframe
 *       interval of at least 1.5 s (the server asks the browser for a
 *       keyframe every 2 s), then presses "End
 *       stream" and waits for it to disconnect. Prints {browserLive,
 *       status, ended}.
 *
 * --end (mode live): after the viewer check, press "End stream" and wait
 * for the ingest to disconnect; reports {ended}.
 *
 * Environment: CHROMIUM overrides the browser binary (default /usr/bin/chromium).
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    mode: { type: 'string' },
    base: { type: 'string' },
    user: { type: 'string', default: '' },
    password: { type: 'string', default: '' },
    stream: { type: 'string' },
    state: { type: 'string' },
    shots: { type: 'string', default: '' },
    tag: { type: 'string', default: 'live' },
    end: { type: 'boolean', default: false },
  },
  strict: true,
});
if (!opts.mode || !opts.base || !opts.stream || !opts.state) {
  process.stderr.write('usage: node studio.mjs --mode setup|live --base URL --stream NAME --state FILE …\n');
  process.exit(2);
}

/** How long the preview and the viewer may take to start playing (the swarm's first frame can be slow on a loaded machine). */
const PLAY_WAIT_MS = 90_000;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const watchdog = setTimeout(() => {
  process.stderr.write('studio.mjs: watchdog expired\n');
  process.exit(3);
}, 330_000);
watchdog.unref();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    // "Go live from the browser": a fake camera and microphone, no permission prompt.
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  ],
});

/**
 * A browser context whose pages publish their test hooks (window.__studio,
 * window.__shoal: frontend/lib/page.js installs them only when asked).
 * @param {import('playwright-core').BrowserContextOptions} options
 */
async function newContext(options) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => { /** @type {any} */ (window).__shoalTest = true; });
  return context;
}

/** @type {Record<string, any>} */
const out = {};
try {
  if (opts.mode === 'setup') await setup();
  else if (opts.mode === 'live') await live();
  else if (opts.mode === 'browser') await browserLive();
  else throw new Error(`unknown --mode ${opts.mode}`);
} catch (err) {
  out.error = err instanceof Error ? `${err.message}` : String(err);
} finally {
  await browser.close().catch(() => {});
}
process.stdout.write(`${JSON.stringify(out)}\n`);

async function setup() {
  const context = await newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  page.on('console', (m) => { if (m.type() === 'error') process.stderr.write(`console: ${m.text()}\n`); });

  // Opening the studio without a session lands on the sign-in page.
  await page.goto(`${opts.base}/studio`);
  out.redirectedTo = new URL(page.url()).pathname;

  await page.fill('#username', String(opts.user));
  await page.fill('#password', 'not-the-password');
  await page.click('#login-submit');
  out.wrongPasswordError = (await page.locator('#login-error').textContent({ timeout: 5000 }))?.trim() ?? null;
  if (opts.shots) {
    await page.screenshot({ path: `${opts.shots}/signin-error-desktop.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${opts.shots}/signin-error-phone.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  await page.fill('#username', String(opts.user));
  await page.fill('#password', String(opts.password));
  await Promise.all([page.waitForURL('**/studio**', { timeout: 10_000 }), page.click('#login-submit')]);
  await page.waitForFunction(() => /** @type {any} */ (window).__studio !== undefined);

  // The first stream: the form is open when there is none.
  await page.waitForSelector('#new-stream:not([hidden])', { timeout: 5000 });
  await page.fill('#new-name', String(opts.stream));
  await page.fill('#new-title', 'E2E studio test');
  await page.fill('#new-description', 'Pushed by ffmpeg from the end-to-end test.');
  await page.click('#new-submit');
  await page.waitForFunction((name) => /** @type {any} */ (window).__studio.selected === name, opts.stream, { timeout: 5000 });
  out.hiddenKey = await page.inputValue('#stream-key');
  await page.click('#key-show');
  await page.waitForFunction(() => /** @type {any} */ (window).__studio.keyRevealed, null, { timeout: 5000 });
  out.key = await page.inputValue('#stream-key');
  out.rtmpServer = await page.inputValue('#rtmp-url');
  out.whipUrl = await page.inputValue('#whip-url');
  await context.storageState({ path: String(opts.state) });
  await context.close();
}

async function live() {
  const context = await newContext({ viewport: { width: 1280, height: 800 }, storageState: String(opts.state) });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  page.on('console', (m) => { if (m.type() === 'error') process.stderr.write(`console: ${m.text()}\n`); });
  await page.goto(`${opts.base}/studio#${encodeURIComponent(String(opts.stream))}`);
  out.signedIn = new URL(page.url()).pathname === '/studio';
  if (!out.signedIn) throw new Error(`not signed in: landed on ${page.url()}`);
  await page.waitForFunction(() => /** @type {any} */ (window).__studio?.selected, null, { timeout: 10_000 });
  out.listed = await page.locator(`#stream-list a[data-stream="${opts.stream}"]`).count() === 1;

  // Live status and preview.
  const deadline = Date.now() + PLAY_WAIT_MS;
  /** @type {any} */
  let hook = null;
  let firstPreviewTime = null;
  while (Date.now() < deadline) {
    hook = await page.evaluate(() => JSON.parse(JSON.stringify(/** @type {any} */ (window).__studio)));
    const st = hook.status;
    const t = hook.preview?.currentTime ?? 0;
    if (st?.live && st.ingest?.connected && st.bitrateKbps > 0 && t > 0) {
      if (firstPreviewTime === null) firstPreviewTime = t;
      // The preview counts as a viewer once its wasm peer has joined the
      // swarm, which it does after its first frame (lib/start.js).
      else if (t > firstPreviewTime + 1.5 && st.keyframeIntervalSec > 0 && st.viewers >= 1) break;
    }
    await sleep(500);
  }
  out.status = hook?.status ?? null;
  out.preview = hook?.preview ?? null;
  out.previewNote = await page.textContent('#preview-note');
  out.previewAdvanced = firstPreviewTime !== null && (hook?.preview?.currentTime ?? 0) > firstPreviewTime + 1.5;
  out.shownStatus = {
    pill: await page.textContent('#live-pill'),
    ingest: await page.textContent('#st-ingest'),
    codec: await page.textContent('#st-codec'),
    resolution: await page.textContent('#st-resolution'),
    bitrate: await page.textContent('#st-bitrate'),
    keyframe: await page.textContent('#st-keyframe'),
    viewers: await page.textContent('#st-viewers'),
    latency: await page.textContent('#st-latency'),
    uptime: await page.textContent('#st-uptime'),
    endEnabled: await page.isEnabled('#end-stream'),
  };

  await page.click('#key-show');
  await page.waitForFunction(() => /** @type {any} */ (window).__studio.keyRevealed, null, { timeout: 5000 });
  out.key = await page.inputValue('#stream-key');
  if (opts.shots) {
    await page.click('#key-show'); // hide it again for the pictures
    await page.evaluate(() => window.scrollTo(0, 0)); // a sticky bar in a full-page shot is drawn where it was scrolled to
    await page.screenshot({ path: `${opts.shots}/studio-${opts.tag}-desktop.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(500);
    await page.screenshot({ path: `${opts.shots}/studio-${opts.tag}-phone.png`, fullPage: true });
    await page.screenshot({ path: `${opts.shots}/studio-${opts.tag}-phone-top.png` });
  }

  // A viewer: another browser context (no cookies), the public page.
  const viewerCtx = await newContext({ viewport: { width: 1280, height: 800 } });
  const viewer = await viewerCtx.newPage();
  await viewer.goto(`${opts.base}/watch/${encodeURIComponent(String(opts.stream))}`);
  /** @type {number[]} */
  const times = [];
  const currentTime = () => viewer.evaluate(() => document.querySelector('video')?.currentTime ?? 0);
  const until = Date.now() + PLAY_WAIT_MS;
  while (Date.now() < until && (await currentTime()) === 0) await sleep(500);
  out.watchStartMs = PLAY_WAIT_MS - (until - Date.now());
  for (let i = 0; i < 12; i++) {
    times.push(await currentTime());
    await sleep(500);
  }
  const viewerHook = await viewer.evaluate(() => {
    const h = /** @type {any} */ (window).__shoal;
    return h ? { error: h.error, stats: h.stats, player: h.player, firstChunkAt: h.firstChunkAt, joinedAt: h.joinedAt } : null;
  });
  const viewerNote = await viewer.textContent('#player-note').catch(() => null);
  await viewerCtx.close().catch(() => {});
  if (opts.end) out.ended = await endStream(page);
  out.watch = { times, hook: viewerHook, note: viewerNote };
  await context.close();
}

/**
 * Presses "End stream" and waits up to 15 s for the ingest to disconnect.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{disconnected: boolean, note: string | null}>}
 */
async function endStream(page) {
  if (!(await page.isEnabled('#end-stream'))) return { disconnected: false, note: 'End stream was disabled: nothing connected' };
  await page.click('#end-stream');
  const disconnected = await page.waitForFunction(
    () => /** @type {any} */ (window).__studio.status?.ingest?.connected === false, null, { timeout: 15_000 },
  ).then(() => true, () => false);
  return { disconnected, note: await page.textContent('#end-note') };
}

async function browserLive() {
  const context = await newContext({ viewport: { width: 1280, height: 800 }, storageState: String(opts.state) });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  page.on('console', (m) => { if (m.type() === 'error') process.stderr.write(`console: ${m.text()}\n`); });
  await page.goto(`${opts.base}/studio#${encodeURIComponent(String(opts.stream))}`);
  await page.waitForFunction(() => /** @type {any} */ (window).__studio?.selected, null, { timeout: 10_000 });
  await page.selectOption('#bl-source', 'camera');
  await page.click('#bl-start');
  const deadline = Date.now() + 60_000;
  /** @type {any} */
  let hook = null;
  while (Date.now() < deadline) {
    hook = await page.evaluate(() => JSON.parse(JSON.stringify(/** @type {any} */ (window).__studio)));
    if (hook.browserLive.startsWith('error')) break;
    // Live over WHIP, and the keyframe interval settled past the start-up burst.
    if (hook.status?.ingest?.protocol === 'whip' && hook.status.live && hook.status.bitrateKbps > 0 &&
      hook.status.keyframeIntervalSec >= 1.5 && hook.preview?.state === 'playing' && hook.preview.currentTime > 3) break;
    await sleep(500);
  }
  out.browserLive = hook?.browserLive ?? null;
  out.preview = hook?.preview ?? null;
  out.previewNote = await page.textContent('#preview-note');
  out.status = hook?.status ?? null;
  out.browserState = await page.textContent('#bl-state');
  if (opts.shots) {
    await page.locator('#browser-title').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${opts.shots}/studio-browser-live.png` });
  }
  out.ended = await endStream(page);
  out.browserLiveAfterEnd = await page.evaluate(() => /** @type {any} */ (window).__studio.browserLive);
  await context.close();
}
