// @ts-check
/**
 * Shoal wasm loader: one concern, getting `globalThis.Shoal` ready.
 *
 * The swarm logic is a Go program compiled to WebAssembly. Loading it takes
 * three steps, all done here once per page:
 *
 *  1. inject Go's `wasm_exec.js` (a classic script that defines `globalThis.Go`);
 *  2. stream-compile `shoal.wasm` and start the Go program (`go.run` resolves
 *     only when the program exits, so it is never awaited);
 *  3. wait for the program to publish its API on `globalThis.Shoal`.
 *
 * Both files are fetched at the URLs the page preloads, when it does: the
 * server writes their fingerprinted paths (`/wasm/shoal.<hash>.wasm`,
 * `/wasm/wasm_exec.<hash>.js`) into the page's `<link rel="preload">`, and
 * serves those paths as immutable, so a returning viewer's browser takes
 * them from its cache without asking. A page without the preloads gets the
 * plain paths, which the browser revalidates (a 304 when nothing changed).
 *
 * Usage:
 *
 *     import { loadShoal } from './lib/shoal.js';
 *     const shoal = await loadShoal();
 *     const handle = await shoal.join({ stream: 'demo', onChunk: (c) => console.log(c.seq) });
 *     // later
 *     handle.leave();
 *
 * @module
 */

/**
 * An ICE server as RTCPeerConnection takes it.
 * @typedef {object} IceServer
 * @property {string | string[]} urls
 * @property {string} [username]
 * @property {string} [credential]
 */

/**
 * One chunk delivered to this viewer (first delivery only).
 * @typedef {object} ChunkInfo
 * @property {number} seq        chunk sequence number
 * @property {number} timestamp  origin clock, unix ms, when the chunk was produced
 * @property {number} size       payload bytes
 * @property {'peer' | 'origin'} from
 * @property {string} peer       id of the sending peer (the origin's id when from is "origin")
 * @property {boolean} keyframe  the chunk starts with a keyframe: a player can start there
 * @property {boolean} discontinuity  the chunk starts a new run of the stream (the broadcaster reconnected)
 * @property {Uint8Array<ArrayBuffer>} [data]  the chunk's bytes, with JoinOptions.wantData
 */

/**
 * Swarm counters, reported about every 500 ms.
 * @typedef {object} Stats
 * @property {string} id               this viewer's peer id
 * @property {number} peers            open data channels
 * @property {number} chunks           chunks delivered
 * @property {number} bytesFromPeers
 * @property {number} bytesFromOrigin
 * @property {number} chunksFromPeers
 * @property {number} chunksFromOrigin
 * @property {number} duplicates       chunks received more than once
 * @property {number} uploadedBytes    bytes this viewer relayed to others
 * @property {number} behindLiveMs     origin clock now minus timestamp of the newest delivered chunk
 * @property {number} newestSeq
 * @property {number} [clockOffsetMs]  server clock minus this one
 * @property {number} [memoryBytes]    all the peer's Go runtime has mapped (its wasm memory), read every 5 s
 * @property {number} [goHeapBytes]    live objects on the Go heap, read every 5 s
 */

/**
 * @typedef {object} JoinOptions
 * @property {string} stream
 * @property {string} [signalURL]      default ws(s)://<location.host>/api/signal
 * @property {IceServer[]} [iceServers]
 * @property {boolean} [wantData]      pass each chunk's bytes to onChunk (ChunkInfo.data)
 * @property {number} [startSeq]       the first chunk the page still needs (it played those before over HTTP); 0: the live edge
 * @property {boolean} [debug]         log every link, subscription and fetch to the console
 * @property {(info: ChunkInfo) => void} [onChunk]
 * @property {(stats: Stats) => void} [onStats]
 * @property {(s: {state: 'connecting' | 'joined' | 'reconnecting', detail: string}) => void} [onState]  the peer joins again by itself
 * @property {(message: string) => void} [onError]
 */

/**
 * @typedef {object} Handle
 * @property {() => void} leave
 * @property {(seq: number) => void} cover  the page's player has every chunk before seq (from its HTTP feed): the swarm need not bring them
 */

