// @ts-check
/**
 * Studio page entry (served at /studio to a signed-in broadcaster).
 *
 * Lists the broadcaster's streams and, for the selected one (/studio#name):
 * the OBS credentials (key hidden until asked), the live status polled every
 * second from /api/studio/streams/<name>/status, a muted preview played the
 * way viewers play it (the wasm swarm peer and lib/player.js), an "End
 * stream" button, and a "Go live from the browser" panel that captures a
 * camera or the screen and publishes it over WHIP with the browser's own
 * encoder. `window.__studio` exposes the page's state to the browser tests.
 */
import { loadShoal } from './lib/shoal.js';
import { LivePlayer } from './lib/player.js';
import { mountStudioExtras } from './lib/studio-extras.js';
import { mountAccount } from './lib/studio-account.js';

/** Keyframe intervals above this (seconds) get a warning, as the server's. */
const KEYFRAME_WARN_SEC = 2;
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

/**
 * @typedef {object} Status
 * @property {boolean} live
 * @property {{connected: boolean, protocol?: string, width?: number, height?: number, since?: string, error?: string}} ingest
 * @property {string} [codecs]
 * @property {number} bitrateKbps
 * @property {number} keyframeIntervalSec
 * @property {boolean} keyframeWarning
 * @property {number} viewers
 * @property {number} [offload]
 * @property {number} uptimeSec
 */

/** The page's test hook. */
const hook = {
  /** @type {Status | null} */ status: null,
  /** @type {string | null} */ selected: null,
  keyRevealed: false,
  /** @type {{currentTime: number, latency: number | null, state: string} | null} */ preview: null,
  /** @type {string} */ browserLive: 'idle',
  /** @type {string | null} */ error: null,
};
/** @type {any} */ (window).__studio = hook;

/**
 * @param {string} id
 * @returns {any}
 */
function $(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`studio: missing #${id}`);
  return e;
}

let csrfToken = '';

/**
 * Calls the studio API. Mutations carry the CSRF token; a lost session
 * sends the browser to the sign-in page.
 * @param {string} path
 * @param {{method?: string, body?: any}} [opts]
 * @returns {Promise<any>}
 */
