// @ts-check
/**
 * HTTPFeed plays a stream from plain HTTP while the wasm peer loads: the
 * first request (GET /api/streams/<name>/media) returns the chunks from
 * the newest keyframe to the newest chunk, each next one (?from=<next>)
 * waits on the server for chunks not cut yet. It needs no wasm and no
 * WebRTC, so the first frame does not wait for either; the page stops it
 * once the swarm delivers (see lib/start.js).
 *
 *     const feed = new HTTPFeed('demo', (c) => player.push(c));
 *     feed.start();
 *     ...
 *     feed.stop(); // feed.next: the first chunk it did not deliver
 *
 * @module
 */

import { takeEarly, mediaURL } from './stream-name.js';

/** @typedef {import('./player.js').MediaChunk} MediaChunk */

/** Wait after an error or while the stream is offline, ms. */
const RETRY_MS = 1000;

export class HTTPFeed {
  #url;
  #onChunk;
  /** @type {AbortController | null} */
  #abort = null;
  /** @type {number | null} the next chunk to ask for */
  next = null;
  /** server clock minus ours (ms), from the answers' X-Shoal-Server-Time */
  clockOffsetMs = 0;
  /** round trip of the answer clockOffsetMs came from (ms) */
  #offsetRTT = Infinity;
  /** chunks and bytes delivered */
  chunks = 0;
  bytes = 0;

  /**
   * @param {string} stream
   * @param {(c: MediaChunk & {from: 'http'}) => void} onChunk
   */
  constructor(stream, onChunk) {
    this.#url = mediaURL(stream);
    this.#onChunk = onChunk;
  }

  get running() {
    return this.#abort !== null;
  }

  /** Starts following the stream; a second call does nothing. */
  start() {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#run(abort.signal).catch((err) => {
      if (!abort.signal.aborted) console.warn('httpfeed:', err);
    });
  }

  /** Stops following; a request in flight is abandoned. */
  stop() {
    this.#abort?.abort();
    this.#abort = null;
  }

  /** @param {AbortSignal} signal */
  async #run(signal) {
    while (!signal.aborted) {
      const url = this.next === null ? this.#url : `${this.#url}?from=${this.next}`;
      const early = takeEarly(url); // the page's first request, started by lib/early.js
      const sent = early?.sentAt ?? Date.now();
      let r;
      try {
        // High priority: the page's other fetches (the wasm peer above all) wait.
        r = await (early?.response ?? fetch(url, { cache: 'no-store', signal, priority: 'high' }));
      } catch (err) {
        if (signal.aborted) return;
        await sleep(RETRY_MS, signal);
        continue;
      }
      if (r.status === 204) continue; // nothing cut for a while: ask again
      if (r.status === 410) { // lost track (or the origin restarted): from the live edge again
        this.next = null;
        continue;
      }
      if (!r.ok) { // offline, rate-limited, or the server is restarting
        await sleep(RETRY_MS, signal);
        continue;
      }
      const index = r.headers.get('X-Shoal-Chunks') ?? '';
      const body = new Uint8Array(await r.arrayBuffer());
      if (signal.aborted) return;
      const server = Number(r.headers.get('X-Shoal-Server-Time'));
      // The offset from the quickest round trip: a long poll's answer
      // waited on the server, and a busy page reads any answer late, both
      // of which would put the server's clock in the middle of the wait.
      const rtt = Date.now() - sent;
      if (server > 0 && rtt <= this.#offsetRTT) {
        this.#offsetRTT = rtt;
        this.clockOffsetMs = server - (sent + Date.now()) / 2;
      }
      let at = 0;
      for (const entry of index.split(',')) {
        const [seq, timestamp, flags, size] = entry.split(':').map(Number);
        if (!(size >= 0) || at + size > body.length) break; // a malformed answer: ask again from next
        const data = body.subarray(at, at + size);
        at += size;
        this.next = seq + 1;
        this.chunks++;
        this.bytes += size;
        this.#onChunk({ seq, timestamp, keyframe: (flags & 1) !== 0, discontinuity: (flags & 2) !== 0, data, from: 'http' });
        if (signal.aborted) return;
      }
    }
  }
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(undefined); }, { once: true });
  });
}
