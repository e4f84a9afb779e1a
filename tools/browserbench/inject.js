// @ts-check
/**
 * Init script that tabs.mjs adds to every benchmark tab before any of the
 * page's own scripts run. It measures the page from outside the player:
 *
 *  - every RTCPeerConnection the page makes (the constructor is wrapped in
 *    a Proxy, so instanceof and statics are unchanged) is polled with
 *    getStats() once a second: data-channel and transport bytes received,
 *    and the selected pair's remote address and port;
 *  - the video element's media events (waiting, playing, seeking, …) are
 *    logged with their time, caught in the capture phase on window;
 *  - each displayed frame is seen through requestVideoFrameCallback; a few
 *    times a second the frame is drawn into a small canvas and the luma of
 *    the burnt-in counter's boxes is read (the harness decodes it), with the
 *    player's own idea of its latency read at the same moment for a sanity
 *    check (window.__shoal.player.latency or hls.latency).
 *
 * tabs.mjs prepends `window.__shoalTest = true` (for window.__shoal) and
 * `window.__benchConfig = {samplePoints, sampleMs}`, and
 * drains what was collected with window.__bench.drain(gotFrames, gotEvents),
 * saying how many frames and events it already holds: the page forgets
 * those and sends the rest, so a drain whose answer is lost (a timeout on a
 * busy machine) loses nothing. Times are epoch milliseconds
 * (performance.timeOrigin + a DOMHighResTimeStamp).
 */