async function api(path, opts = {}) {
  const method = opts.method ?? 'GET';
  /** @type {Record<string, string>} */
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (r.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
    throw new Error('signed out');
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}

/** @param {string} name */
function streamPath(name) {
  return `/api/studio/streams/${encodeURIComponent(name)}`;
}

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

/**
 * @param {number} sec
 * @returns {string}
 */
function duration(sec) {
  sec = Math.floor(sec);
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

/**
 * The muted preview: joins the stream's swarm as a viewer would and plays
 * it with the same player.
 */
class Preview {
  /** @type {Promise<any> | null} */
  static #shoal = null;
  #stream;
  /** @type {any} */
  #handle = null;
  /** @type {LivePlayer | null} */
  #player = null;
  #video;
  #root = $('preview');
  #note = $('preview-note');
  #clockOffsetMs = 0;
  #stopped = false;
  #lastChunkAt = 0;

  /** @param {string} stream */
  constructor(stream) {
    this.#stream = stream;
    // A fresh <video> per stream: a LivePlayer owns its MediaSource.
    const old = $('preview-video');
    this.#video = /** @type {HTMLVideoElement} */ (old.cloneNode(false));
    this.#video.muted = true;
    old.replaceWith(this.#video);
    this.#root.dataset.state = 'waiting';
    this.#note.textContent = 'The preview starts when the stream is live.';
  }

  async start() {
    try {
      Preview.#shoal ??= loadShoal();
      const shoal = await Preview.#shoal;
      if (this.#stopped) return;
      this.#note.textContent = 'Joining the stream…';
      this.#handle = await shoal.join({
        stream: this.#stream,
        wantData: true,
        onChunk: (/** @type {any} */ info) => this.#chunk(info),
        onStats: (/** @type {any} */ s) => { this.#clockOffsetMs = s.clockOffsetMs ?? 0; },
        onError: (/** @type {any} */ msg) => { this.#note.textContent = `Preview: ${msg}`; },
      });
      if (this.#stopped) this.stop();
    } catch (err) {
      this.#note.textContent = `Preview unavailable: ${err instanceof Error ? err.message : err}`;
    }
  }

  /** @param {any} info */
  #chunk(info) {
    try {
      if (this.#stopped || !info.data) return;
      this.#lastChunkAt = Date.now();
      if (this.#player === null) {
        this.#player = new LivePlayer(this.#video, {
          fetchInit: async () => {
            const r = await fetch(`/api/streams/${encodeURIComponent(this.#stream)}/init`, { cache: 'no-store' });
            if (!r.ok) throw new Error(`init segment: HTTP ${r.status}`);
            const mime = r.headers.get('X-Shoal-Mime');
            if (!mime) throw new Error('init segment without a MIME type');
            return { mime, data: new Uint8Array(await r.arrayBuffer()) };
          },
          serverNow: () => Date.now() + this.#clockOffsetMs,
        });
      }
      this.#player.push({
        seq: info.seq, timestamp: info.timestamp, data: info.data,
        keyframe: !!info.keyframe, discontinuity: !!info.discontinuity,
      });
    } catch (err) {
      console.error('studio preview:', err);
    }
  }

  /** @returns {{currentTime: number, latency: number | null, state: string}} */
  tick() {
    const p = this.#player?.stats ?? null;
    const recent = Date.now() - this.#lastChunkAt < 4000;
    let state = 'waiting';
    if (p?.state === 'error') {
      state = 'error';
      this.#note.textContent = `Playback failed: ${p.error}`;
    } else if (p?.state === 'playing' && recent) {
      state = 'playing';
    } else if (!recent && this.#lastChunkAt > 0) {
      this.#note.textContent = 'No video is arriving: the stream is offline.';
    }
    this.#root.dataset.state = state;
    return { currentTime: this.#video.currentTime, latency: recent ? (p?.latency ?? null) : null, state };
  }

  stop() {
    this.#stopped = true;
    this.#handle?.leave();
    this.#handle = null;
  }
}

/**
 * "Go live from the browser": capture, then publish over WHIP with an
 * RTCPeerConnection. The WHIP ingest takes H.264 video and Opus audio.
 */
class BrowserLive {
  /** @type {MediaStream | null} */
  #media = null;
  /** @type {RTCPeerConnection | null} */
  #pc = null;
  /** @type {string | null} */
  #session = null;
  #key = '';
  #url = '';
  /** @type {() => Promise<string>} */
  #getKey;

  /** @param {() => Promise<string>} getKey the selected stream's key, fetched when needed */
  constructor(getKey) {
    this.#getKey = getKey;
    $('bl-source').addEventListener('change', () => this.#sourceChanged());
    $('bl-start').addEventListener('click', () => this.start().catch((err) => this.#fail(err)));
    $('bl-stop').addEventListener('click', () => this.stop());
    this.#sourceChanged();
    navigator.mediaDevices?.addEventListener?.('devicechange', () => this.#listCameras());
    this.#listCameras();
  }

  get live() {
    return this.#pc !== null;
  }

  #sourceChanged() {
    $('bl-camera-label').hidden = $('bl-source').value !== 'camera';
  }

  /** Lists the cameras (labels appear once the page may use the camera). */
  async #listCameras() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const sel = /** @type {HTMLSelectElement} */ ($('bl-camera'));
    const keep = sel.value;
    const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    sel.replaceChildren(new Option('Default camera', ''));
    cams.forEach((d, i) => sel.add(new Option(d.label || `Camera ${i + 1}`, d.deviceId)));
    sel.value = cams.some((d) => d.deviceId === keep) ? keep : '';
  }

  /** @param {string} text */
  #state(text) {
    $('bl-state').textContent = text;
  }

  /** @param {unknown} err */
  #fail(err) {
    const msg = err instanceof Error ? err.message : String(err);
    hook.browserLive = `error: ${msg}`;
    this.#state(`Could not go live: ${msg}`);
    this.#teardown();
  }

  /**
   * Sets where start publishes to.
   * @param {string} whipUrl
   */
  target(whipUrl) {
    this.#url = whipUrl;
  }

  async start() {
    if (this.#pc) return;
    if (!navigator.mediaDevices) throw new Error('this page needs a secure context (https or localhost) to capture media');
    if (!this.#url) throw new Error('no stream selected');
    $('bl-start').disabled = true;
    this.#key = await this.#getKey();
    hook.browserLive = 'capturing';
    this.#state('Asking for the camera or screen…');
    const audio = $('bl-audio').checked;
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    if ($('bl-source').value === 'screen') {
      this.#media = await navigator.mediaDevices.getDisplayMedia({ video, audio });
    } else {
      const deviceId = $('bl-camera').value;
      this.#media = await navigator.mediaDevices.getUserMedia({
        video: deviceId ? { ...video, deviceId: { exact: deviceId } } : video,
        audio,
      });
      this.#listCameras();
    }
    const local = /** @type {HTMLVideoElement} */ ($('bl-preview'));
    local.srcObject = this.#media;
    local.play().catch(() => {});
    // The browser's own "stop sharing" ends the broadcast too.
    this.#media.getVideoTracks()[0]?.addEventListener('ended', () => this.stop());

    this.#state('Connecting…');
    const pc = new RTCPeerConnection();
    this.#pc = pc;
    const kbps = Number($('bl-bitrate').value) || 2500;
    for (const track of this.#media.getTracks()) {
      const t = pc.addTransceiver(track, { direction: 'sendonly' });
      if (track.kind === 'video') {
        const h264 = (RTCRtpSender.getCapabilities('video')?.codecs ?? [])
          .filter((c) => c.mimeType.toLowerCase() === 'video/h264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''));
        if (h264.length === 0) throw new Error('this browser cannot encode H.264 for WebRTC; use OBS instead');
        t.setCodecPreferences(h264);
        const p = t.sender.getParameters();
        if (p.encodings?.length) p.encodings[0].maxBitrate = kbps * 1000;
        // Drop frames rather than the picture size when bandwidth is short:
        // every size change is a new init segment for every viewer.
        /** @type {any} */ (p).degradationPreference = 'maintain-resolution';
        t.sender.setParameters(p).catch((err) => console.warn('studio: sender parameters:', err));
      }
    }
    pc.addEventListener('connectionstatechange', () => {
      const s = pc.connectionState;
      if (s === 'connected') {
        hook.browserLive = 'live';
        this.#state('Live: sending from this browser. Keep this tab open.');
      } else if (s === 'failed' || s === 'closed') {
        if (this.#pc === pc) this.#fail(new Error(`connection ${s}`));
      }
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 3000);
    const r = await fetch(this.#url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${this.#key}` },
      body: pc.localDescription?.sdp ?? '',
    });
    if (r.status !== 201) throw new Error(`the server refused: ${(await r.text()).trim() || `HTTP ${r.status}`}`);
    const loc = r.headers.get('Location');
    this.#session = loc ? new URL(loc, this.#url).href : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
    $('bl-stop').disabled = false;
    hook.browserLive = 'connecting';
  }

  /** Ends the broadcast: DELETE the WHIP session, close, release the camera. */
  stop() {
    if (this.#session) {
      fetch(this.#session, { method: 'DELETE', headers: { Authorization: `Bearer ${this.#key}` } }).catch(() => {});
    }
    this.#teardown();
    hook.browserLive = 'idle';
    this.#state('Not sending.');
  }

  #teardown() {
    this.#session = null;
    this.#pc?.close();
    this.#pc = null;
    this.#media?.getTracks().forEach((t) => t.stop());
    this.#media = null;
    /** @type {HTMLVideoElement} */ ($('bl-preview')).srcObject = null;
    $('bl-start').disabled = false;
    $('bl-stop').disabled = true;
  }
}

/**
 * Waits until ICE gathering completes (the WHIP server takes one offer
 * with every candidate), or timeoutMs.
 * @param {RTCPeerConnection} pc
 * @param {number} timeoutMs
 */
function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') resolve(undefined);
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, timeoutMs);
  });
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
  #browser = new BrowserLive(() => this.#fetchKey());
  #polling = false;

  async init() {
    const me = await api('/api/studio/session');
    csrfToken = me.csrfToken;
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
    addEventListener('pagehide', () => { this.#preview?.stop(); this.#browser.stop(); });
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
    this.#preview.start();
    // The embed snippet and the stream's chat, where the owner moderates.
    this.#extras = mountStudioExtras($('studio-extras'), s.name);
    this.#poll();
  }

  /** Shows the selected stream's fields. */
  #fill() {
    const s = this.#current;
    if (!s) return;
    $('panel-title').textContent = s.title || s.name;
    const link = $('watch-link');
    link.href = s.watchUrl;
    link.textContent = s.watchUrl;
    $('panel-description').textContent = s.description;
    $('edit-title').value = s.title;
    $('edit-description').value = s.description;
    $('rtmp-url').value = s.rtmpServer || 'RTMP is off on this server';
    $('cred-rtmp').classList.toggle('off', !s.rtmpServer);
    $('whip-url').value = s.whipUrl;
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
      const i = $(id);
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
        const i = $(id);
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
    const input = $(id);
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
        body: { name: $('new-name').value.trim(), title: $('new-title').value, description: $('new-description').value },
      });
      /** @type {HTMLFormElement} */ ($('new-stream')).reset();
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
        method: 'PATCH', body: { title: $('edit-title').value, description: $('edit-description').value },
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
      /** @type {Status} */
      const st = await api(`${streamPath(s.name)}/status`);
      if (this.#current?.name === s.name) this.#render(st);
    } catch (err) {
      if (hook.error === null) console.warn('studio: status:', err);
    } finally {
      this.#polling = false;
    }
  }

  /** @param {Status} st */
  #render(st) {
    hook.status = st;
    const ing = st.ingest ?? { connected: false };
    const pill = $('live-pill');
    pill.dataset.live = String(st.live);
    pill.textContent = st.live ? 'Live' : ing.connected ? 'Connecting' : 'Offline';
    $('st-ingest').textContent = ing.connected ? `Connected · ${(ing.protocol ?? '').toUpperCase()}` : 'Not connected';
    $('st-uptime').textContent = ing.connected ? duration(st.uptimeSec) : '—';
    $('st-codec').textContent = ing.connected && st.codecs ? st.codecs.replaceAll(',', ', ') : '—';
    $('st-resolution').textContent = ing.connected && ing.width ? `${ing.width}×${ing.height}` : '—';
    $('st-bitrate').textContent = ing.connected && st.bitrateKbps > 0 ? `${Math.round(st.bitrateKbps)} kbit/s` : '—';
    const kf = $('st-keyframe');
    kf.textContent = ing.connected && st.keyframeIntervalSec > 0 ? `${st.keyframeIntervalSec.toFixed(1)} s` : '—';
    const kfWarn = ing.connected && st.keyframeIntervalSec > KEYFRAME_WARN_SEC;
    kf.classList.toggle('warn', kfWarn);
    const warn = $('st-warning');
    warn.hidden = !kfWarn;
    warn.textContent = kfWarn
      ? `Keyframes come every ${st.keyframeIntervalSec.toFixed(1)} s: viewers join and recover only at a keyframe. Set OBS's Keyframe Interval to 1 s (ffmpeg: -g equal to the frame rate).`
      : '';
    $('st-viewers').textContent = String(st.viewers);
    $('st-offload').textContent = typeof st.offload === 'number' ? `${Math.round(st.offload * 100)} %` : '—';
    const errEl = $('st-error');
    errEl.hidden = !ing.error;
    errEl.textContent = ing.error ? `Last ingest error: ${ing.error}` : '';
    $('end-stream').disabled = !ing.connected;
    if (ing.connected) $('end-note').textContent = '';

    const p = this.#preview?.tick() ?? null;
    hook.preview = p;
    $('st-latency').textContent = p?.latency != null ? `${p.latency.toFixed(1)} s` : '—';
  }
}

new Studio().init().catch(showError);
