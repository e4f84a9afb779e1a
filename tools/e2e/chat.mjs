// @ts-check
/**
 * Browser harness for the chat, moderation and embed end-to-end test
 * (chat_test.go). It drives headless Chromium through one phase and prints
 * ONE JSON object on stdout with what it saw; the Go test judges.
 *
 * Phases:
 *   --phase chat   two viewer tabs and the broadcaster's tab (session cookie
 *                  --token) on /watch/<stream>: chat both ways, an HTML
 *                  message, the broadcaster deletes a message, a burst hits
 *                  the rate limit; screenshots of the viewer page.
 *   --phase embed  the host page --host (another origin) framing the embed:
 *                  collects the postMessage events, sends pause and play;
 *                  screenshots of the host page and the bare embed.
 *   --phase after  after a server restart: the chat history of /watch/<stream>.
 *
 * Usage:
 *   node chat.mjs --phase chat --base http://127.0.0.1:8080 --stream show --token T --shots DIR
 *   node chat.mjs --phase embed --base … --host http://127.0.0.1:9090/host.html --embed-stream demo --shots DIR
 *   node chat.mjs --phase studio --base … --stream show --token SESSION [--shots DIR]
 *   node chat.mjs --phase after --base … --stream show
 *
 * Environment: CHROMIUM overrides the browser binary (default /usr/bin/chromium).
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const STEP_MS = 15_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const { values: opt } = parseArgs({
  options: {
    phase: { type: 'string' },
    base: { type: 'string' },
    stream: { type: 'string', default: 'show' },
    token: { type: 'string', default: '' },
    host: { type: 'string', default: '' },
    'embed-stream': { type: 'string', default: 'demo' },
    shots: { type: 'string', default: '' },
  },
  strict: true,
});
if (!opt.phase || !opt.base) {
  process.stderr.write('usage: node chat.mjs --phase chat|studio|embed|after --base URL [...]\n');
  process.exit(2);
}

/** @type {Record<string, any>} */
const out = { phase: opt.phase, dialogs: [], errors: [], steps: {} };
const log = (/** @type {string} */ s) => process.stderr.write(`chat.mjs: ${s}\n`);

const watchdog = setTimeout(() => {
  log('watchdog expired');
  process.stdout.write(JSON.stringify({ ...out, harnessError: 'watchdog expired' }) + '\n');
  process.exit(3);
}, 180_000);
watchdog.unref();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    // As in browser.mjs: with it Chromium gives raw host candidates instead of
    // mDNS names, which nothing resolves in a loopback-only namespace.
    '--use-fake-ui-for-media-stream'],
});

/**
 * A fresh browser context (no shared storage) with one page.
 * @param {string} name
 * @param {{viewport?: {width: number, height: number}, cookie?: string}} [o]
 */
