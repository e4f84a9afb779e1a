// @ts-check
/**
 * A WHIP client (RFC 9725): publishes a MediaStream to a WHIP endpoint
 * over an RTCPeerConnection, with the browser's own encoder. Shoal's WHIP
 * ingest takes H.264 video (packetization-mode 1) and Opus audio.
 *
 *     const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
 *     const s = await WhipSession.publish(whipUrl, streamKey, media, {
 *       videoKbps: 2500,
 *       onState: (state) => console.log(state), // 'connected' | 'failed' | 'closed'
 *     });
 *     s.stop(); // DELETE the session, close the connection
 *
 * The caller owns the MediaStream: stop() does not stop its tracks.
 *
 * @module
 */

/** How long the offer waits for ICE gathering (ms): the WHIP server takes one offer with every candidate. */
const GATHER_MS = 3000;

/**
 * @typedef {object} PublishOptions
 * @property {number} [videoKbps]  the video encoder's ceiling (default 2500)
 * @property {(state: 'connected' | 'failed' | 'closed') => void} [onState]  the connection's state changes after the answer
 */

export class WhipSession {
  #pc;
  #token;
  /** @type {string | null} the session URL (the answer's Location), for DELETE */
  #url = null;
  #stopped = false;

  /**
   * @param {RTCPeerConnection} pc
   * @param {string} token
   */
  constructor(pc, token) {
    this.#pc = pc;
    this.#token = token;
  }

  /**
   * Offers media's tracks to the WHIP endpoint at url with the bearer
   * token; resolves once the answer is applied (the connection may still
   * be connecting: onState says when it is up).
   * @param {string} url
   * @param {string} token
   * @param {MediaStream} media
   * @param {PublishOptions} [opts]
   * @returns {Promise<WhipSession>}
   */
  static async publish(url, token, media, opts = {}) {
    const pc = new RTCPeerConnection();
    const s = new WhipSession(pc, token);
    try {
      for (const track of media.getTracks()) {
        const t = pc.addTransceiver(track, { direction: 'sendonly' });
        if (track.kind === 'video') preferH264(t, (opts.videoKbps ?? 2500) * 1000);
      }
      pc.addEventListener('connectionstatechange', () => {
        const st = pc.connectionState;
        if (!s.#stopped && (st === 'connected' || st === 'failed' || st === 'closed')) opts.onState?.(st);
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, GATHER_MS);
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
        body: pc.localDescription?.sdp ?? '',
      });
      const body = await r.text();
      if (r.status !== 201) throw new Error(`the server refused: ${body.trim() || `HTTP ${r.status}`}`);
      const loc = r.headers.get('Location');
      s.#url = loc ? new URL(loc, url).href : null;
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
      return s;
    } catch (err) {
      s.stop();
      throw err;
    }
  }

  /** Ends the session: DELETE it on the server (best effort) and close the connection. */
  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#url) {
      fetch(this.#url, { method: 'DELETE', headers: { Authorization: `Bearer ${this.#token}` } }).catch(() => {});
    }
    this.#pc.close();
  }
}

/**
 * Sends video as H.264 (the ingest's only video codec) at up to bps, and
 * drops frames rather than the picture size when bandwidth is short: every
 * size change is a new init segment for every viewer.
 * @param {RTCRtpTransceiver} t
 * @param {number} bps
 */
function preferH264(t, bps) {
  const h264 = (RTCRtpSender.getCapabilities('video')?.codecs ?? [])
    .filter((c) => c.mimeType.toLowerCase() === 'video/h264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''));
  if (h264.length === 0) throw new Error('this browser cannot encode H.264 for WebRTC; use OBS instead');
  t.setCodecPreferences(h264);
  const p = t.sender.getParameters();
  if (p.encodings?.length) p.encodings[0].maxBitrate = bps;
  /** @type {RTCRtpSendParameters & {degradationPreference?: string}} */ (p).degradationPreference = 'maintain-resolution';
  t.sender.setParameters(p).catch((err) => console.warn('whip: sender parameters:', err));
}

/**
 * Waits until ICE gathering completes, or timeoutMs.
 * @param {RTCPeerConnection} pc
 * @param {number} timeoutMs
 * @returns {Promise<void>}
 */
function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
    setTimeout(resolve, timeoutMs);
  });
}