/**
 * The API the Go program publishes on `globalThis.Shoal`.
 * @typedef {object} ShoalAPI
 * @property {(opts: JoinOptions) => Promise<Handle>} join
 */

/**
 * @typedef {object} LoadOptions
 * @property {string} [execURL]    Go's JS glue; default the page's preload of it, else /wasm/wasm_exec.js
 * @property {string} [wasmURL]    the Go program; default the page's preload of it, else /wasm/shoal.wasm
 * @property {number} [timeoutMs]  how long to wait for globalThis.Shoal; default 10000 on the page, 30000 in a worker
 * @property {boolean} [inPage]    run the Go program on the page's main thread instead of a worker
 */

/** Default budget for the Go program to publish `globalThis.Shoal`. */
export const READY_TIMEOUT_MS = 10_000;
/**
 * The same in a worker: fetching, compiling and starting the module there
 * took 4-12 s with four tabs opening on two cores, and giving up is final
 * (the page then plays over HTTP for good), while a slow worker holds up
 * nothing on the page.
 */
const WORKER_READY_TIMEOUT_MS = 30_000;

const POLL_MS = 20;

/** @type {Promise<ShoalAPI> | null} */
let loading = null;

/** @type {Map<string, Promise<void>>} */
const scripts = new Map();

/**
 * Load the Shoal wasm program and return its API. Safe to call many times:
 * the program is loaded and started once per page, and a failure is final
 * (reload the page to try again — a half-started Go program cannot be rerun).
 *
 * @param {LoadOptions} [opts]
 * @returns {Promise<ShoalAPI>}
 */
export async function loadShoal(opts = {}) {
  loading ??= opts.inPage || typeof Worker !== 'function' ? load(opts) : loadInWorker(opts);
  return loading;
}

/** The worker that runs the Go program (lib/peer-worker.js), beside this module. */
const WORKER_URL = new URL('./peer-worker.js', import.meta.url).href;

/**
 * Runs the Go program in a dedicated worker (lib/peer-worker.js): its
 * compilation, start-up and every chunk it checks stay off the main thread.
 * The worker compiles the module itself (streaming, from the response the
 * page prefetched into the HTTP cache): compiling it on the page cost the
 * main thread long tasks while the first frame was due. The worker's
 * WebRTC calls come back here (lib/rtc-host.js).
 * @param {LoadOptions} opts
 * @returns {Promise<ShoalAPI>}
 */
