// @ts-check
/**
 * Studio page entry (served at /studio to a signed-in broadcaster).
 *
 * Lists the broadcaster's streams and, for the selected one (/studio#name):
 * the OBS credentials (key hidden until asked), the live status polled every
 * second (lib/studio-status.js), a muted preview played the way viewers
 * play it (lib/studio-preview.js), an "End stream" button, the embed
 * snippet and the moderated chat (lib/studio-extras.js), and a "Go live
 * from the browser" panel that publishes a camera or the screen over WHIP
 * (lib/studio-golive.js). When a test asks (lib/page.js), `window.__studio`
 * exposes the page's state.
 */
import { $, onPageLeave, testHook } from './lib/page.js';
import { studioApi as api, studioSession, streamPath } from './lib/studio-api.js';
import { renderStatus } from './lib/studio-status.js';
import { Preview } from './lib/studio-preview.js';
import { BrowserLive } from './lib/studio-golive.js';
import { mountStudioExtras } from './lib/studio-extras.js';
import { mountAccount } from './lib/studio-account.js';

const HIDDEN_KEY = '••••••••••••••••••••••••••';

/**
 * @typedef {object} StudioStream
 * @property {string} name
 * @property {string} title
 * @property {string} description
 * @property {string} watchUrl
 * @property {string} rtmpServer  "" when RTMP is off
 * @property {string} whipUrl
 * @property {string} [key]
 */

/** The page's state, published for the browser tests (tools/e2e/studio.mjs). */
const hook = testHook('__studio', {
  /** @type {import('./lib/studio-status.js').Status | null} */ status: null,
  /** @type {string | null} */ selected: null,
  keyRevealed: false,
  /** @type {import('./lib/studio-preview.js').PreviewStats | null} */ preview: null,
  /** @type {import('./lib/studio-golive.js').LiveState} */ browserLive: 'idle',
  /** @type {string | null} */ error: null,
});

/** @param {unknown} err */
function showError(err) {
  const msg = err instanceof Error ? err.message : String(err);
  hook.error = msg;
  const e = $('studio-error');
  e.textContent = msg;
  e.hidden = false;
}

function clearError() {
  $('studio-error').hidden = true;
}

/**
 * Copies text to the clipboard; falls back to selecting it where the
 * Clipboard API is unavailable (plain http on another host).
 * @param {string} text
 * @param {HTMLInputElement} input
 */
async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const type = input.type;
    const value = input.value;
    input.type = 'text';
    input.value = text;
    input.select();
    const ok = document.execCommand('copy');
    input.value = value;
    input.type = type;
    return ok;
  }
}

/** The studio page. */
class Studio {
  /** @type {StudioStream[]} */
  #streams = [];
  /** @type {StudioStream | null} */
  #current = null;
  /** @type {{close: () => void} | null} */
  #extras = null;
  /** @type {string | null} the selected stream's key, once fetched */
  #key = null;
  /** @type {Preview | null} */
  #preview = null;
  #browser = new BrowserLive(() => this.#fetchKey(), (state) => { hook.browserLive = state; });
  #polling = false;

