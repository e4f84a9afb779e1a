// @ts-check
/**
 * The wasm peer's dedicated worker: the Go program (compiling it, its
 * runtime, the swarm engine, chunk verification) runs here, off the page's
 * main thread, so that neither its start-up nor a burst of chunks holds up
 * the player's appends, the controls or the chat.
 *
 * A worker has no RTCPeerConnection, so the one the Go program (pion's
 * wasm build) uses here is a stand-in that forwards every call to the page,
 * which holds the real connections (lib/rtc-host.js), and replays the
 * page's events here. What pion reads synchronously — connection and
 * channel states, bufferedAmount — the stand-ins keep from those events.
 *
 * Messages, page → worker:
 *   {t: 'start', execURL, wasmURL}         compile and start the Go program
 *   {t: 'join', jid, opts}                 Shoal.join(opts) without its callbacks
 *   {t: 'cover', jid, seq}                 handle.cover(seq)
 *   {t: 'leave', jid}
 *   {t: 'rtc', ...}                        replies and events for the stand-ins
 * worker → page:
 *   {t: 'ready', timing} | {t: 'failed', message}
 *   {t: 'joined', jid} | {t: 'joinFailed', jid, message}
 *   {t: 'chunk', jid, info} (info.data's buffer transferred) | {t: 'stats', jid, s} | {t: 'state', jid, s}
 *   {t: 'rtc', ...}                        calls on the real connections
 *
 * Classic worker (importScripts for Go's wasm_exec.js), started by
 * lib/shoal.js.
 */
