// Runs the shared player vectors (tools/swarmsim/playmodel/testdata/vectors.json,
// which package playmodel's Go test runs too) against frontend/lib/player.js,
// with a fake video element, MediaSource and SourceBuffer on a mocked clock.
//
//     node --test frontend/test/
//
// The fake video plays what is buffered at its playbackRate, fires
// 'waiting' when the playhead runs out of media and 'playing' when it can
// go on, as a browser does; the player's 200 ms timer and Date.now() run
// on node:test's mock timers, stepped 10 ms at a time.

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const vectors = JSON.parse(readFileSync(new URL('../../tools/swarmsim/playmodel/testdata/vectors.json', import.meta.url), 'utf8'));
const IV = vectors.intervalMs / 1000; // seconds of media per chunk
const STEP_MS = 10;
const EPS = 1e-9;

/** Buffered ranges, [start, end) in seconds, sorted and merged. */
class Ranges {
  /** @type {[number, number][]} */
  list = [];
  add(s, e) {
    this.list.push([s, e]);
    this.list.sort((a, b) => a[0] - b[0]);
    const out = [];
    for (const r of this.list) {
      const last = out[out.length - 1];
      if (last && r[0] <= last[1] + EPS) last[1] = Math.max(last[1], r[1]);
      else out.push([...r]);
    }
    this.list = out;
  }
  remove(s, e) {
    const out = [];
    for (const [a, b] of this.list) {
      if (b <= s || a >= e) { out.push([a, b]); continue; }
      if (a < s) out.push([a, s]);
      if (b > e) out.push([e, b]);
    }
    this.list = out;
  }
  /** A TimeRanges as the media elements give it. */
  view() {
    const l = this.list.map((r) => [...r]);
    return { length: l.length, start: (i) => l[i][0], end: (i) => l[i][1] };
  }
  at(t) {
    return this.list.find(([a, b]) => t >= a - EPS && t < b - EPS);
  }
}

class FakeSourceBuffer extends EventTarget {
  mode = 'sequence';
  updating = false;
  ranges = new Ranges();
  get buffered() { return this.ranges.view(); }
  /** @param {Uint8Array} data  an init segment (1 byte) or chunks (4 bytes each: the sequence number) */
  appendBuffer(data) {
    if (this.updating) throw new DOMException('busy', 'InvalidStateError');
    if (data.length % 4 === 0) {
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < data.length; i += 4) {
        const seq = v.getUint32(i);
        this.ranges.add(seq * IV, (seq + 1) * IV);
      }
    }
    this.#finish();
  }
  remove(s, e) {
    if (this.updating) throw new DOMException('busy', 'InvalidStateError');
    this.ranges.remove(s, e);
    this.#finish();
  }
  changeType() {}
  #finish() {
    this.updating = true;
    queueMicrotask(() => { this.updating = false; this.dispatchEvent(new Event('updateend')); });
  }
}

class FakeMediaSource extends EventTarget {
  /** @type {FakeSourceBuffer | null} */
  sb = null;
  static isTypeSupported() { return true; }
  addSourceBuffer() { this.sb = new FakeSourceBuffer(); return this.sb; }
}

const objectURLs = new Map();
let nextURL = 0;

/** A video element that plays what its MediaSource holds. */
class FakeVideo extends EventTarget {
  /** @type {FakeMediaSource | null} */
  ms = null;
  srcURL = '';
  paused = true;
  playbackRate = 1;
  #t = 0;
  #waiting = true; // no frame shown yet, or out of media
  seeks = 0;
  /** @type {(kind: string, seq: number) => void} */
  onDecision = () => {};
  firstFrame = false;
  lastPlayed = -1;

