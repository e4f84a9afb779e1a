// @ts-check
/**
 * Media: the video half of a Shoal page (the viewer page and the embed):
 * the MSE player fed by the swarm's chunks, its controls, and the stream's
 * offline / no-video states, shown on the `.player` element as
 * `data-state` = waiting | playing | paused | offline | nomedia | error.
 *
 *     const media = new Media(stream, hook, $('player'));
 *     media.onState = (state) => { ... }; // before start: the first tick tells it
 *     media.start(); // the player's start-up; every page that plays starts so
 *     watchStream(stream, media, hooks); // lib/start.js: feeds media.chunk
 *     media.stop(); // for good: timers cleared, the player let go
 *
 * The `.player` element holds a <video>, a `.player-note` and the controls
 * markup lib/controls.js binds to.
 *
 * @module
 */
import { LivePlayer } from './player.js';
import { Controls } from './controls.js';
import { takeEarly, initURL } from './stream-name.js';

/** A failed player is replaced at most this often (ms). */
const RESTART_MS = 5000;
/** How often the player's state is read into the page (ms). */
const TICK_MS = 250;
/** How often the server is asked whether the stream is live and carries video (ms). */
const POLL_MS = 3000;

/** @typedef {import('./shoal.js').ChunkInfo} ChunkInfo */
/** @typedef {'waiting' | 'playing' | 'paused' | 'offline' | 'nomedia' | 'error'} MediaState */

export class Media {
  #stream;
  #hook;
  #root;
  #video;
  #note;
  /** @type {LivePlayer | null} */
  #player = null;
  /** @type {Controls | null} */
  #controls = null;
  #lastChunkAt = 0;
  /** @type {boolean | null} whether the stream carries video, from /api/streams */
  #hasMedia = null;
  #live = false;
  #autoplay;
  #held = false;
  #failedAt = 0;
  #offlineNote;
  #closed = false;
  /** @type {ReturnType<typeof setInterval>[]} */
  #timers = [];
  /** times a failed player was replaced by a fresh one */
  restarts = 0;
  /** @type {MediaState} */
  state = 'waiting';
  clockOffsetMs = 0;
  /** @type {(state: MediaState) => void} */
  onState = () => {};

  /**
   * @param {string} stream
   * @param {{player: object | null, video: object | null}} hook  test hook the stats go to
   * @param {HTMLElement} root  the .player element
   * @param {{autoplay?: boolean, offlineNote?: string}} [opts]  autoplay: start playing as soon as video arrives
   *   (default true); offlineNote: what the player says while the stream is offline
   */
  constructor(stream, hook, root, opts = {}) {
    this.#stream = stream;
    this.#hook = hook;
    this.#root = root;
    this.#video = /** @type {HTMLVideoElement} */ (root.querySelector('video'));
    this.#note = /** @type {HTMLElement} */ (root.querySelector('.player-note'));
    this.#autoplay = opts.autoplay ?? true;
    this.#offlineNote = opts.offlineNote ?? 'The stream is offline. It starts here by itself when the broadcaster is back.';
    this.#controls = new Controls(root, this.#video, { goLive: () => this.#player?.goLive() });
    if (!this.#autoplay) {
      // The player starts the video at its first chunk; without autoplay,
      // hold it paused until someone presses play.
      this.#held = true;
      this.#video.addEventListener('play', () => {
        if (this.#held) {
          this.#held = false;
          this.#video.pause();
        }
      });
      root.addEventListener('pointerdown', () => { this.#held = false; }, { once: true });
    }
  }

  get video() {
    return this.#video;
  }

  /** @returns {import('./player.js').PlayerStats | null} */
  get playerStats() {
    return this.#player?.stats ?? null;
  }