(() => {
  if (window.top !== window) return;
  const cfg = /** @type {any} */ (window).__benchConfig || {};
  /** @type {[number, number][]} */
  const points = cfg.samplePoints || [];
  const sampleMs = cfg.sampleMs || 250;
  const origin = performance.timeOrigin;
  const now = () => origin + performance.now();

  /** @type {{t: string, at: number, ct: number}[]} */
  const events = [];
  /** @type {{at: number, mt: number, luma: number[], app: number | null}[]} */
  const frames = [];
  // How many frames and events were dropped from the front once drained.
  let framesBase = 0;
  let eventsBase = 0;
  /** @type {number | null} */
  let firstFrameAt = null;
  let presented = 0;
  let videos = 0;
  /** @type {string[]} */
  const errors = [];

  // Peer connections.
  /** @typedef {{id: number, pc: RTCPeerConnection, dc: number, tr: number, ip: string, port: number, state: string, done: boolean}} PCRec */
  /** @type {PCRec[]} */
  const pcs = [];
  const Native = window.RTCPeerConnection;
  if (Native) {
    const Wrapped = new Proxy(Native, {
      construct(target, args, newTarget) {
        const pc = Reflect.construct(target, args, newTarget);
        pcs.push({ id: pcs.length, pc, dc: 0, tr: 0, ip: '', port: 0, state: 'new', done: false });
        return pc;
      },
    });
    window.RTCPeerConnection = Wrapped;
    if ('webkitRTCPeerConnection' in window) /** @type {any} */ (window).webkitRTCPeerConnection = Wrapped;
  }

  /** @param {PCRec} rec */
  async function poll(rec) {
    const st = rec.pc.connectionState;
    rec.state = st;
    if (st === 'closed' || rec.pc.signalingState === 'closed') {
      rec.done = true; // getStats throws once closed: keep the last reading
      return;
    }
    try {
      const report = await rec.pc.getStats();
      let dc = 0;
      let tr = 0;
      /** @type {string | null} */
      let pair = null;
      report.forEach((r) => {
        if (r.type === 'data-channel') dc += r.bytesReceived || 0;
        if (r.type === 'transport') {
          tr += r.bytesReceived || 0;
          if (r.selectedCandidatePairId) pair = r.selectedCandidatePairId;
        }
      });
      const cp = pair ? report.get(pair) : null;
      const rc = cp ? report.get(cp.remoteCandidateId) : null;
      // Closed data channels drop out of the report: never go backwards.
      rec.dc = Math.max(rec.dc, dc);
      rec.tr = Math.max(rec.tr, tr);
      if (rc) {
        rec.ip = rc.address || rc.ip || '';
        rec.port = rc.port || 0;
      }
    } catch {
      rec.done = true;
    }
  }
  setInterval(() => {
    for (const rec of pcs) if (!rec.done) poll(rec);
  }, 1000);

  // Frames.
  const canvas = document.createElement('canvas');
  const bandH = 80;
  canvas.width = 640;
  canvas.height = bandH;
  /** @type {CanvasRenderingContext2D | null} */
  let ctx = null;
  let lastSample = 0;

  function appLatency() {
    const w = /** @type {any} */ (window);
    const shoal = w.__shoal?.player?.latency;
    if (typeof shoal === 'number') return shoal;
    const hls = w.hls?.latency;
    if (typeof hls === 'number' && Number.isFinite(hls)) return hls;
    return null;
  }

  /** @param {HTMLVideoElement} v */
  function readLuma(v) {
    if (!ctx) ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx || !v.videoWidth) return null;
    const sx = v.videoWidth / 640;
    const sy = v.videoHeight / 360;
    ctx.drawImage(v, 0, 0, 640 * sx, bandH * sy, 0, 0, 640, bandH);
    const px = ctx.getImageData(0, 0, 640, bandH).data;
    return points.map(([x, y]) => {
      let sum = 0;
      for (let dy = -2; dy < 2; dy++) {
        for (let dx = -2; dx < 2; dx++) {
          const i = 4 * ((y + dy) * 640 + (x + dx));
          sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        }
      }
      return Math.round(sum / 16);
    });
  }

  /** @type {WeakSet<HTMLVideoElement>} */
  const watched = new WeakSet();
  /** @param {HTMLVideoElement} v */
  function watch(v) {
    if (watched.has(v) || typeof v.requestVideoFrameCallback !== 'function') return;
    watched.add(v);
    videos++;
    /** @type {VideoFrameRequestCallback} */
    const onFrame = (_now, md) => {
      const at = origin + md.expectedDisplayTime;
      presented++;
      if (firstFrameAt === null) firstFrameAt = at;
      if (at - lastSample >= sampleMs) {
        lastSample = at;
        try {
          const luma = readLuma(v);
          if (luma) frames.push({ at, mt: md.mediaTime, luma, app: appLatency() });
        } catch (err) {
          if (errors.length < 10) errors.push(String(err));
        }
      }
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  }

  const MEDIA_EVENTS = ['loadstart', 'loadedmetadata', 'play', 'playing', 'waiting', 'stalled', 'seeking', 'seeked', 'pause', 'ended', 'error', 'emptied'];
  for (const t of MEDIA_EVENTS) {
    addEventListener(t, (ev) => {
      const v = ev.target;
      if (!(v instanceof HTMLVideoElement)) return;
      watch(v);
      events.push({ t, at: origin + ev.timeStamp, ct: v.currentTime });
    }, true);
  }

  /** @type {any} */ (window).__bench = {
    /**
     * What the harness does not hold yet, and the running totals.
     * @param {number} gotFrames  frames the harness holds
     * @param {number} gotEvents  events the harness holds
     */
    drain(gotFrames, gotEvents) {
      frames.splice(0, Math.max(0, gotFrames - framesBase));
      framesBase = Math.max(framesBase, gotFrames);
      events.splice(0, Math.max(0, gotEvents - eventsBase));
      eventsBase = Math.max(eventsBase, gotEvents);
      const out = {
        now: now(),
        skew: Date.now() - now(),
        firstFrameAt,
        presented,
        videos,
        frames: frames.slice(),
        events: events.slice(),
        errors: errors.slice(),
        pcs: pcs.map((r) => ({ id: r.id, dc: r.dc, tr: r.tr, ip: r.ip, port: r.port, state: r.state })),
      };
      return out;
    },
  };
})();
