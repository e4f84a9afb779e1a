// @ts-check
/**
 * watchStream: how a page (the viewer page, the embed) starts watching a
 * stream, fast and whatever the network allows:
 *
 *  1. at once, plain HTTP (lib/httpfeed.js) brings the chunks from the
 *     newest keyframe to the live edge, and the next ones as they are cut,
 *     so the first frame needs neither the wasm peer nor WebRTC;
 *  2. once the first frame is up (or PEER_START_MAX_MS have passed), the
 *     wasm peer loads and joins the swarm, starting at the first chunk
 *     the player still needs (startSeq), told of every chunk the feed
 *     brings after that (cover) so that it asks nobody for those; its
 *     first chunk over a data channel (or HANDOVER_MAX_MS after it
 *     joined) stops the HTTP feed. Loading it
 *     later than the page (fetching 1.4 MB, compiling 7 MB of code,
 *     starting Go) keeps that work from competing with the first frame
 *     for the network and, on a small machine, for the CPU;
 *  3. when the peer loses the signaling server (a restart, a network
 *     change) it joins again by itself, with backoff; the HTTP feed fills
 *     in from where the player is until the swarm delivers again.
 *
 *     const w = watchStream('demo', media, { onChunk, onStats, onState });
 *     addEventListener('pagehide', () => w.leave());
 *
 * @module
 */
import { loadShoal } from './shoal.js';
import { HTTPFeed } from './httpfeed.js';

/** The HTTP feed stops at the first chunk over a data channel, or this long (ms) after the peer joined. */
const HANDOVER_MAX_MS = 6000;
/** How long the peer's join waits for the feed's first answer (ms), to start where the feed got to. */
const FEED_FIRST_WAIT_MS = 1500;
/** The peer starts loading at the first frame, or this long (ms) after the page started watching. */
const PEER_START_MAX_MS = 1500;

/** @typedef {import('./shoal.js').ChunkInfo} ChunkInfo */
/** @typedef {import('./shoal.js').Stats} Stats */
/** @typedef {'loading' | 'connecting' | 'joined' | 'reconnecting'} PeerState */

/**
 * @typedef {object} Watcher
 * @property {() => void} leave  stops everything (pagehide)
 * @property {HTTPFeed} feed
 */

/**
 * @typedef {object} Hooks
 * @property {(info: {seq: number, from: string, size: number, peer?: string}) => void} [onChunk]  every chunk, HTTP or swarm
 * @property {(s: Stats) => void} [onStats]  the swarm's counters, every 500 ms
 * @property {(state: PeerState, detail: string) => void} [onState]
 * @property {(message: string) => void} [onError]  the wasm peer could not start (the HTTP feed goes on)
 */

/**
 * @param {string} stream
 * @param {import('./media.js').Media} media
 * @param {Hooks} [hooks]
 * @returns {Watcher}
 */
export function watchStream(stream, media, hooks = {}) {
  /** @param {() => void} fn */
  const guarded = (fn) => {
    try {
      fn();
    } catch (err) {
      console.error('watch: callback failed:', err);
    }
  };
  /** the swarm has told the server's clock: it wins over the feed's estimate */
  let swarmClock = false;
  /** @type {import('./shoal.js').Handle | null} */
  let handle = null;
  /** @type {number | null} when the peer joined the swarm (since the feed last started) */
  let joinedAt = null;
  const feed = new HTTPFeed(stream, (c) => {
    if (!swarmClock) media.clockOffsetMs = feed.clockOffsetMs;
    media.chunk(c);
    // The peer need not bring what the feed brought: without this it
    // fetched again, over HTTP, each chunk its data channels were late
    // with while they opened.
    handle?.cover(c.seq + 1);
    guarded(() => hooks.onChunk?.({ seq: c.seq, from: c.from, size: c.data.length }));
    if (joinedAt !== null && Date.now() - joinedAt > HANDOVER_MAX_MS) feed.stop();
  });
  feed.start();

  let gone = false;
  /** @param {PeerState} state @param {string} detail */
  const state = (state, detail) => guarded(() => hooks.onState?.(state, detail));
  state('loading', '');

  (async () => {
    await media.firstFrame(PEER_START_MAX_MS);
    if (gone) return;
    const shoal = await loadShoal();
    // Join where the feed got to, so that the engine does not fetch again
    // what the feed brings: on a fast page the peer can be ready before
    // the feed's first answer (then without it, startSeq 0 = from the
    // swarm's live edge, the engine fetches the join backlog itself).
    for (const until = Date.now() + FEED_FIRST_WAIT_MS; feed.next === null && media.nextSeq == null && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (gone) return;
    const h = /** @type {import('./shoal.js').Handle} */ (await shoal.join({
      stream,
      wantData: true,
      debug: new URLSearchParams(location.search).has('debug'),
      startSeq: feed.next ?? media.nextSeq ?? 0,
      onChunk: (/** @type {ChunkInfo & {data?: Uint8Array}} */ info) => {
        // The HTTP feed brings each chunk as it is cut, and the peer,
        // told so (cover), asks nobody for those. The feed goes on until a
        // chunk comes over a data channel (info.peer names the sender;
        // empty for the engine's own fetch), or for HANDOVER_MAX_MS after
        // the peer joined at most: then a peer that no neighbour reaches
        // fetches each chunk as it is due itself (docs/PROTOCOL.md §3.7).
        if (feed.running && info.peer) feed.stop();
        media.chunk(info);
        guarded(() => hooks.onChunk?.(info));
      },
      onStats: (/** @type {Stats} */ s) => {
        if (s.clockOffsetMs) {
          media.clockOffsetMs = s.clockOffsetMs;
          swarmClock = true;
        }
        guarded(() => hooks.onStats?.(s));
      },
      onState: (/** @type {{state: PeerState, detail: string}} */ s) => {
        if (s.state === 'joined') joinedAt = Date.now();
        if (s.state === 'reconnecting' && !gone && !feed.running) {
          feed.next = media.nextSeq ?? feed.next;
          joinedAt = null;
          feed.start();
        }
        state(s.state, s.detail);
      },
    }));
    if (gone) {
      h.leave();
    } else {
      handle = h;
      if (feed.running && feed.next !== null) h.cover(feed.next); // what came while it joined
    }
  })().catch((err) => {
    guarded(() => hooks.onError?.(err instanceof Error ? err.message : String(err)));
  });

  return {
    feed,
    leave() {
      gone = true;
      feed.stop();
      handle?.leave();
      handle = null;
    },
  };
}
