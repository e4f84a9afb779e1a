// @ts-check
/**
 * LivePlayer plays a Shoal stream's CMAF chunks with Media Source Extensions,
 * near the live edge.
 *
 * Chunks arrive from the swarm in any order. The player:
 *  - joins at the newest keyframe chunk it has seen shortly after the first
 *    chunk arrives (every keyframe chunk starts a fragment a decoder can
 *    start from);
 *  - appends chunks in sequence order after the stream's init segment;
 *  - skips a chunk still missing after `gapMs` to the next keyframe chunk,
 *    and jumps the playhead over the hole, so a lost chunk never stalls
 *    playback for good;
 *  - keeps the playhead `targetLatency` seconds behind live with gentle
 *    playbackRate changes, and jumps when far behind;
 *  - on a chunk flagged as a discontinuity (the broadcaster reconnected),
 *    fetches the new init segment first.
 *
 * Usage:
 *
 *     const player = new LivePlayer(video, { fetchInit, serverNow });
 *     onChunk = (c) => player.push(c); // c: {seq, timestamp, keyframe, discontinuity, data}
 *
 * @module
 */

/**
 * @typedef {object} MediaChunk
 * @property {number} seq
 * @property {number} timestamp   server clock (unix ms) when the fragment was cut
 * @property {boolean} keyframe
 * @property {boolean} discontinuity
 * @property {Uint8Array<ArrayBuffer>} data
 */

/**
 * @typedef {object} InitSegment
 * @property {string} mime  e.g. `video/mp4; codecs="avc1.64001f,mp4a.40.2"`
 * @property {Uint8Array<ArrayBuffer>} data
 */

/**
 * @typedef {object} PlayerStats
 * @property {'waiting' | 'playing' | 'stalled' | 'error'} state
 * @property {number | null} latency   seconds behind live at the playhead
 * @property {number} buffered         seconds buffered ahead of the playhead
 * @property {number} appended         chunks appended
 * @property {number} skipped          chunks skipped as lost
 * @property {number} stalls           times playback waited for data after it started
 * @property {number} stalledMs        total time spent waiting after start
 * @property {number} maxStallMs       longest wait after start
 * @property {number | null} firstFrameAt Date.now() when the first frame played
 * @property {number} targetLatency  seconds behind live the player aims for now
 * @property {{seq: number, ageMs: number | null, held: number} | null} join  where it joined: the keyframe chunk, its age then, and how many chunks it held
 * @property {string | null} error
 */

// Adaptive target latency: a stall moves the target back by STALL_STEP
// seconds, up to MAX_TARGET; CALM_MS without one moves it forward by
// CALM_STEP, down to the configured target. Stalls come in bursts (a
// swarm forming, a busy machine): two cost 0.5 s, won back in 50 s (it
// was 150 s, with CALM_MS at 30 s, which held four tabs on two cores
// 2.6 s behind live over 3 minutes).
const STALL_STEP = 0.25;
const MAX_TARGET = 4;
const CALM_MS = 10_000;
const CALM_STEP = 0.1;
// The playhead speeds up once this many seconds over the target, until it
// is back at the target.
const CATCH_UP = 0.25;
// The join point may be this many seconds nearer live than the target.
const JOIN_SLACK = 0.5;
// The playhead jumps to the target when more than FAR_JUMP seconds behind
// it, or START_JUMP in the first START_WINDOW_MS of playback.
const FAR_JUMP = 6;
const START_JUMP = 1;
const START_WINDOW_MS = 5000;
// Media kept behind the playhead (seconds), trimmed once TRIM_SLACK more
// has gathered; after a QuotaExceededError, only QUOTA_KEEP_BEHIND.
const KEEP_BEHIND = 30;
const TRIM_SLACK = 10;
const QUOTA_KEEP_BEHIND = 5;
// Most chunks appended at once (8 s of 125 ms chunks).
const MAX_BATCH = 64;
// A chunk missing before a new run of the stream is given up after this.
const NEW_RUN_GAP_MS = 300;

export class LivePlayer {
  /** @type {HTMLVideoElement} */
  #video;
  /** @type {() => Promise<InitSegment>} */
  #fetchInit;
  /** @type {() => number} */
  #serverNow;
  #targetLatency;
  #gapMs;
  #joinWaitMs;

