// @ts-check
/**
 * The page's half of the wasm peer's WebRTC: the worker (lib/peer-worker.js)
 * runs the Go program but has no RTCPeerConnection, so the real connections
 * and data channels live here. The worker sends calls ({t: 'rtc', op: …});
 * this side makes them and sends back replies and events. Data channel
 * messages cross as transferred ArrayBuffers, not copies.
 *
 *     const worker = new Worker('/lib/peer-worker.js');
 *     const host = new RTCHost(worker);
 *     worker.onmessage = (e) => { if (e.data.t === 'rtc') host.handle(e.data); … };
 *
 * @module
 */

/** How often a channel with data still queued reports its bufferedAmount to the worker. */
const BUFFERED_REPORT_MS = 100;

export class RTCHost {
  /** @type {Worker} */
  #worker;
  /** @type {Map<number, RTCPeerConnection>} */
  #pcs = new Map();
  /** @type {Map<number, RTCDataChannel>} */
  #dcs = new Map();
  /** @type {Set<number>} channels whose bufferedAmount the worker should hear about */
  #queued = new Set();
  /** @type {ReturnType<typeof setInterval> | null} */
  #timer = null;
  /** ids for channels the remote side opened (negative: the worker's are positive) */
  #nextRemote = -1;

  /** @param {Worker} worker */
  constructor(worker) {
    this.#worker = worker;
  }

  /** @param {any} msg @param {Transferable[]} [transfer] */
  #post(msg, transfer = []) {
    this.#worker.postMessage({ t: 'rtc', ...msg }, transfer);
  }

  /** Closes every connection (the page leaves, or the worker died). */
  closeAll() {
    for (const pc of this.#pcs.values()) pc.close();
    this.#pcs.clear();
    this.#dcs.clear();
    this.#queued.clear();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** @param {any} m a {t: 'rtc'} message from the worker */
  handle(m) {
    try {
      this.#handle(m);
    } catch (err) {
      console.error('rtc-host:', m.op, err);
      if (m.req !== undefined) this.#post({ op: 'reply', req: m.req, ok: false, error: String(err) });
    }
  }

  /** @param {any} m */
  #handle(m) {
    switch (m.op) {
      case 'pc': {
        const pc = new RTCPeerConnection(m.config);
        const id = m.id;
        this.#pcs.set(id, pc);
        pc.onicecandidate = (e) => this.#post({ op: 'pcEvent', id, type: 'icecandidate', candidate: candidate(e.candidate) });
        pc.onconnectionstatechange = () => this.#post({ op: 'pcEvent', id, type: 'connectionstatechange', state: pc.connectionState });
        pc.ondatachannel = (e) => {
          const dcID = this.#nextRemote--;
          this.#channel(dcID, e.channel);
          this.#post({ op: 'pcEvent', id, type: 'datachannel', dc: dcID, label: e.channel.label });
          // Events that fired before the worker knew the channel.
          if (e.channel.readyState === 'open') this.#post({ op: 'dcEvent', id: dcID, type: 'open' });
        };
        return;
      }
      case 'dc': {
        const pc = this.#pcs.get(m.pc);
        if (!pc) return;
        this.#channel(m.id, pc.createDataChannel(m.label, m.init ?? undefined));
        return;
      }
      case 'call': {
        const target = m.kind === 'pc' ? this.#pcs.get(m.id) : this.#dcs.get(m.id);
        if (!target) {
          this.#post({ op: 'reply', req: m.req, ok: false, error: 'closed' });
          return;
        }
        const pc = /** @type {any} */ (target);
        Promise.resolve(pc[m.method](...m.args)).then(
          (v) => {
            // setLocal/RemoteDescription resolve to nothing: the worker
            // wants the description as it now stands.
            if (m.method === 'setLocalDescription') v = pc.localDescription?.toJSON();
            else if (m.method === 'setRemoteDescription') v = pc.remoteDescription?.toJSON();
            else if (v && typeof v.toJSON === 'function') v = v.toJSON();
            this.#post({ op: 'reply', req: m.req, ok: true, value: v ?? null });
          },
          (err) => this.#post({ op: 'reply', req: m.req, ok: false, error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      }
      case 'send': {
        const dc = this.#dcs.get(m.id);
        if (!dc || dc.readyState !== 'open') return;
        dc.send(m.data);
        if (dc.bufferedAmount > 0) this.#watch(m.id);
        return;
      }
      case 'close': {
        if (m.kind === 'pc') {
          this.#pcs.get(m.id)?.close();
          this.#pcs.delete(m.id);
        } else {
          this.#dcs.get(m.id)?.close();
        }
      }
    }
  }

  /** @param {number} id @param {RTCDataChannel} dc */
  #channel(id, dc) {
    dc.binaryType = 'arraybuffer';
    this.#dcs.set(id, dc);
    const ev = (/** @type {string} */ type, /** @type {any} */ extra = {}, /** @type {Transferable[]} */ transfer = []) =>
      this.#post({ op: 'dcEvent', id, type, ...extra }, transfer);
    dc.onopen = () => ev('open');
    dc.onmessage = (e) => (typeof e.data === 'string' ? ev('message', { data: e.data }) : ev('message', { data: e.data }, [e.data]));
    dc.onbufferedamountlow = () => ev('bufferedamountlow', { bufferedAmount: dc.bufferedAmount });
    dc.onclosing = () => ev('closing');
    dc.onclose = () => {
      this.#dcs.delete(id);
      this.#queued.delete(id);
      ev('close');
    };
    dc.onerror = (e) => ev('error', { message: /** @type {any} */ (e).error?.message ?? 'data channel error' });
  }

  /** Reports id's bufferedAmount until its queue drains. @param {number} id */
  #watch(id) {
    this.#queued.add(id);
    this.#timer ??= setInterval(() => {
      for (const q of this.#queued) {
        const dc = this.#dcs.get(q);
        const amount = dc?.bufferedAmount ?? 0;
        this.#post({ op: 'dcEvent', id: q, type: 'buffered', bufferedAmount: amount });
        if (amount === 0) this.#queued.delete(q);
      }
      if (this.#queued.size === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    }, BUFFERED_REPORT_MS);
  }
}

/** @param {RTCIceCandidate | null} c */
function candidate(c) {
  if (!c) return null;
  return {
    candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment,
    foundation: c.foundation, component: c.component, priority: c.priority, address: c.address,
    protocol: c.protocol, port: c.port, type: c.type, tcpType: c.tcpType,
    relatedAddress: c.relatedAddress, relatedPort: c.relatedPort,
  };
}