/* eslint-env worker */
(() => {
  /** @type {any} */
  const g = self;

  /** @param {any} msg @param {Transferable[]} [transfer] */
  const post = (msg, transfer = []) => g.postMessage(msg, transfer);

  // --- RTCPeerConnection / RTCDataChannel stand-ins -----------------------

  let nextID = 1;
  /** @type {Map<number, (r: {ok: boolean, value?: any, error?: string}) => void>} */
  const replies = new Map();
  /** @type {Map<number, PeerConnection>} */
  const pcs = new Map();
  /** @type {Map<number, DataChannel>} */
  const dcs = new Map();

  /**
   * Calls method on the page's real object and resolves with its result.
   * @param {string} kind 'pc' | 'dc' @param {number} id @param {string} method @param {any[]} args
   */
  function call(kind, id, method, args) {
    const req = nextID++;
    return new Promise((resolve, reject) => {
      replies.set(req, (r) => (r.ok ? resolve(r.value) : reject(new DOMException(r.error ?? 'failed', 'OperationError'))));
      post({ t: 'rtc', op: 'call', kind, id, method, args, req });
    });
  }

  /**
   * Calls method on the page's real connection without waiting for its
   * answer. pion awaits every promise on the Go goroutine that calls it —
   * the node's one event loop — and on a busy machine each round trip to
   * the page took 100-300 ms: setting up four neighbours' descriptions and
   * candidates one round trip at a time held the loop (and every chunk
   * behind it) for seconds, and was most of the 3 s a data channel took to
   * open in a tab starting beside three others. Nothing pion does next
   * needs these calls' results: the page makes the calls in the order they
   * were sent, and RTCPeerConnection chains its operations, so a
   * createAnswer that follows setRemoteDescription runs after it. A failed
   * description fails the connection (the node drops the neighbour, as it
   * did when the call threw); a failed candidate is ignored, as before.
   * @param {PeerConnection} pc @param {string} method @param {any[]} args
   */
  function callNoWait(pc, method, args) {
    const req = nextID++;
    replies.set(req, (r) => {
      if (r.ok) {
        if (method === 'setLocalDescription') pc.localDescription = r.value;
        if (method === 'setRemoteDescription') pc.remoteDescription = r.value;
      } else if (method !== 'addIceCandidate' && pc.connectionState !== 'closed') {
        console.warn(`peer-worker: ${method}: ${r.error}`);
        pc.connectionState = 'failed';
        pc.onconnectionstatechange?.({});
      }
    });
    post({ t: 'rtc', op: 'call', kind: 'pc', id: pc.id, method, args, req });
    return Promise.resolve();
  }

  /** Plain-data copy of a description or candidate argument. */
  const plain = (/** @type {any} */ v) => (v == null ? v : JSON.parse(JSON.stringify(v)));

  class PeerConnection {
    /** @param {any} config */
    constructor(config) {
      this.id = nextID++;
      this.connectionState = 'new';
      this.iceConnectionState = 'new';
      this.signalingState = 'stable';
      this.localDescription = null;
      this.remoteDescription = null;
      /** @type {any} */ this.onicecandidate = null;
      /** @type {any} */ this.ondatachannel = null;
      /** @type {any} */ this.onconnectionstatechange = null;
      pcs.set(this.id, this);
      post({ t: 'rtc', op: 'pc', id: this.id, config: plain(config) });
    }
    /** @param {any} [o] */ createOffer(o) { return call('pc', this.id, 'createOffer', [plain(o)]); }
    /** @param {any} [o] */ createAnswer(o) { return call('pc', this.id, 'createAnswer', [plain(o)]); }
    /** @param {any} d */
    setLocalDescription(d) {
      this.localDescription = plain(d); // the page's, with its candidates, when it answers
      return callNoWait(this, 'setLocalDescription', [plain(d)]);
    }
    /** @param {any} d */
    setRemoteDescription(d) {
      this.remoteDescription = plain(d);
      return callNoWait(this, 'setRemoteDescription', [plain(d)]);
    }
    /** @param {any} c */ addIceCandidate(c) { return callNoWait(this, 'addIceCandidate', [plain(c)]); }
    /** @param {string} label @param {any} [init] */
    createDataChannel(label, init) {
      const dc = new DataChannel(nextID++, label, this.id);
      post({ t: 'rtc', op: 'dc', id: dc.id, pc: this.id, label, init: plain(init) });
      return dc;
    }
    close() {
      this.connectionState = 'closed';
      pcs.delete(this.id);
      post({ t: 'rtc', op: 'close', kind: 'pc', id: this.id });
    }
  }

  class DataChannel {
    /** @param {number} id @param {string} label @param {number} pc */
    constructor(id, label, pc) {
      this.id = id;
      this.pc = pc;
      this.label = label;
      this.readyState = 'connecting';
      this.binaryType = 'arraybuffer';
      this.ordered = true;
      this.protocol = '';
      this.negotiated = false;
      this.maxRetransmits = null;
      this.maxPacketLifeTime = null;
      // bufferedAmount: the page's figure at its last report plus what
      // was sent since.
      this.reportedAmount = 0;
      this.sentSinceReport = 0;
      this.bufferedAmountLowThreshold = 0;
      /** @type {any} */ this.onopen = null;
      /** @type {any} */ this.onclose = null;
      /** @type {any} */ this.onclosing = null;
      /** @type {any} */ this.onerror = null;
      /** @type {any} */ this.onmessage = null;
      /** @type {any} */ this.onbufferedamountlow = null;
      dcs.set(id, this);
    }
    get bufferedAmount() { return this.reportedAmount + this.sentSinceReport; }
    /** @param {Uint8Array | string} data */
    send(data) {
      if (this.readyState !== 'open') throw new DOMException('RTCDataChannel.readyState is not \'open\'', 'InvalidStateError');
      if (typeof data === 'string') {
        this.sentSinceReport += data.length;
        post({ t: 'rtc', op: 'send', id: this.id, data });
        return;
      }
      // pion hands over a Uint8Array of its own: its buffer can move.
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      const buf = whole ? data.buffer : data.slice().buffer;
      this.sentSinceReport += data.byteLength;
      post({ t: 'rtc', op: 'send', id: this.id, data: buf }, [buf]);
    }
    close() {
      post({ t: 'rtc', op: 'close', kind: 'dc', id: this.id });
    }
  }

  /** @param {any} m a 'rtc' message from the page */
  function rtcEvent(m) {
    switch (m.op) {
      case 'reply': {
        const r = replies.get(m.req);
        replies.delete(m.req);
        r?.(m);
        return;
      }
      case 'pcEvent': {
        const pc = pcs.get(m.id);
        if (!pc) return;
        if (m.type === 'icecandidate') {
          pc.onicecandidate?.({ candidate: m.candidate });
        } else if (m.type === 'connectionstatechange') {
          pc.connectionState = m.state;
          pc.onconnectionstatechange?.({});
        } else if (m.type === 'datachannel') {
          const dc = new DataChannel(m.dc, m.label, pc.id);
          pc.ondatachannel?.({ channel: dc });
        }
        return;
      }
      case 'dcEvent': {
        const dc = dcs.get(m.id);
        if (!dc) return;
        if ('bufferedAmount' in m) {
          dc.reportedAmount = m.bufferedAmount;
          dc.sentSinceReport = 0;
        }
        switch (m.type) {
          case 'open':
            if (dc.readyState === 'open') break; // announced open with the channel, and again by its event
            dc.readyState = 'open';
            dc.onopen?.({});
            break;
          case 'message': dc.onmessage?.({ data: typeof m.data === 'string' ? m.data : new Uint8Array(m.data) }); break;
          case 'bufferedamountlow': dc.onbufferedamountlow?.({}); break;
          case 'closing': dc.readyState = 'closing'; dc.onclosing?.({}); break;
          case 'close': dc.readyState = 'closed'; dcs.delete(dc.id); dc.onclose?.({}); break;
          case 'error': dc.onerror?.({ error: new Error(m.message) }); break;
        }
      }
    }
  }

  // pion's wasm build looks the constructor up on `window`.
  g.window = g;
  g.RTCPeerConnection = PeerConnection;

  // --- the Go program -------------------------------------------------------

  /** @type {Map<number, {leave(): void, cover?(seq: number): void} | null>} joins by the page's id; null until joined */
  const handles = new Map();

  /**
   * Fetches the peer (its request out while wasm_exec.js loads), compiles
   * it as it streams in, and runs it until globalThis.Shoal is there.
   * @param {string} execURL @param {string} wasmURL
   * @returns {Promise<{importMs: number, responseMs: number, compileMs: number, instantiateMs: number, goStartMs: number}>}
   *   where the time went, each from the start but the last two: wasm_exec.js run, the peer's response
   *   headers, the peer compiled; instantiating it, Go's start until Shoal is there
   */
  async function start(execURL, wasmURL) {
    const t0 = performance.now();
    const fetching = fetch(wasmURL);
    fetching.catch(() => {}); // awaited below, unless importScripts throws
    g.importScripts(execURL);
    const go = new g.Go();
    const ti = performance.now();
    let module, tr = 0;
    try {
      const r = await fetching;
      tr = performance.now();
      module = await WebAssembly.compileStreaming(r);
    } catch (err) {
      throw new Error(`loading ${wasmURL}: ${err instanceof Error ? err.message : err}`);
    }
    const t1 = performance.now();
    const instance = await WebAssembly.instantiate(module, go.importObject);
    const t2 = performance.now();
    let exited = false;
    go.run(instance).finally(() => { exited = true; });
    // Shoal appears once main has run; a microtask check after each turn
    // of the Go scheduler would be quicker, but polling costs ~nothing.
    for (let waited = 0; !g.Shoal; waited += 5) {
      if (exited) throw new Error('the wasm program exited before it was ready');
      if (waited > 30_000) throw new Error('the wasm program did not start within 30 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const t3 = performance.now();
    return { importMs: Math.round(ti - t0), responseMs: Math.round(tr - t0), compileMs: Math.round(t1 - t0), instantiateMs: Math.round(t2 - t1), goStartMs: Math.round(t3 - t2) };
  }

  /** @param {number} jid @param {any} opts */
  async function join(jid, opts) {
    handles.set(jid, null);
    const h = await g.Shoal.join({
      ...opts,
      onChunk: (/** @type {any} */ info) => {
        const data = info.data;
        post({ t: 'chunk', jid, info }, data ? [data.buffer] : []);
      },
      onStats: (/** @type {any} */ s) => post({ t: 'stats', jid, s }),
      onState: (/** @type {any} */ s) => post({ t: 'state', jid, s }),
    });
    if (handles.has(jid)) handles.set(jid, h);
    else h.leave(); // left while joining
  }

  g.onmessage = (/** @type {MessageEvent} */ e) => {
    const m = e.data;
    switch (m.t) {
      case 'rtc':
        rtcEvent(m);
        break;
      case 'start':
        start(m.execURL, m.wasmURL).then(
          (timing) => post({ t: 'ready', timing }),
          (err) => post({ t: 'failed', message: err instanceof Error ? err.message : String(err) }),
        );
        break;
      case 'join':
        join(m.jid, m.opts).then(
          () => post({ t: 'joined', jid: m.jid }),
          (err) => post({ t: 'joinFailed', jid: m.jid, message: err instanceof Error ? err.message : String(err) }),
        );
        break;
      case 'cover':
        handles.get(m.jid)?.cover?.(m.seq);
        break;
      case 'leave':
        handles.get(m.jid)?.leave();
        handles.delete(m.jid);
        break;
    }
  };
})();
