// @ts-check
/**
 * Viewer page entry (served at /watch/<stream>, or with ?stream=<name>).
 *
 * Joins the stream's swarm through the wasm engine and plays it; beside the
 * player, the stream's chat (lib/chat-panel.js); below it, the title, the
 * audience, and (folded) how the chunks arrive: peers, bytes from peers vs
 * the origin, delay behind live. A stats overlay on the video (the Stats
 * button, or the s key) shows peers, P2P share, latency and buffer. When a
 * test asks (lib/page.js), the page keeps `window.__shoal` up to date for
 * it (tools/e2e, tools/browserbench).
 */
import { watchStream } from './lib/start.js';
import { Media } from './lib/media.js';
import { mountChat } from './lib/chat-panel.js';
import { streamFromLocation } from './lib/stream-name.js';
import { pollInfo } from './lib/stream-info.js';
import { $, onPageLeave, testHook } from './lib/page.js';

/** Date.now() at script start; `firstChunkAt - pageStart` is the time to first chunk. */
const pageStart = Date.now();

/** Chunks kept in the scrolling log. */
const LOG_SIZE = 20;
/** With no chunk for this long a live viewer shows "stalled". */
const STALL_MS = 5_000;
/** Bound on `window.__shoal.chunks` (about 80 minutes at 4 chunks/s). */
const HOOK_MAX_CHUNKS = 20_000;

/**
 * A chunk as the swarm panel logs it: from the swarm (lib/shoal.js's
 * ChunkInfo: a peer or the origin) or, at the page's start, from the HTTP
 * feed (lib/httpfeed.js), which names no peer.
 * @typedef {{seq: number, size: number, from: 'peer' | 'origin', peer: string}
 *   | {seq: number, size: number, from: 'http', peer?: undefined}} ChunkInfo
 */
/** @typedef {import('./lib/shoal.js').Stats} Stats */

/**
 * The page's state for its tests, published as window.__shoal when a test
 * asks (lib/page.js testHook); read by tools/e2e/browser.mjs.
 * @typedef {object} TestHook
 * @property {number} pageStart         Date.now() at script start
 * @property {number | null} firstChunkAt Date.now() at the first onChunk
 * @property {Record<string, 'peer' | 'origin' | 'http'>} chunks seq -> source of its first delivery ('http': the page's HTTP start)
 * @property {Stats | null} stats       latest stats
 * @property {string | null} error      latest error message
 * @property {import('./lib/player.js').PlayerStats | null} player latest player stats
 * @property {{currentTime: number, decoded: number, dropped: number} | null} video
 * @property {number | null} wasmReadyAt Date.now() when the wasm peer was ready
 * @property {number | null} joinedAt    Date.now() when the swarm was joined
 * @property {number} reconnects         times the peer lost the signaling server and joined again
 */

/**
 * Explicit page states.
 * @typedef {'loading' | 'connecting' | 'live' | 'stalled' | 'reconnecting' | 'error' | 'left'} State
 */

/**
 * Owns the page's DOM and state; the swarm callbacks feed it.
 */
class Viewer {
  /** @type {State} */
  #state = 'loading';
  /** @type {TestHook} */
  #hook;
  #els;
  /** @type {number | null} */
  #lastChunkAt = null;
  #hookChunkCount = 0;
  #reconnectWhy = '';
  /** @type {ChunkInfo[]} the newest chunks, oldest first: the log shows them while the swarm panel is open */
  #recent = [];
  /** @type {Stats | null} */
  #lastStats = null;