  get src() { return this.srcURL; }
  set src(url) {
    this.srcURL = url;
    this.ms = objectURLs.get(url) ?? null;
    const ms = this.ms;
    if (ms) queueMicrotask(() => ms.dispatchEvent(new Event('sourceopen')));
  }
  removeAttribute(name) { if (name === 'src') { this.srcURL = ''; this.ms = null; } }
  load() {}
  play() { this.paused = false; return Promise.resolve(); }
  get buffered() { return this.ms?.sb?.buffered ?? new Ranges().view(); }
  get currentTime() { return this.#t; }
  set currentTime(t) {
    const from = this.#t;
    this.#t = t;
    this.lastPlayed = -1; // what plays next starts a run
    if (this.seeks++ === 0) return; // the start
    const r = this.ms?.sb?.ranges;
    const hop = r && r.list.some(([a]) => a > from && Math.abs(t - (a + 0.01)) < 1e-6);
    if (!hop) this.onDecision('jump', Math.floor(t / IV + EPS));
  }

  /** Plays dtMs of wall time. */
  advance(dtMs) {
    if (this.paused) return;
    const r = this.ms?.sb?.ranges.at(this.#t);
    if (!r) {
      if (!this.#waiting) {
        this.#waiting = true;
        this.dispatchEvent(new Event('waiting'));
        if (this.firstFrame) this.onDecision('wait', Math.floor(this.#t / IV + EPS));
      }
      return;
    }
    if (this.#waiting) {
      this.#waiting = false;
      this.firstFrame = true;
      this.dispatchEvent(new Event('playing'));
    }
    const to = Math.min(r[1], this.#t + (dtMs / 1000) * this.playbackRate);
    for (let c = Math.floor(this.#t / IV + EPS); c * IV < to - EPS; c++) {
      if (c !== this.lastPlayed) this.onDecision('play', c);
      this.lastPlayed = c;
    }
    this.#t = to;
  }
}

/** Expands a vector's arrivals: [atMs, seq] in time, then sequence, order. */
function arrivals(v) {
  const at = new Map();
  if (v.backlog) for (let k = v.backlog.from; k <= v.backlog.to; k++) at.set(k, v.backlog.atMs);
  if (v.live) for (let k = v.live.from; k <= v.live.to; k++) at.set(k, (k + 1) * vectors.intervalMs + v.live.delayMs);
  if (v.burst) for (let k = v.burst.from; k <= v.burst.to; k++) at.set(k, v.burst.atMs);
  for (const k of v.lost ?? []) at.delete(k);
  return [...at].map(([seq, ms]) => [ms, seq]).filter(([ms]) => ms <= v.untilMs).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function chunkData(seq) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, seq);
  return b;
}

/** Runs player.js on v and lists its decisions as the vectors spell them. */
async function decisions(LivePlayer, v) {
  const log = [];
  let nextPlay = -1; // the chunk after the last played
  const video = new FakeVideo();
  video.onDecision = (kind, seq) => {
    if (kind === 'play') {
      if (seq !== nextPlay) log.push(`play ${seq}`);
      nextPlay = seq + 1;
    } else {
      log.push(`${kind} ${seq}`); // after a jump, the next play starts a run
    }
  };
  const player = new LivePlayer(/** @type {any} */ (video), {
    fetchInit: async () => ({ mime: 'video/mp4; codecs="avc1.64001f"', data: new Uint8Array(1) }),
    serverNow: () => Date.now(),
  });
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  const queue = arrivals(v);
  let joined = false;
  let skipped = 0;
  try {
    for (let now = 0; now <= v.untilMs; now += STEP_MS) {
      const nextBefore = player.next;
      if (now > 0) mock.timers.tick(STEP_MS); // the player's 200 ms look, Date.now()
      await flush();
      const s = player.stats;
      if (s.skipped > skipped) {
        log.push(`skip ${nextBefore}-${nextBefore + s.skipped - skipped - 1}`);
        skipped = s.skipped;
      }
      while (queue.length > 0 && queue[0][0] <= now) {
        const [, seq] = queue.shift();
        player.push({ seq, timestamp: (seq + 1) * vectors.intervalMs, keyframe: seq % vectors.keyEvery === 0, discontinuity: false, data: chunkData(seq) });
      }
      await flush();
      if (!joined && player.stats.join) {
        joined = true;
        log.push(`join ${player.stats.join.seq}`);
      }
      video.advance(STEP_MS);
      await flush();
    }
  } finally {
    player.destroy();
  }
  assert.equal(player.stats.state === 'error', false, `player error: ${player.stats.error}`);
  return log;
}

globalThis.MediaSource = /** @type {any} */ (FakeMediaSource);
URL.createObjectURL = (obj) => {
  const url = `blob:fake/${nextURL++}`;
  objectURLs.set(url, obj);
  return url;
};
URL.revokeObjectURL = (url) => { objectURLs.delete(url); };

for (const v of vectors.vectors) {
  test(v.name, async () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
    try {
      const { LivePlayer } = await import('../lib/player.js');
      const got = await decisions(LivePlayer, v);
      assert.deepEqual(got, v.want, `${v.name}: decisions ${got.join(', ')}`);
    } finally {
      mock.timers.reset();
    }
  });
}

// A viewer back after a server restart gets the new run of the origin from
// its newest keyframe: the chunk flagged as the run's first never comes.
// The jump in sequence numbers (the origin numbers from its start time in
// milliseconds) must still start a fresh MediaSource with the new init
// segment, or the new timeline lands behind the playhead.
test('a new run of the origin without its flagged chunk starts a fresh MediaSource', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  const { LivePlayer } = await import('../lib/player.js');
  const video = new FakeVideo();
  let inits = 0;
  const player = new LivePlayer(/** @type {any} */ (video), {
    fetchInit: async () => { inits++; return { mime: 'video/mp4; codecs="avc1.64001f"', data: new Uint8Array(1) }; },
    serverNow: () => Date.now(),
  });
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  const run = async (first, count, t0) => {
    for (let k = 0; k < count; k++) {
      const ts = t0 + k * vectors.intervalMs;
      mock.timers.tick(Math.max(0, ts - Date.now()));
      await flush();
      player.push({ seq: first + k, timestamp: ts, keyframe: k % vectors.keyEvery === 0, discontinuity: false, data: chunkData(first + k) });
      await flush();
      video.advance(vectors.intervalMs);
      await flush();
    }
  };
  try {
    await run(1_000, 40, 1_000); // the first run
    const first = video.ms;
    assert.equal(inits, 1);
    // The server restarts 3 s later and numbers from its start time: the
    // viewer's first chunk of the new run is its second keyframe.
    await run(1_000 + 40 + 8_000, 40, 1_000 + 40 * vectors.intervalMs + 3_000);
    assert.equal(inits, 2, 'the new run fetched its init segment');
    assert.notEqual(video.ms, first, 'a fresh MediaSource for the new run');
    // (Chunks lost within a run are no new run: the vectors above lose
    // some, and a fresh MediaSource there would change their decisions.)
  } finally {
    player.destroy();
    mock.timers.reset();
  }
});