  /**
   * Resolves at the first frame, or after maxMs, whichever comes first:
   * work the picture does not need (the wasm peer's start) waits on it.
   * @param {number} maxMs
   * @returns {Promise<void>}
   */
  async firstFrame(maxMs) {
    for (const until = Date.now() + maxMs; !this.playerStats?.firstFrameAt && !this.#closed && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The next chunk the player needs (null before it started). */
  get nextSeq() {
    return this.#player?.next ?? null;
  }

  /** @param {{seq: number, timestamp: number, from: string, data?: Uint8Array<ArrayBuffer>, keyframe?: boolean, discontinuity?: boolean}} info */
  chunk(info) {
    this.#lastChunkAt = Date.now();
    if (!info.data || this.#hasMedia === false || this.#closed) return;
    if (this.#player?.stats.state === 'error' && Date.now() - this.#failedAt > RESTART_MS) {
      // Something the player could not get past (a broken append, say):
      // start a fresh one at the next keyframe rather than stay broken.
      console.warn('media: restarting the player after:', this.#player.stats.error);
      this.#failedAt = Date.now();
      this.#player.destroy();
      this.#player = null;
      this.restarts++;
    }
    this.#player ??= this.#newPlayer(info.from === 'http');
    this.#player.push({
      seq: info.seq, timestamp: info.timestamp, data: info.data,
      keyframe: !!info.keyframe, discontinuity: !!info.discontinuity,
    });
  }

  /**
   * Starts the player, in the order the first frame wants: the init
   * segment and the media source first (prefetch), then whether the
   * stream is live (poll); then the page's state every TICK_MS and the
   * stream's every POLL_MS. Set onState before.
   */
  start() {
    if (this.#timers.length > 0 || this.#closed) return;
    this.#prefetch();
    this.#poll();
    this.#timers.push(setInterval(() => this.#tick(), TICK_MS), setInterval(() => this.#poll(), POLL_MS));
  }

  /** Stops playing for good: the timers stop and the player lets go of its media source. */
  stop() {
    this.#timers.forEach(clearInterval);
    this.#timers = [];
    this.#player?.destroy();
    this.#player = null;
    this.#prefetched = null;
    this.#closed = true;
  }

  /** Plays from the live edge. */
  play() {
    this.#held = false;
    this.#player?.goLive();
    return this.#video.play();
  }

  /** @type {Promise<import('./player.js').InitSegment> | null} fetched at page start, used once */
  #prefetched = null;

  /**
   * Fetches the init segment and opens the media source before the first
   * chunk comes, which then plays at once. The first chunks come over
   * HTTP (lib/httpfeed.js) in one answer from the newest keyframe to the
   * live edge: the player joins without gathering more.
   */
  #prefetch() {
    this.#prefetched = this.#fetchInitNow();
    this.#prefetched.catch(() => {}); // a stream without video yet: fetched again later
    this.#player ??= this.#newPlayer(true);
    this.#player.warm();
  }

  /** @param {boolean} joinNow  join at the first chunk, without waiting for more */
  #newPlayer(joinNow) {
    return new LivePlayer(this.#video, {
      fetchInit: () => this.#fetchInit(),
      serverNow: () => Date.now() + this.clockOffsetMs,
      targetLatency: Number(new URLSearchParams(location.search).get('latency')) || 1.5,
      joinWaitMs: joinNow ? 0 : undefined,
    });
  }

  /** @returns {Promise<import('./player.js').InitSegment>} */
  async #fetchInit() {
    const p = this.#prefetched;
    this.#prefetched = null;
    if (p) {
      try {
        return await p;
      } catch {
        /* fall through to a fresh fetch */
      }
    }
    return this.#fetchInitNow();
  }

  /** @returns {Promise<import('./player.js').InitSegment>} */
  async #fetchInitNow() {
    const url = initURL(this.#stream);
    const r = await (takeEarly(url)?.response ?? fetch(url, { cache: 'no-store', priority: 'high' }));
    if (!r.ok) throw new Error(`init segment: HTTP ${r.status}`);
    const mime = r.headers.get('X-Shoal-Mime');
    if (!mime) throw new Error('init segment without a MIME type');
    return { mime, data: new Uint8Array(await r.arrayBuffer()) };
  }

  /** Asks the server whether the stream is live and carries video. */
  async #poll() {
    try {
      const r = await fetch('/api/streams', { cache: 'no-store' });
      /** @type {{name: string, live: boolean, media: boolean, viewers: number}[]} */
      const list = await r.json();
      const s = list.find((x) => x.name === this.#stream);
      this.#live = !!s?.live;
      if (s) this.#hasMedia = s.media;
    } catch {
      /* the next poll will tell */
    }
  }

  #tick() {
    const p = this.#player?.stats ?? null;
    this.#hook.player = p;
    const q = this.#video.getVideoPlaybackQuality?.();
    this.#hook.video = {
      currentTime: this.#video.currentTime, decoded: q?.totalVideoFrames ?? 0, dropped: q?.droppedVideoFrames ?? 0,
      ranges: this.#video.buffered.length, restarts: this.restarts,
    };
    if (p) this.#controls?.update(p);
    const recent = Date.now() - this.#lastChunkAt < 4000;
    /** @type {MediaState} */
    let state;
    if (this.#hasMedia === false && recent) {
      state = 'nomedia';
      this.#note.textContent = 'This is a test stream without video: the swarm numbers show it being delivered.';
    } else if (p?.state === 'error') {
      state = 'error';
      this.#note.textContent = `Playback failed: ${p.error}`;
    } else if (!recent && !this.#live) {
      state = 'offline';
      this.#note.textContent = this.#offlineNote;
    } else if (p?.state === 'playing' && !this.#video.paused && recent) {
      state = 'playing';
    } else if (this.#video.paused && p && p.appended > 0) {
      state = 'paused';
      this.#note.textContent = '';
    } else {
      state = 'waiting';
      this.#note.textContent = 'Waiting for the stream…';
    }
    this.#root.dataset.state = state;
    if (state !== this.state) {
      this.state = state;
      this.onState(state);
    }
  }
}