  /** @param {TestHook} hook */
  constructor(hook) {
    this.#hook = hook;
    this.#els = {
      status: $('status'),
      statusText: $('status-text'),
      streamName: $('stream-name'),
      peers: $('s-peers'),
      chunks: $('s-chunks'),
      fromPeers: $('s-from-peers'),
      fromOrigin: $('s-from-origin'),
      share: $('s-share'),
      shareBar: $('s-share-bar'),
      behind: $('s-behind'),
      first: $('s-first'),
      uploaded: $('s-uploaded'),
      dups: $('s-dups'),
      id: $('s-id'),
      log: $('chunk-log', HTMLOListElement),
      logEmpty: $('chunk-log-empty'),
      panel: $('swarm', HTMLDetailsElement),
    };
    // The swarm panel is closed unless the viewer opens it: its figures
    // and chunk log are drawn only while it is open (8 chunks a second
    // would otherwise cost layout and paint for nothing).
    this.#els.panel.addEventListener('toggle', () => {
      if (!this.#els.panel.open) return;
      if (this.#lastStats) this.#drawStats(this.#lastStats);
      this.#els.log.replaceChildren();
      for (const info of this.#recent) this.#logChunk(info);
    });
    this.#render();
  }

  /** @returns {State} */
  get state() {
    return this.#state;
  }

  /** @param {string} name */
  setStream(name) {
    this.#els.streamName.textContent = name;
    document.title = `${name} · Shoal`;
  }

  /** @param {string} title */
  setTitle(title) {
    document.title = `${title} · Shoal`;
  }