  async init() {
    const me = await studioSession();
    $('who').textContent = me.username;
    $('logout').addEventListener('click', () => this.#logout());
    mountAccount($('account'));
    $('new-stream-toggle').addEventListener('click', () => this.#toggle('new-stream-toggle', 'new-stream'));
    $('new-stream').addEventListener('submit', (/** @type {Event} */ ev) => { ev.preventDefault(); this.#create(); });
    $('edit-toggle').addEventListener('click', () => this.#toggle('edit-toggle', 'edit-form'));
    $('edit-form').addEventListener('submit', (/** @type {Event} */ ev) => { ev.preventDefault(); this.#save(); });
    $('delete-stream').addEventListener('click', () => this.#delete());
    $('key-show').addEventListener('click', () => this.#showKey());
    $('key-regenerate').addEventListener('click', () => this.#regenerate());
    $('end-stream').addEventListener('click', () => this.#end());
    for (const b of document.querySelectorAll('[data-copy]')) {
      b.addEventListener('click', () => this.#copy(/** @type {HTMLButtonElement} */ (b)));
    }
    addEventListener('hashchange', () => this.#selectFromHash());
    onPageLeave(() => {
      this.#preview?.stop();
      this.#preview = null;
      this.#browser.stop();
    });
    await this.#load();
    this.#selectFromHash();
    setInterval(() => this.#poll(), 1000);
  }

  /**
   * @param {string} buttonId
   * @param {string} formId
   */
  #toggle(buttonId, formId) {
    const f = $(formId);
    f.hidden = !f.hidden;
    $(buttonId).setAttribute('aria-expanded', String(!f.hidden));
    if (!f.hidden) f.querySelector('input')?.focus();
  }

  async #load() {
    this.#streams = await api('/api/studio/streams');
    const list = $('stream-list');
    list.replaceChildren();
    for (const s of this.#streams) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#${encodeURIComponent(s.name)}`;
      a.dataset.stream = s.name;
      const title = document.createElement('span');
      title.className = 'stream-title';
      title.textContent = s.title || s.name;
      const name = document.createElement('span');
      name.className = 'muted mono';
      name.textContent = `/watch/${s.name}`;
      a.append(title, name);
      if (this.#current?.name === s.name) a.setAttribute('aria-current', 'true');
      li.append(a);
      list.append(li);
    }
    $('stream-list-empty').hidden = this.#streams.length > 0;
    if (this.#streams.length === 0) {
      $('new-stream').hidden = false;
      $('new-stream-toggle').setAttribute('aria-expanded', 'true');
    }
  }

  #selectFromHash() {
    let name = '';
    try {
      name = decodeURIComponent(location.hash.slice(1));
    } catch { /* a mangled hash selects the first stream */ }
    const s = this.#streams.find((x) => x.name === name) ?? this.#streams[0] ?? null;
    this.#select(s);
  }

  /** @param {StudioStream | null} s */
  #select(s) {
    if (this.#current?.name === s?.name && s !== null) {
      this.#current = s;
      this.#fill();
      return;
    }
    this.#preview?.stop();
    this.#preview = null;
    this.#extras?.close();
    this.#extras = null;
    if (this.#browser.live) this.#browser.stop();
    this.#current = s;
    this.#key = null;
    hook.selected = s?.name ?? null;
    hook.status = null;
    $('stream-panel').hidden = s === null;
    for (const a of document.querySelectorAll('#stream-list a')) {
      if (/** @type {HTMLElement} */ (a).dataset.stream === s?.name) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    }
    if (s === null) return;
    this.#hideKey();
    this.#fill();
    this.#browser.target(s.whipUrl);
    this.#preview = new Preview(s.name);
    // The embed snippet and the stream's chat, where the owner moderates.
    this.#extras = mountStudioExtras($('studio-extras'), s.name);
    this.#poll();
  }

  /** Shows the selected stream's fields. */
  #fill() {
    const s = this.#current;
    if (!s) return;
    $('panel-title').textContent = s.title || s.name;
    const link = $('watch-link', HTMLAnchorElement);
    link.href = s.watchUrl;
    link.textContent = s.watchUrl;
    $('panel-description').textContent = s.description;
    $('edit-title', HTMLInputElement).value = s.title;
    $('edit-description', HTMLTextAreaElement).value = s.description;
    $('rtmp-url', HTMLInputElement).value = s.rtmpServer || 'RTMP is off on this server';
    $('cred-rtmp').classList.toggle('off', !s.rtmpServer);
    $('whip-url', HTMLInputElement).value = s.whipUrl;
    $('ffmpeg-line').textContent =
      `ffmpeg -re -i INPUT -c:v libx264 -preset veryfast -tune zerolatency -g 30 -bf 0 -b:v 2500k -maxrate 2500k -bufsize 2500k ` +
      `-pix_fmt yuv420p -c:a aac -b:a 128k -f flv ${s.rtmpServer || 'rtmp://HOST:1935/live'}/KEY`;
  }

  /** @returns {Promise<string>} the selected stream's key */
  async #fetchKey() {
    if (this.#key !== null) return this.#key;
    const s = this.#current;
    if (!s) throw new Error('no stream selected');
    const k = await api(`${streamPath(s.name)}/key`);
    if (this.#current?.name !== s.name) throw new Error('the selection changed');
    this.#key = k.key;
    return k.key;
  }

  #hideKey() {
    hook.keyRevealed = false;
    for (const id of ['stream-key', 'whip-token']) {
      const i = $(id, HTMLInputElement);
      i.type = 'password';
      i.value = HIDDEN_KEY;
    }
    $('key-show').textContent = 'Show';
    $('key-show').setAttribute('aria-pressed', 'false');
  }

  async #showKey() {
    clearError();
    if (hook.keyRevealed) {
      this.#hideKey();
      return;
    }
    try {
      const key = await this.#fetchKey();
      for (const id of ['stream-key', 'whip-token']) {
        const i = $(id, HTMLInputElement);
        i.type = 'text';
        i.value = key;
      }
      $('key-show').textContent = 'Hide';
      $('key-show').setAttribute('aria-pressed', 'true');
      hook.keyRevealed = true;
    } catch (err) {
      showError(err);
    }
  }

  /** @param {HTMLButtonElement} b */
  async #copy(b) {
    clearError();
    const id = /** @type {string} */ (b.dataset.copy);
    const input = $(id, HTMLInputElement);
    try {
      const secret = id === 'stream-key' || id === 'whip-token';
      const text = secret ? await this.#fetchKey() : input.value;
      const ok = await copy(text, input);
      const label = b.textContent;
      b.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => { b.textContent = label === 'Copied' || label === 'Copy failed' ? 'Copy' : label; }, 1500);
    } catch (err) {
      showError(err);
    }
  }

  async #regenerate() {
    const s = this.#current;
    if (!s) return;
    if (!confirm(`Make a new key for “${s.name}”? The old key stops working for new connections; update OBS with the new one.`)) return;
    clearError();
    try {
      const r = await api(`${streamPath(s.name)}/key`, { method: 'POST' });
      this.#key = r.key;
      const shown = hook.keyRevealed;
      this.#hideKey();
      if (shown) await this.#showKey();
      $('key-note').textContent = 'New key made: paste it into OBS. A broadcast already running goes on.';
    } catch (err) {
      showError(err);
    }
  }

  async #create() {
    clearError();
    try {
      const s = await api('/api/studio/streams', {
        method: 'POST',
        body: {
          name: $('new-name', HTMLInputElement).value.trim(),
          title: $('new-title', HTMLInputElement).value,
          description: $('new-description', HTMLTextAreaElement).value,
        },
      });
      $('new-stream', HTMLFormElement).reset();
      $('new-stream').hidden = true;
      $('new-stream-toggle').setAttribute('aria-expanded', 'false');
      await this.#load();
      location.hash = encodeURIComponent(s.name);
      this.#selectFromHash();
    } catch (err) {
      showError(err);
    }
  }

  async #save() {
    const s = this.#current;
    if (!s) return;
    clearError();
    try {
      const u = await api(streamPath(s.name), {
        method: 'PATCH',
        body: { title: $('edit-title', HTMLInputElement).value, description: $('edit-description', HTMLTextAreaElement).value },
      });
      $('edit-form').hidden = true;
      $('edit-toggle').setAttribute('aria-expanded', 'false');
      await this.#load();
      this.#select(u);
    } catch (err) {
      showError(err);
    }
  }

  async #delete() {
    const s = this.#current;
    if (!s) return;
    if (!confirm(`Delete “${s.name}” with its key and chat? This cannot be undone.`)) return;
    clearError();
    try {
      await api(streamPath(s.name), { method: 'DELETE' });
      await this.#load();
      history.replaceState(null, '', location.pathname);
      this.#select(null);
      this.#selectFromHash();
    } catch (err) {
      showError(err);
    }
  }

  async #end() {
    const s = this.#current;
    if (!s) return;
    clearError();
    try {
      const fromHere = this.#browser.live;
      if (fromHere) this.#browser.stop();
      const r = await api(`${streamPath(s.name)}/end`, { method: 'POST' });
      if (fromHere) $('end-note').textContent = 'Stopped sending from this browser.';
      else if (r.ended) $('end-note').textContent = 'Disconnected. OBS may reconnect by itself: stop it there, or regenerate the key to keep it out.';
      else $('end-note').textContent = 'Nobody was publishing.';
    } catch (err) {
      showError(err);
    }
  }

  async #logout() {
    try {
      const { csrfToken } = await studioSession();
      await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrfToken }, credentials: 'same-origin' });
    } finally {
      location.assign('/login');
    }
  }

  /** Polls the selected stream's status (every second). */
  async #poll() {
    const s = this.#current;
    if (!s || this.#polling) return;
    this.#polling = true;
    try {
      /** @type {import('./lib/studio-status.js').Status} */
      const st = await api(`${streamPath(s.name)}/status`);
      if (this.#current?.name === s.name) this.#render(st);
    } catch (err) {
      if (hook.error === null) console.warn('studio: status:', err);
    } finally {
      this.#polling = false;
    }
  }

  /** @param {import('./lib/studio-status.js').Status} st */
  #render(st) {
    hook.status = st;
    hook.preview = this.#preview?.stats ?? null;
    renderStatus(st, hook.preview);
  }
}

new Studio().init().catch(showError);