async function tab(name, o = {}) {
  const context = await browser.newContext({ viewport: o.viewport ?? DESKTOP, deviceScaleFactor: 1 });
  if (o.cookie) {
    const u = new URL(opt.base ?? '');
    await context.addCookies([{ name: 'shoal_session', value: o.cookie, domain: u.hostname, path: '/', httpOnly: true, sameSite: 'Lax' }]);
  }
  const page = await context.newPage();
  page.on('dialog', async (d) => {
    out.dialogs.push({ tab: name, type: d.type(), message: d.message() });
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => out.errors.push(`${name}: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') log(`[${name}] console error: ${m.text()}`);
  });
  return page;
}

/**
 * Run one step; a failure is recorded, not thrown, so later steps still report.
 * @param {string} name
 * @param {() => Promise<any>} fn
 */
async function step(name, fn) {
  try {
    out.steps[name] = (await fn()) ?? true;
  } catch (err) {
    out.steps[name] = { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
    log(`${name}: ${out.steps[name].error}`);
  }
}

/** @param {import('playwright-core').Page} page */
const texts = (page) => page.$$eval('.chat-list .chat-msg', (lis) => lis.map((li) => ({
  nick: li.querySelector('.chat-who')?.textContent ?? '',
  text: li.querySelector('.chat-text')?.textContent ?? '',
  html: li.querySelector('.chat-text')?.innerHTML ?? '',
  owner: !!li.querySelector('.chat-owner'),
})));

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 * @param {boolean} present
 * @param {number} [timeout]
 */
const waitText = (page, text, present = true, timeout = STEP_MS) => page.waitForFunction(([t, p]) => {
  const all = [...document.querySelectorAll('.chat-list .chat-text')].map((e) => e.textContent);
  return all.includes(t) === p;
}, [text, present], { timeout });

/**
 * @param {import('playwright-core').Page} page
 * @param {string} nick
 * @param {string} text
 */
async function say(page, nick, text) {
  const n = page.locator('.chat-nick');
  if ((await n.inputValue()) !== nick) await n.fill(nick);
  await page.fill('.chat-input', text);
  await page.press('.chat-input', 'Enter');
}

/** @param {string} name */
const shot = (name) => (opt.shots ? `${opt.shots}/${name}.png` : '');

/** @param {import('playwright-core').Page} page @param {string} name */
async function screenshot(page, name) {
  if (!opt.shots) return;
  await page.screenshot({ path: shot(name) });
  (out.screenshots ??= []).push(shot(name));
}

try {
  const watch = `${opt.base}/watch/${opt.stream}`;
  if (opt.phase === 'chat') {
    const a = await tab('alice');
    const b = await tab('bob');
    const m = await tab('owner', { cookie: opt.token });
    await Promise.all([a, b, m].map((p) => p.goto(watch, { waitUntil: 'domcontentloaded' })));
    await step('joined', async () => {
      try {
        // Page scripts start slowly on a loaded machine: allow more than a step.
        await Promise.all([a, b, m].map((p) => p.waitForSelector('.chat[data-state="open"]', { timeout: 3 * STEP_MS })));
      } catch (err) {
        const states = await Promise.all([a, b, m].map((p) => p.getAttribute('.chat', 'data-state').catch(() => 'no panel')));
        throw new Error(`chat panels not open (${states.join(', ')}): ${err instanceof Error ? err.message : err}`);
      }
      return true;
    });
    // Test hooks only for tests that ask (frontend/lib/page.js): these tabs did not.
    await step('no test hooks', () => a.evaluate(() => ['__shoal', '__shoalEmbed', '__studio'].filter((k) => k in window)));
    await step('moderator', async () => ({
      owner: await m.getAttribute('.chat', 'data-moderator'),
      viewer: await a.getAttribute('.chat', 'data-moderator'),
    }));

    await step('both see both', async () => {
      await say(a, 'alice', 'hello from alice');
      await say(b, 'bob', 'hi from bob');
      for (const p of [a, b]) {
        await waitText(p, 'hello from alice');
        await waitText(p, 'hi from bob');
      }
      return { alice: await texts(a), bob: await texts(b) };
    });

    const evil = '<img src=x onerror=alert(1)>';
    await step('html as text', async () => {
      await say(a, 'alice', evil);
      await waitText(b, evil);
      await b.waitForTimeout(1000); // give an injected onerror time to fire
      return {
        bob: (await texts(b)).filter((x) => x.text === evil),
        imgsInChat: await b.$$eval('.chat img', (e) => e.length),
      };
    });

    await step('owner says hi', async () => {
      await say(m, 'host', 'welcome to the show');
      await waitText(a, 'welcome to the show');
      return (await texts(a)).filter((x) => x.text === 'welcome to the show');
    });

    await step('delete', async () => {
      const li = m.locator('.chat-msg', { hasText: 'hi from bob' });
      await li.hover();
      await li.locator('.chat-delete').click({ timeout: STEP_MS });
      await Promise.all([a, b, m].map((p) => waitText(p, 'hi from bob', false)));
      return { alice: (await texts(a)).map((x) => x.text), bob: (await texts(b)).map((x) => x.text) };
    });

    await step('viewer has no moderation', async () => a.$$eval('.chat-mod', (e) => e.length));

    await step('rate limit', async () => {
      // Eight messages at once, as a script would send them (typing them
      // one by one on a loaded machine can stay under 1 a second).
      await b.evaluate(() => {
        const form = /** @type {HTMLFormElement} */ (document.querySelector('.chat-form'));
        const input = /** @type {HTMLInputElement} */ (document.querySelector('.chat-input'));
        /** @type {HTMLInputElement} */ (document.querySelector('.chat-nick')).value = 'bob';
        for (let i = 0; i < 8; i++) {
          input.value = `burst ${i}`;
          form.requestSubmit();
        }
      });
      await b.waitForSelector('.chat-notice:not([hidden])', { timeout: STEP_MS });
      return b.textContent('.chat-notice');
    });

    await step('too long', async () => {
      await b.waitForTimeout(1200);
      // The input stops at 500 characters; what it keeps goes through.
      await b.fill('.chat-input', 'x'.repeat(600));
      return (await b.inputValue('.chat-input')).length;
    });

    await step('viewer count', async () => {
      await a.waitForFunction(() => /watching/.test(document.getElementById('viewer-count')?.textContent ?? ''), null, { timeout: STEP_MS });
      return { viewers: await a.textContent('#viewer-count'), chat: await a.textContent('.chat-count') };
    });

    await step('stats overlay', async () => {
      await a.click('#c-stats');
      await a.waitForSelector('#overlay:not([hidden])', { timeout: STEP_MS });
      await a.waitForTimeout(1500);
      return a.$$eval('#overlay dd', (dd) => dd.map((d) => d.textContent));
    });
    await step('screenshots', async () => {
      await a.fill('.chat-input', '');
      await screenshot(a, 'viewer-desktop');
      await screenshot(m, 'viewer-owner-desktop');
      const phone = await tab('phone', { viewport: PHONE });
      await phone.goto(watch);
      await phone.waitForSelector('.chat[data-state="open"]', { timeout: 3 * STEP_MS });
      await phone.waitForTimeout(4000);
      await screenshot(phone, 'viewer-phone');
      await phone.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await screenshot(phone, 'viewer-phone-scrolled');
      return true;
    });

    // Bans cover the address: every tab here is 127.0.0.1, so banning bob
    // refuses alice too, whatever nickname she takes.
    await step('ban by address', async () => {
      await b.waitForTimeout(1200); // a fresh rate-limit token
      await say(b, 'bob', 'buy followers now');
      await waitText(m, 'buy followers now');
      const li = m.locator('.chat-msg', { hasText: 'buy followers now' });
      await li.hover();
      await li.locator('.chat-ban').click({ timeout: STEP_MS });
      await m.waitForTimeout(1000);
      await say(a, 'someone-new', 'am I still here?');
      await a.waitForFunction(() => /banned/.test(document.querySelector('.chat-notice')?.textContent ?? ''), null, { timeout: STEP_MS });
      return a.textContent('.chat-notice');
    });
  } else if (opt.phase === 'studio') {
    // After the chat phase banned bob: a fresh viewer from the same
    // address is still refused until the owner lifts the ban in the
    // studio; then the studio's account card.
    const v = await tab('viewer-again');
    await v.goto(watch, { waitUntil: 'domcontentloaded' });
    await step('still banned', async () => {
      await v.waitForSelector('.chat[data-state="open"]', { timeout: 3 * STEP_MS });
      await say(v, 'another-name', 'let me in');
      await v.waitForFunction(() => /banned/.test(document.querySelector('.chat-notice')?.textContent ?? ''), null, { timeout: STEP_MS });
      return v.textContent('.chat-notice');
    });
    await step('studio lifts the ban', async () => {
      const s = await tab('studio', { cookie: opt.token });
      await s.goto(`${opt.base}/studio#${opt.stream}`, { waitUntil: 'domcontentloaded' });
      await s.waitForSelector('#ban-list .ban', { timeout: 3 * STEP_MS });
      const listed = await s.$$eval('#ban-list .ban', (lis) => lis.map((li) => li.textContent ?? ''));
      await screenshot(s, 'studio-bans');
      await s.locator('#ban-list .ban button').first().click({ timeout: STEP_MS });
      await s.waitForSelector('#ban-list .ban', { state: 'detached', timeout: STEP_MS });
      await v.waitForTimeout(1200);
      await say(v, 'someone-new', 'back again');
      await waitText(v, 'back again');
      // Every tab here is one address: close what is done with, so the
      // server's connections per address stay for the tabs still open.
      await s.context().close();
      return { listed };
    });
    await step('studio account', async () => {
      const s = await tab('account', { cookie: opt.token });
      // "Sign out everywhere" asks first: say yes (a dialog the harness
      // would dismiss, and count as a failure).
      await s.addInitScript(() => { window.confirm = () => true; });
      await s.goto(`${opt.base}/studio`, { waitUntil: 'domcontentloaded' });
      await s.waitForSelector('#password-form', { timeout: 3 * STEP_MS });
      await s.fill('#pw-current', 'correct horse battery');
      await s.fill('#pw-new', 'a better passphrase');
      await s.fill('#pw-again', 'a better passphrase');
      // The page reloads itself after a change, to use its new session.
      const reloaded = s.waitForEvent('load', { timeout: 3 * STEP_MS });
      await s.click('#password-form button[type="submit"]');
      await s.waitForFunction(() => /Password changed/.test(document.getElementById('account-status')?.textContent ?? ''), null, { timeout: STEP_MS });
      const status = await s.textContent('#account-status');
      await reloaded;
      await s.waitForFunction(() => document.getElementById('who')?.textContent === 'host', null, { timeout: 3 * STEP_MS });
      // The other sessions ended: the one the chat tab and the first studio
      // tab used sends the browser to the sign-in page now.
      const old = await tab('old-session', { cookie: opt.token });
      await old.goto(`${opt.base}/studio`, { waitUntil: 'domcontentloaded' });
      const oldURL = new URL(old.url()).pathname;
      await old.context().close();
      await s.click('#sign-out-everywhere');
      await s.waitForURL(/\/login/, { timeout: STEP_MS });
      await s.goto(`${opt.base}/studio`, { waitUntil: 'domcontentloaded' });
      const afterSignOut = new URL(s.url()).pathname;
      await s.context().close();
      return { status, oldURL, afterSignOut };
    });
  } else if (opt.phase === 'embed') {
    const host = await tab('host');
    await host.goto(opt.host);
    /** @param {string} type */
    const event = (type) => host.waitForFunction((t) => (/** @type {any} */ (window)).events?.some((/** @type {any} */ e) => e.type === t), type, { timeout: 30_000 });
    await step('ready', () => event('ready').then(() => true));
    await step('playing', () => event('playing').then(() => true));
    await step('stats', async () => {
      await event('stats');
      await host.waitForTimeout(4500);
      return host.evaluate(() => (/** @type {any} */ (window)).events.filter((/** @type {any} */ e) => e.type === 'stats').at(-1));
    });
    await step('no test hook in the embed', async () => {
      const frame = host.frames().find((f) => new URL(f.url()).pathname.startsWith('/embed/'));
      if (!frame) throw new Error('no embed frame');
      return frame.evaluate(() => ['__shoal', '__shoalEmbed', '__studio'].filter((k) => k in window));
    });
    await step('pause command', async () => {
      await host.click('#pause');
      await event('paused');
      return true;
    });
    await step('play command', async () => {
      const before = await host.evaluate(() => (/** @type {any} */ (window)).events.filter((/** @type {any} */ e) => e.type === 'playing').length);
      await host.click('#play');
      await host.waitForFunction((n) => (/** @type {any} */ (window)).events.filter((/** @type {any} */ e) => e.type === 'playing').length > n, before, { timeout: STEP_MS });
      return true;
    });
    await step('origins', () => host.evaluate(() => ({
      host: location.origin,
      senders: [...new Set((/** @type {any} */ (window)).events.map((/** @type {any} */ e) => e.origin))],
    })));
    await step('screenshots', async () => {
      await screenshot(host, 'embed-host-desktop');
      const phoneHost = await tab('phone-host', { viewport: PHONE });
      await phoneHost.goto(opt.host);
      await phoneHost.waitForTimeout(6000);
      await screenshot(phoneHost, 'embed-host-phone');
      const bare = `${opt.base}/embed/${opt['embed-stream']}?chat=on`;
      const d = await tab('embed-desktop');
      await d.goto(bare);
      const p = await tab('embed-phone', { viewport: PHONE });
      await p.goto(`${bare}&theme=light`);
      await d.waitForTimeout(6000);
      await screenshot(d, 'embed-chat-desktop');
      await screenshot(p, 'embed-chat-light-phone');
      return true;
    });
    out.events = await host.evaluate(() => (/** @type {any} */ (window)).events.map((/** @type {any} */ e) => e.type));
  } else if (opt.phase === 'after') {
    const a = await tab('after');
    await a.goto(watch);
    await step('history', async () => {
      await waitText(a, 'hello from alice', true, 3 * STEP_MS);
      return (await texts(a)).map((x) => x.text);
    });
  }
} catch (err) {
  out.harnessError = err instanceof Error ? err.message : String(err);
} finally {
  await browser.close().catch(() => {});
}
process.stdout.write(JSON.stringify(out) + '\n');