  connecting() {
    if (this.#state === 'loading') this.#set('connecting'); // chunks from HTTP may already play: then it stays live
  }

  joined() {
    if (this.#state === 'reconnecting') this.#set(this.#lastChunkAt === null ? 'connecting' : 'live');
  }

  /** @param {string} why */
  reconnecting(why) {
    this.#reconnectWhy = why;
    this.#set('reconnecting');
  }

  left() {
    if (this.#state !== 'error') this.#set('left');
  }

  /** @param {string} message */
  fail(message) {
    this.#hook.error = message;
    this.#set('error', message);
  }

  /** @param {ChunkInfo} info */
  chunk(info) {
    const now = Date.now();
    this.#lastChunkAt = now;
    const hook = this.#hook;
    if (hook.firstChunkAt === null) {
      hook.firstChunkAt = now;
      this.#els.first.textContent = seconds(now - hook.pageStart);
    }
    const key = String(info.seq);
    if (!(key in hook.chunks)) {
      hook.chunks[key] = info.from;
      if (++this.#hookChunkCount > HOOK_MAX_CHUNKS) this.#pruneHook();
    }
    if (this.#state === 'loading' || this.#state === 'connecting' || this.#state === 'stalled') this.#set('live');
    this.#recent.push(info);
    if (this.#recent.length > LOG_SIZE) this.#recent.shift();
    if (this.#els.panel.open) this.#logChunk(info);
  }

  /** @param {Stats} s */
  stats(s) {
    this.#hook.stats = s;
    this.#lastStats = s;
    if (this.#els.panel.open) this.#drawStats(s);
    if (this.#state === 'live') this.#render();
  }

  /** @param {Stats} s */
  #drawStats(s) {
    const e = this.#els;
    const total = s.bytesFromPeers + s.bytesFromOrigin;
    const share = total > 0 ? (100 * s.bytesFromPeers) / total : null;
    e.peers.textContent = String(s.peers);
    e.chunks.textContent = String(s.chunks);
    e.fromPeers.textContent = `${bytes(s.bytesFromPeers)} · ${s.chunksFromPeers}`;
    e.fromOrigin.textContent = `${bytes(s.bytesFromOrigin)} · ${s.chunksFromOrigin}`;
    e.share.textContent = share === null ? '—' : `${share.toFixed(0)} %`;
    e.shareBar.style.width = `${share ?? 0}%`;
    e.behind.textContent = s.chunks > 0 ? seconds(s.behindLiveMs) : '—';
    e.uploaded.textContent = bytes(s.uploadedBytes);
    e.dups.textContent = String(s.duplicates);
    e.id.textContent = s.id || '—';
  }

  /** Called once a second: notices a stream that stopped arriving. */
  tick() {
    if (this.#state === 'live' && this.#lastChunkAt !== null && Date.now() - this.#lastChunkAt > STALL_MS) {
      this.#set('stalled');
    } else if (this.#state === 'stalled') {
      this.#render();
    }
  }

  /**
   * @param {State} state
   * @param {string} [detail]
   */
  #set(state, detail) {
    if (this.#state === 'error' && state !== 'error') return; // errors stay visible
    this.#state = state;
    this.#render(detail);
  }

  /** @param {string} [detail] */
  #render(detail) {
    const e = this.#els;
    if (e.status.dataset.state !== this.#state) e.status.dataset.state = this.#state;
    switch (this.#state) {
      case 'loading':
        setText(e.statusText, 'Loading the Shoal engine…');
        break;
      case 'connecting':
        setText(e.statusText, 'Connecting to the swarm…');
        break;
      case 'live': {
        const peers = this.#hook.stats?.peers ?? 0;
        setText(e.statusText, `Live · ${peers} ${peers === 1 ? 'peer' : 'peers'}`);
        break;
      }
      case 'stalled': {
        const since = this.#lastChunkAt === null ? 0 : Date.now() - this.#lastChunkAt;
        setText(e.statusText, `Stalled · no chunk for ${Math.floor(since / 1000)} s`);
        break;
      }
      case 'error':
        setText(e.statusText, `Error: ${detail ?? this.#hook.error ?? 'unknown'}`);
        break;
      case 'reconnecting':
        setText(e.statusText, 'Reconnecting to the server… (the video goes on over HTTP)');
        e.status.title = this.#reconnectWhy;
        break;
      case 'left':
        setText(e.statusText, 'Left the stream');
        break;
    }
  }

  /** @param {ChunkInfo} info */
  #logChunk(info) {
    const li = document.createElement('li');
    li.className = `from-${info.from}`;
    const seq = document.createElement('span');
    seq.className = 'seq';
    seq.textContent = `#${info.seq}`;
    const size = document.createElement('span');
    size.className = 'size';
    size.textContent = bytes(info.size);
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = info.from === 'peer' ? `peer ${shortID(info.peer)}` : info.from === 'http' ? 'origin (page start)' : 'origin';
    from.title = info.peer ?? '';
    li.append(seq, size, from);
    const log = this.#els.log;
    log.prepend(li);
    while (log.childElementCount > LOG_SIZE) log.lastElementChild?.remove();
    this.#els.logEmpty.hidden = true;
  }

  /** Drop the oldest quarter of the test hook's seqs. */
  #pruneHook() {
    const seqs = Object.keys(this.#hook.chunks).map(Number).sort((a, b) => a - b);
    const drop = Math.floor(seqs.length / 4);
    for (let i = 0; i < drop; i++) delete this.#hook.chunks[String(seqs[i])];
    this.#hookChunkCount = seqs.length - drop;
  }
}

/**
 * @param {number} n
 * @returns {string}
 */
function bytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/**
 * @param {number} ms
 * @returns {string}
 */
function seconds(ms) {
  return `${(Math.max(0, ms) / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * @param {string} id
 * @returns {string}
 */
function shortID(id) {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/**
 * The title block under the player: title, description, live pill and
 * viewer count, from lib/stream-info.js.
 */
class About {
  #viewer;
  #els = {
    title: $('stream-title'),
    description: $('stream-description'),
    pill: $('live-pill'),
    viewers: $('viewer-count'),
  };

  /**
   * @param {string} stream
   * @param {Viewer} viewer
   */
  constructor(stream, viewer) {
    this.#viewer = viewer;
    this.#els.title.textContent = stream;
  }

  /** @param {import('./lib/stream-info.js').StreamInfo | null} info  null: the server knows no such stream now */
  show(info) {
    const e = this.#els;
    if (!info) {
      e.pill.dataset.live = 'false';
      e.pill.textContent = 'OFFLINE';
      return;
    }
    const title = info.title || info.name;
    e.title.textContent = title;
    this.#viewer.setTitle(title);
    e.description.textContent = info.description ?? '';
    e.description.hidden = !info.description;
    e.pill.dataset.live = String(info.live);
    e.pill.textContent = info.live ? 'LIVE' : 'OFFLINE';
    const n = info.viewers ?? 0;
    e.viewers.textContent = `${n} watching`;
  }
}

/** The stats overlay on the video, toggled by the Stats button or the s key. */
class Overlay {
  #hook;
  #box = $('overlay');
  #button = $('c-stats', HTMLButtonElement);
  #els = {
    peers: $('o-peers'),
    share: $('o-share'),
    latency: $('o-latency'),
    buffer: $('o-buffer'),
  };

  /** @param {TestHook} hook */
  constructor(hook) {
    this.#hook = hook;
    this.#button.addEventListener('click', () => this.toggle());
    addEventListener('keydown', (ev) => {
      const t = ev.target instanceof HTMLElement ? ev.target : null;
      if (ev.key === 's' && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !(t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) this.toggle();
    });
  }

  toggle() {
    this.#box.hidden = !this.#box.hidden;
    this.#button.setAttribute('aria-pressed', String(!this.#box.hidden));
    this.render();
  }

  render() {
    if (this.#box.hidden) return;
    const s = this.#hook.stats;
    const p = this.#hook.player;
    const e = this.#els;
    const total = s ? s.bytesFromPeers + s.bytesFromOrigin : 0;
    e.peers.textContent = s ? String(s.peers) : '—';
    e.share.textContent = s && total > 0 ? `${((100 * s.bytesFromPeers) / total).toFixed(0)} %` : '—';
    e.latency.textContent = p?.latency != null ? `${p.latency.toFixed(1)} s` : s && s.chunks > 0 ? seconds(s.behindLiveMs) : '—';
    e.buffer.textContent = p ? `${p.buffered.toFixed(1)} s` : '—';
  }
}

async function main() {
  /** @type {TestHook} */
  const hook = {
    pageStart, firstChunkAt: null, chunks: {}, stats: null, error: null, player: null, video: null,
    wasmReadyAt: null, joinedAt: null, reconnects: 0,
  };
  testHook('__shoal', hook);

  const viewer = new Viewer(hook);
  const stream = streamFromLocation(location);
  if (!stream) {
    viewer.fail('no stream named in the address; open /watch/<stream>');
    return;
  }
  viewer.setStream(stream);
  const ticker = setInterval(() => viewer.tick(), 1000);

  /** @type {import('./lib/start.js').Watcher | null} */
  let watcher = null;
  onPageLeave(() => {
    clearInterval(ticker);
    watcher?.leave();
    watcher = null;
    viewer.left();
  });

  const media = new Media(stream, hook, $('player'));
  media.start();

  const about = new About(stream, viewer);
  pollInfo(stream, (info) => about.show(info));
  const overlay = new Overlay(hook);
  setInterval(() => overlay.render(), 500);
  mountChat($('chat'), { stream });

  watcher = watchStream(stream, media, {
    onChunk: (info) => viewer.chunk(/** @type {ChunkInfo} */ (info)),
    onStats: (s) => viewer.stats(s),
    onState: (state, detail) => {
      if (state === 'connecting') {
        hook.wasmReadyAt ??= Date.now();
        viewer.connecting();
      } else if (state === 'joined') {
        hook.joinedAt ??= Date.now();
        viewer.joined();
      } else if (state === 'reconnecting') {
        hook.reconnects++;
        viewer.reconnecting(detail);
      }
    },
    onError: (msg) => viewer.fail(msg),
  });
}

main();

/**
 * Sets el's text when it differs: a write, even of the same text, costs a
 * style and layout pass.
 * @param {HTMLElement} el
 * @param {string} text
 */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
