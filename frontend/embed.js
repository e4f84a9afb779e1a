// @ts-check
/**
 * The embeddable player (/embed/<stream>), made to live in an <iframe> on
 * another site:
 *
 *     <iframe src="https://shoal.example/embed/demo?autoplay=1&muted=1"
 *             allow="autoplay; fullscreen" width="640" height="360"></iframe>
 *
 * Query options: autoplay=1|0 (default 1), muted=1|0 (default 1: browsers
 * allow only muted autoplay), chat=on|off (default off), theme=dark|light
 * (default dark), origin=<the host page's origin> (where events go, and the
 * only origin whose commands are obeyed; default any).
 *
 * postMessage API (README "Embedding the player"):
 *  - events to the host page, `{source: 'shoal', type, stream, ...}`:
 *    ready, playing, paused, offline, stats {viewers, p2pShare, peers, latency, buffered}
 *  - commands from the host page, `{type: 'play' | 'pause' | 'mute' | 'unmute'}`;
 *    anything else is ignored.
 *
 * @module
 */
import { watchStream } from './lib/start.js';
import { Media } from './lib/media.js';
import { mountChat } from './lib/chat-panel.js';
import { streamFromLocation } from './lib/stream-name.js';
import { pollInfo } from './lib/stream-info.js';
import { $, onPageLeave, testHook } from './lib/page.js';

/** How often the stats event goes to the host page. */
const STATS_MS = 2000;
const COMMANDS = new Set(['play', 'pause', 'mute', 'unmute']);

/**
 * The options in the query string.
 * @param {URLSearchParams} q
 */
export function embedOptions(q) {
  const on = (/** @type {string} */ k, /** @type {boolean} */ d) => {
    const v = q.get(k);
    if (v === null) return d;
    return ['1', 'on', 'true', 'yes', ''].includes(v.toLowerCase());
  };
  let origin = '*';
  const o = q.get('origin');
  if (o) {
    try {
      const u = new URL(o);
      if (u.origin !== 'null') origin = u.origin;
    } catch {
      /* not an origin: keep '*' */
    }
  }
  return {
    autoplay: on('autoplay', true),
    muted: on('muted', true),
    chat: on('chat', false),
    theme: q.get('theme') === 'light' ? 'light' : 'dark',
    origin,
  };
}

/**
 * Whether a message from the host page is a command we obey.
 * @param {unknown} data
 * @returns {data is {type: 'play' | 'pause' | 'mute' | 'unmute'}}
 */
export function isCommand(data) {
  return typeof data === 'object' && data !== null && !Array.isArray(data) &&
    typeof (/** @type {any} */ (data).type) === 'string' && COMMANDS.has(/** @type {any} */ (data).type);
}

async function main() {
  const opts = embedOptions(new URLSearchParams(location.search));
  const stream = streamFromLocation(location);
  document.body.dataset.theme = opts.theme;
  const root = $('embed');
  const playerEl = $('player');
  const note = $('player-note');
  const viewersEl = $('embed-viewers');
  const brand = $('embed-brand', HTMLAnchorElement);
  if (!stream) {
    note.textContent = 'No stream named in the address.';
    return;
  }
  brand.href = `/watch/${encodeURIComponent(stream)}`;
  brand.title = 'Watch on Shoal';

  const framed = window.parent !== window;
  /** @param {string} type @param {Record<string, unknown>} [extra] */
  const post = (type, extra = {}) => {
    if (framed) window.parent.postMessage({ source: 'shoal', type, stream, ...extra }, opts.origin);
  };

  // The player's and the swarm's figures, as window.__shoalEmbed when a test asks (lib/page.js).
  const hook = testHook('__shoalEmbed', {
    /** @type {object | null} */ player: null,
    /** @type {object | null} */ video: null,
    /** @type {import('./lib/shoal.js').Stats | null} */ stats: null,
  });

  const media = new Media(stream, hook, playerEl, { autoplay: opts.autoplay });
  const video = media.video;
  video.muted = opts.muted;
  media.onState = (state) => {
    if (state === 'playing' || state === 'paused' || state === 'offline') post(state);
  };
  media.start();

  if (opts.chat) {
    root.dataset.chat = 'on';
    const pane = $('chat');
    pane.hidden = false;
    mountChat(pane, { stream });
  }

  addEventListener('message', (ev) => {
    if (ev.source !== window.parent || (opts.origin !== '*' && ev.origin !== opts.origin)) return;
    if (!isCommand(ev.data)) return;
    switch (ev.data.type) {
      case 'play':
        media.play().catch(() => {
          video.muted = true; // autoplay policy: try again muted
          video.play().catch(() => {});
        });
        break;
      case 'pause':
        video.pause();
        break;
      case 'mute':
        video.muted = true;
        break;
      case 'unmute':
        video.muted = false;
        if (video.volume === 0) video.volume = 0.5;
        break;
    }
  });

  /** @type {number | null} */
  let viewers = null;
  pollInfo(stream, (info) => {
    if (!info) return;
    viewers = Number(info.viewers) || 0;
    viewersEl.textContent = `${viewers} watching`;
    if (info.title) document.title = `${info.title} · Shoal`;
  });

  let ready = false;
  const watcher = watchStream(stream, media, {
    onStats: (s) => { hook.stats = s; },
    onState: (state) => {
      if (state === 'connecting' && !ready) {
        ready = true;
        post('ready', { muted: video.muted, autoplay: opts.autoplay });
      }
    },
    onError: (msg) => {
      // The swarm could not start; the stream still plays over HTTP.
      console.warn('embed:', msg);
      post('error', { message: `The peer could not start: ${msg}` });
    },
  });
  onPageLeave(() => watcher.leave());

  setInterval(() => {
    const s = hook.stats;
    const p = media.playerStats;
    const total = s ? s.bytesFromPeers + s.bytesFromOrigin : 0;
    post('stats', {
      viewers,
      p2pShare: s && total > 0 ? s.bytesFromPeers / total : null,
      peers: s?.peers ?? 0,
      latency: p?.latency ?? null,
      buffered: p?.buffered ?? 0,
      state: media.state,
    });
  }, STATS_MS);
}

main();