  /** @type {MediaSource | null} */
  #ms = null;
  /** @type {SourceBuffer | null} */
  #sb = null;
  /** @type {string | null} */
  #mime = null;
  /** @type {Map<number, MediaChunk>} chunks waiting to be appended */
  #pending = new Map();
  /** @type {number | null} next sequence number to append */
  #next = null;
  /** @type {number | null} */
  #firstChunkAt = null;
  /** @type {number | null} since when #next has been missing */
  #missingSince = null;
  #busy = false;
  /** playing fast until back at the target */
  #catchingUp = false;
  /** @type {Promise<void> | null} warm() at work */
  #warming = null;
  /** @type {{mediaEnd: number, timestamp: number} | null} newest appended chunk */
  #edge = null;
  /** @type {{seq: number, timestamp: number} | null} the last chunk appended */
  #last = null;
  /** @type {number | null} */
  #stallStart = null;
  #baseTarget;
  #calmSince = Date.now();
  #appendedInSource = 0; // chunks appended to the current MediaSource
  /** @type {PlayerStats} */
  #stats = {
    state: 'waiting', latency: null, targetLatency: 0, join: null, buffered: 0, appended: 0, skipped: 0,
    stalls: 0, stalledMs: 0, maxStallMs: 0, firstFrameAt: null, error: null,
  };
  /** @type {ReturnType<typeof setInterval>} */
  #timer;

  /**
   * @param {HTMLVideoElement} video
   * @param {object} opts
   * @param {() => Promise<InitSegment>} opts.fetchInit  the stream's current init segment
   * @param {() => number} opts.serverNow                the server's clock, unix ms
   * @param {number} [opts.targetLatency]  seconds behind live to aim for (default 1.5)
   * @param {number} [opts.gapMs]          wait this long for a missing chunk (default 1500: longer than the
   *                                       engine takes to fetch over HTTP what no peer brought)
   * @param {number} [opts.joinWaitMs]     gather chunks this long before choosing where to join (default 150)
   */
  constructor(video, { fetchInit, serverNow, targetLatency = 1.5, gapMs = 1500, joinWaitMs = 150 }) {
    this.#video = video;
    this.#fetchInit = fetchInit;
    this.#serverNow = serverNow;
    this.#targetLatency = targetLatency;
    this.#baseTarget = targetLatency;
    this.#gapMs = gapMs;
    this.#joinWaitMs = joinWaitMs;
    video.addEventListener('waiting', () => this.#onWaiting());
    video.addEventListener('playing', () => this.#onPlaying());
    this.#timer = setInterval(() => this.#tick(), 200);
  }

  /** @returns {PlayerStats} */
  get stats() {
    return { ...this.#stats };
  }

  /** The next chunk the player needs; null before it chose where to join. */
  get next() {
    return this.#next;
  }

  /**
   * Opens the media source and appends the init segment before any chunk
   * is here, so that the first chunk plays at once. A failure (no video
   * yet) is not one: the first chunk tries again.
   */
  warm() {
    if (this.#sb !== null || this.#warming) return;
    this.#warming = this.#init()
      .catch(() => this.#resetMedia())
      .finally(() => { this.#warming = null; });
  }

  /** Moves the playhead back to the target latency behind live. */
  goLive() {
    const b = this.#video.buffered;
    if (b.length > 0) this.#video.currentTime = Math.max(b.start(b.length - 1), b.end(b.length - 1) - this.#targetLatency);
  }

  /** Stops the player and frees the media source. */
  destroy() {
    clearInterval(this.#timer);
    this.#pending.clear();
    if (this.#video.src) URL.revokeObjectURL(this.#video.src);
    this.#video.removeAttribute('src');
  }

  /**
   * Hands the player one chunk, in any order.
   * @param {MediaChunk} c
   */
  push(c) {
    if (this.#stats.state === 'error') return;
    if (this.#next !== null && c.seq < this.#next) return; // too late
    this.#pending.set(c.seq, c);
    this.#firstChunkAt ??= Date.now();
    if (this.#pending.size > 400) this.#dropOldest(); // bounded: 50 s of 125 ms chunks
    this.#pump();
  }

  /** Appends whatever is next in order; one append at a time. */
  async #pump() {
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.#next === null && !this.#chooseJoin()) return;
      for (;;) {
        const c = this.#next === null ? undefined : this.#pending.get(this.#next);
        if (!c) break;
        // After a reconnect the broadcaster's timeline restarts: start a
        // fresh MediaSource, as a new viewer would.
        if ((c.discontinuity || this.#newRun(c)) && this.#sb !== null) this.#resetMedia();
        if (this.#warming) await this.#warming;
        if (this.#sb === null) await this.#init();
        // Every chunk in order that is here goes in one append: at the
        // start that is the whole way from the join keyframe to live, and
        // each append costs the page's main thread a round of events.
        const run = [c];
        for (let seq = c.seq + 1; run.length < MAX_BATCH; seq++) {
          const d = this.#pending.get(seq);
          if (!d || d.discontinuity) break;
          run.push(d);
        }
        for (const d of run) this.#pending.delete(d.seq);
        await this.#append(run);
        this.#next = c.seq + run.length;
        this.#missingSince = null;
      }
      if (this.#pending.size > 0 && this.#missingSince === null) this.#missingSince = Date.now();
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Picks where to start once chunks have gathered for joinWaitMs: the
   * newest keyframe chunk at least JOIN_SLACK short of the target latency
   * behind live (starting nearer live would only stall when the swarm's
   * pushes come), else the oldest keyframe chunk held.
   * @returns {boolean} whether a start was chosen
   */
  #chooseJoin() {
    if (this.#firstChunkAt === null || Date.now() - this.#firstChunkAt < this.#joinWaitMs) return false;
    const now = this.#serverNow();
    let best = null;
    let oldest = null;
    for (const c of this.#pending.values()) {
      if (!c.keyframe) continue;
      if (oldest === null || c.seq < oldest) oldest = c.seq;
      const age = (now - c.timestamp) / 1000;
      if (age >= this.#targetLatency - JOIN_SLACK && (best === null || c.seq > best)) best = c.seq;
    }
    best ??= oldest;
    if (best === null) return false;
    const chosen = this.#pending.get(best);
    this.#stats.join = { seq: best, ageMs: chosen ? now - chosen.timestamp : null, held: this.#pending.size };
    for (const seq of this.#pending.keys()) if (seq < best) this.#pending.delete(seq);
    this.#next = best;
    return true;
  }

  /**
   * Whether c begins a new run of the origin that no flag announced: a
   * viewer back after a server restart gets the new run from its newest
   * keyframe, not the flagged chunk that began it, and appended to the
   * old MediaSource the new run's timeline (from 0 again) sat behind the
   * playhead until it caught up — 25 s of frozen picture after a restart
   * 25 s into the stream. An origin numbers its chunks from its start
   * time in milliseconds (docs/PROTOCOL.md §4), so from one run to the
   * next the number jumps by more than the milliseconds between the two
   * chunks' timestamps, which within a run it never does (a chunk lasts
   * far longer than a millisecond).
   * @param {MediaChunk} c
   */
  #newRun(c) {
    return this.#last !== null && c.seq - this.#last.seq > Math.max(1, c.timestamp - this.#last.timestamp);
  }

  /** Drops the MediaSource; the next chunk builds a new one. */
  #resetMedia() {
    if (this.#video.src) URL.revokeObjectURL(this.#video.src);
    this.#video.removeAttribute('src');
    this.#video.load();
    this.#ms = null;
    this.#sb = null;
    this.#mime = null;
    this.#edge = null;
    this.#appendedInSource = 0;
  }

  /** Fetches the init segment and sets up (or re-sets) the source buffer. */
  async #init() {
    const fetching = this.#fetchInit();
    fetching.catch(() => {}); // awaited below; not unhandled meanwhile
    if (this.#ms === null) {
      // The media source opens while the init segment is on its way.
      const ms = new MediaSource();
      this.#ms = ms;
      this.#video.src = URL.createObjectURL(ms);
      await new Promise((resolve) => ms.addEventListener('sourceopen', resolve, { once: true }));
    }
    const init = await fetching;
    if (!MediaSource.isTypeSupported(init.mime)) {
      throw new Error(`this browser cannot play ${init.mime}`);
    }
    if (this.#sb === null) {
      this.#sb = /** @type {MediaSource} */ (this.#ms).addSourceBuffer(init.mime);
      this.#sb.mode = 'segments';
    } else if (init.mime !== this.#mime) {
      this.#sb.changeType(init.mime);
    }
    this.#mime = init.mime;
    await this.#appendBytes(init.data);
  }

  /** @param {MediaChunk[]} run  consecutive chunks */
  async #append(run) {
    await this.#appendBytes(run.length === 1 ? run[0].data : concat(run));
    const b = this.#sb?.buffered;
    const last = run[run.length - 1];
    if (b && b.length > 0) this.#edge = { mediaEnd: b.end(b.length - 1), timestamp: last.timestamp };
    this.#last = { seq: last.seq, timestamp: last.timestamp };
    this.#stats.appended += run.length;
    this.#appendedInSource += run.length;
    if (this.#appendedInSource === run.length) {
      const start = b && b.length > 0 ? b.start(0) : 0;
      this.#video.currentTime = start;
      this.#video.play().catch(() => {}); // autoplay policy may refuse unmuted play
    }
  }

  /**
   * Appends one segment. Media far behind the playhead is removed first,
   * as an operation of its own: a SourceBuffer takes one append or remove
   * at a time, and starting an append while a remove runs throws (that
   * was a hole every 10 s once 40 s had played). A full buffer
   * (QuotaExceededError) is trimmed harder and the append tried once more.
   * @param {Uint8Array<ArrayBuffer>} data  (appendBuffer takes no view of a SharedArrayBuffer)
   */
  async #appendBytes(data) {
    await this.#trim(KEEP_BEHIND);
    try {
      await this.#update((sb) => sb.appendBuffer(data));
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'QuotaExceededError')) throw err;
      await this.#trim(QUOTA_KEEP_BEHIND);
      await this.#update((sb) => sb.appendBuffer(data));
    }
  }

  /**
   * Removes media more than `keep` seconds behind the playhead, to bound
   * memory; it waits until TRIM_SLACK more has gathered, so that it runs
   * every few seconds, not at each append.
   * @param {number} keep
   */
  async #trim(keep) {
    const sb = this.#sb;
    const t = this.#video.currentTime;
    if (!sb || sb.buffered.length === 0) return;
    const start = sb.buffered.start(0);
    if (t - start < keep + (keep === KEEP_BEHIND ? TRIM_SLACK : 0)) return;
    await this.#update((b) => b.remove(0, t - keep));
  }

  /**
   * Runs one SourceBuffer operation and waits for its updateend.
   * @param {(sb: SourceBuffer) => void} op
   */
  async #update(op) {
    const sb = /** @type {SourceBuffer} */ (this.#sb);
    if (sb.updating) await new Promise((resolve) => sb.addEventListener('updateend', resolve, { once: true }));
    await new Promise((resolve, reject) => {
      const done = () => { sb.removeEventListener('error', fail); resolve(undefined); };
      const fail = () => { sb.removeEventListener('updateend', done); reject(new Error('media append failed')); };
      sb.addEventListener('updateend', done, { once: true });
      sb.addEventListener('error', fail, { once: true });
      try {
        op(sb);
      } catch (err) {
        sb.removeEventListener('updateend', done);
        sb.removeEventListener('error', fail);
        reject(err);
      }
    });
  }

  /** Every 200 ms: skip lost chunks, hop over holes, steer latency. */
  #tick() {
    if (this.#stats.state === 'error') return;
    // A chunk missing too long: skip to the next keyframe we hold. When a
    // new run of the stream has begun (a chunk flagged discontinuity: the
    // broadcaster reconnected, or the server restarted and numbers from
    // higher up) what is missing before it will not come: skip sooner.
    const waited = this.#missingSince === null ? 0 : Date.now() - this.#missingSince;
    if (this.#next !== null && this.#missingSince !== null && !this.#busy && !this.#pending.has(this.#next) &&
        (waited > this.#gapMs || (waited > NEW_RUN_GAP_MS && [...this.#pending.values()].some((c) => c.discontinuity || this.#newRun(c))))) {
      const keys = [...this.#pending.values()].filter((c) => c.keyframe && c.seq > (this.#next ?? 0)).map((c) => c.seq);
      if (keys.length > 0) {
        const to = Math.min(...keys);
        this.#stats.skipped += to - this.#next;
        for (const seq of this.#pending.keys()) if (seq < to) this.#pending.delete(seq);
        this.#next = to;
        this.#missingSince = null;
        this.#pump();
      }
    } else if (this.#next === null) {
      this.#pump(); // still choosing where to join
    }

    const v = this.#video;
    const b = v.buffered;
    if (b.length === 0) return;
    // Hop over a hole left by skipped chunks.
    for (let i = 0; i < b.length - 1; i++) {
      if (v.currentTime >= b.end(i) - 0.15 && v.currentTime < b.start(i + 1)) {
        v.currentTime = b.start(i + 1) + 0.01;
        break;
      }
    }
    const end = b.end(b.length - 1);
    this.#stats.buffered = Math.max(0, end - v.currentTime);
    if (this.#edge) {
      const live = this.#edge.mediaEnd + (this.#serverNow() - this.#edge.timestamp) / 1000;
      const latency = live - v.currentTime;
      this.#stats.latency = latency;
      // Far behind: jump. In the first seconds of playback "far" is 1 s: a
      // tab busy loading may join at a point the stream has long passed,
      // and a seek before the viewer settles in beats a minute at 1.1x.
      const settling = this.#stats.firstFrameAt === null || Date.now() - this.#stats.firstFrameAt < START_WINDOW_MS;
      const far = settling ? START_JUMP : FAR_JUMP;
      if (latency > this.#targetLatency + far && end - this.#targetLatency > v.currentTime) {
        v.currentTime = Math.max(v.currentTime, end - this.#targetLatency);
      } else if (!v.paused) {
        // Gentle: up to 10% fast to catch up while there is buffer to
        // spend, from CATCH_UP over the target down to the target itself
        // (stopping at CATCH_UP over, the player sat there: 0.25 s later
        // than it aimed), 5% slow when the buffer runs thin (better than a
        // stall).
        const over = latency - this.#targetLatency;
        let rate = 1.0;
        if (this.#stats.buffered > 1.0 && (over > CATCH_UP || (this.#catchingUp && over > 0))) rate = 1.1;
        else if (this.#stats.buffered < 0.25) rate = 0.95;
        this.#catchingUp = rate > 1;
        if (v.playbackRate !== rate) v.playbackRate = rate;
      }
    }
    if (this.#stallStart !== null) {
      const d = Date.now() - this.#stallStart;
      this.#stats.maxStallMs = Math.max(this.#stats.maxStallMs, d);
    } else if (Date.now() - this.#calmSince > CALM_MS && this.#targetLatency > this.#baseTarget) {
      this.#targetLatency = Math.max(this.#baseTarget, this.#targetLatency - CALM_STEP);
      this.#calmSince = Date.now();
    }
    this.#stats.targetLatency = this.#targetLatency;
  }

  #onWaiting() {
    if (this.#stats.state === 'error' || this.#stats.firstFrameAt === null) return; // start-up is not a stall
    this.#stallStart ??= Date.now();
    this.#stats.state = 'stalled';
  }

  #onPlaying() {
    if (this.#stats.state === 'error') return; // an error stays until the page starts a new player
    if (this.#stats.firstFrameAt === null) {
      this.#stats.firstFrameAt = Date.now();
    }
    if (this.#stallStart !== null) {
      const d = Date.now() - this.#stallStart;
      // Each stall says the swarm delivers later than we play: sit a
      // little further back (up to 4 s), and creep forward again after
      // CALM_MS without one (see #tick). tools/swarmsim models the same.
      this.#targetLatency = Math.min(MAX_TARGET, this.#targetLatency + STALL_STEP);
      this.#calmSince = Date.now();
      this.#stats.stalls++;
      this.#stats.stalledMs += d;
      this.#stats.maxStallMs = Math.max(this.#stats.maxStallMs, d);
      this.#stallStart = null;
    }
    this.#stats.state = 'playing';
  }

  #dropOldest() {
    const oldest = Math.min(...this.#pending.keys());
    this.#pending.delete(oldest);
  }

  /** @param {unknown} err */
  #fail(err) {
    this.#stats.state = 'error';
    this.#stats.error = err instanceof Error ? err.message : String(err);
    console.error('player:', err);
  }
}

/**
 * The chunks' bytes back to back.
 * @param {MediaChunk[]} run
 */
function concat(run) {
  let n = 0;
  for (const c of run) n += c.data.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of run) {
    out.set(c.data, at);
    at += c.data.length;
  }
  return out;
}