async function loadInWorker({ execURL = servedURL('/wasm/wasm_exec.js'), wasmURL = servedURL('/wasm/shoal.wasm'), timeoutMs = WORKER_READY_TIMEOUT_MS }) {
  const { RTCHost } = await import('./rtc-host.js');
  const worker = new Worker(WORKER_URL, { name: 'shoal-peer' });
  const host = new RTCHost(worker);
  /** @type {Map<number, {opts: JoinOptions & Record<string, any>, resolve: (h: Handle) => void, reject: (e: Error) => void}>} */
  const joins = new Map();
  let nextJoin = 1;
  /** @type {(v: void) => void} */
  let ready = () => {};
  /** @type {(e: Error) => void} */
  let failed = () => {};
  const started = new Promise((resolve, reject) => { ready = resolve; failed = reject; });
  /** @param {() => void} fn */
  const guarded = (fn) => {
    try {
      fn();
    } catch (err) {
      console.error('shoal: callback failed:', err);
    }
  };
  worker.onmessage = (e) => {
    const m = e.data;
    const j = joins.get(m.jid);
    switch (m.t) {
      case 'rtc': host.handle(m); break;
      case 'ready': ready(); break;
      case 'failed': failed(new Error(`shoal: ${m.message}`)); break;
      case 'chunk': if (j) guarded(() => j.opts.onChunk?.(m.info)); break;
      case 'stats': if (j) guarded(() => j.opts.onStats?.(m.s)); break;
      case 'state': if (j) guarded(() => j.opts.onState?.(m.s)); break;
      case 'joined':
        j?.resolve({
          leave() {
            joins.delete(m.jid);
            worker.postMessage({ t: 'leave', jid: m.jid });
          },
          cover(seq) {
            worker.postMessage({ t: 'cover', jid: m.jid, seq });
          },
        });
        break;
      case 'joinFailed':
        joins.delete(m.jid);
        j?.reject(new Error(m.message));
        break;
    }
  };
  worker.onerror = (e) => {
    failed(new Error(`shoal: the peer worker failed: ${e.message}`));
    host.closeAll();
  };
  worker.postMessage({ t: 'start', execURL: new URL(execURL, location.href).href, wasmURL: new URL(wasmURL, location.href).href });
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  await Promise.race([
    started,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`shoal: the wasm program did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    join(opts) {
      const jid = nextJoin++;
      /** @type {Record<string, any>} */
      const plain = {};
      for (const [k, v] of Object.entries(opts)) if (typeof v !== 'function') plain[k] = v;
      return new Promise((resolve, reject) => {
        joins.set(jid, { opts, resolve, reject });
        worker.postMessage({ t: 'join', jid, opts: plain });
      });
    },
  };
}

/**
 * @param {LoadOptions} opts
 * @returns {Promise<ShoalAPI>}
 */
async function load({ execURL = servedURL('/wasm/wasm_exec.js'), wasmURL = servedURL('/wasm/shoal.wasm'), timeoutMs = READY_TIMEOUT_MS }) {
  const g = /** @type {any} */ (globalThis);
  if (g.Shoal) return g.Shoal;

  if (typeof g.Go !== 'function') {
    await injectScript(execURL);
    if (typeof g.Go !== 'function') {
      throw new Error(`shoal: ${execURL} loaded but did not define Go`);
    }
  }

  const go = new g.Go();
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject));
  } catch (err) {
    throw new Error(`shoal: loading ${wasmURL}: ${message(err)}`);
  }

  /** @type {unknown} */
  let exitErr = null;
  let exited = false;
  go.run(instance).then(
    () => { exited = true; },
    (/** @type {unknown} */ err) => { exited = true; exitErr = err; },
  );

  const deadline = performance.now() + timeoutMs;
  while (!g.Shoal) {
    if (exited) {
      const why = exitErr ? `: ${message(exitErr)}` : ` (exit code ${go.exitCode ?? 'unknown'})`;
      throw new Error(`shoal: the wasm program exited before it was ready${why}`);
    }
    if (performance.now() >= deadline) {
      throw new Error(`shoal: the wasm program did not define globalThis.Shoal within ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (typeof g.Shoal.join !== 'function') {
    throw new Error('shoal: globalThis.Shoal has no join function (wasm and page out of date?)');
  }
  return g.Shoal;
}

/** The hash in a fingerprinted path: 64 bits of SHA-256, in hex. */
const HASH = /^[0-9a-f]{16}$/;

/**
 * The URL the page names for the file at `plain` in a
 * `<meta name="shoal-wasm">` or `<meta name="shoal-wasm-exec">` (the
 * server writes the fingerprinted form there: `/wasm/shoal.wasm` →
 * `/wasm/shoal.<16 hex digits>.wasm`, which a returning viewer's browser
 * has without asking); `plain` when the page names neither.
 * @param {string} plain
 * @returns {string}
 */
export function servedURL(plain) {
  if (typeof document === 'undefined') return plain;
  const dot = plain.lastIndexOf('.');
  const stem = plain.slice(0, dot + 1); // '/wasm/shoal.'
  const ext = plain.slice(dot); // '.wasm'
  for (const meta of document.querySelectorAll('meta[name^="shoal-wasm"][content]')) {
    const url = meta.getAttribute('content') ?? '';
    if (url === plain) return url;
    if (url.startsWith(stem) && url.endsWith(ext) && HASH.test(url.slice(stem.length, -ext.length))) return url;
  }
  return plain;
}

/**
 * Inject a classic script once; resolves when it has run.
 * @param {string} src
 * @returns {Promise<void>}
 */
function injectScript(src) {
  let p = scripts.get(src);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = src;
      el.async = false;
      el.addEventListener('load', () => resolve(), { once: true });
      el.addEventListener('error', () => reject(new Error(`shoal: could not load ${src}`)), { once: true });
      document.head.append(el);
    });
    scripts.set(src, p);
  }
  return p;
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function message(err) {
  return err instanceof Error ? err.message : String(err);
}
