// @ts-check
/**
 * The studio's "Go live from the browser" panel: capture a camera or the
 * screen, show it, and publish it over WHIP (lib/whip.js) to the selected
 * stream with the browser's own encoder. Binds to the panel's markup in
 * studio.html (#bl-source, #bl-camera, #bl-audio, #bl-bitrate, #bl-start,
 * #bl-stop, #bl-state, #bl-preview).
 *
 *     const live = new BrowserLive(() => fetchKey(), (state) => { hook.browserLive = state; });
 *     live.target(stream.whipUrl);
 *     live.stop(); // on leaving the stream or the page
 *
 * @module
 */
import { $ } from './page.js';
import { WhipSession } from './whip.js';

/** @typedef {'idle' | 'capturing' | 'connecting' | 'live' | `error: ${string}`} LiveState */

export class BrowserLive {
  /** @type {MediaStream | null} */
  #media = null;
  /** @type {WhipSession | null} */
  #session = null;
  /** whether a start is under way or a session is up */
  #busy = false;
  /** counts starts and stops: a start that finds it changed was stopped meanwhile */
  #run = 0;
  #url = '';
  #getKey;
  #onState;
  #els = {
    source: $('bl-source', HTMLSelectElement),
    camera: $('bl-camera', HTMLSelectElement),
    cameraLabel: $('bl-camera-label'),
    audio: $('bl-audio', HTMLInputElement),
    bitrate: $('bl-bitrate', HTMLSelectElement),
    start: $('bl-start', HTMLButtonElement),
    stop: $('bl-stop', HTMLButtonElement),
    state: $('bl-state'),
    preview: $('bl-preview', HTMLVideoElement),
  };

  /**
   * @param {() => Promise<string>} getKey  the selected stream's key, fetched when needed
   * @param {(state: LiveState) => void} onState
   */
  constructor(getKey, onState) {
    this.#getKey = getKey;
    this.#onState = onState;
    const e = this.#els;
    e.source.addEventListener('change', () => this.#sourceChanged());
    e.start.addEventListener('click', () => this.start().catch((err) => this.#fail(err)));
    e.stop.addEventListener('click', () => this.stop());
    this.#sourceChanged();
    navigator.mediaDevices?.addEventListener?.('devicechange', () => this.#listCameras());
    this.#listCameras();
  }

  /** Whether this browser is publishing (or about to). */
  get live() {
    return this.#busy;
  }

  /**
   * Sets where start publishes to.
   * @param {string} whipUrl
   */
  target(whipUrl) {
    this.#url = whipUrl;
  }

  #sourceChanged() {
    this.#els.cameraLabel.hidden = this.#els.source.value !== 'camera';
  }

  /** Lists the cameras (labels appear once the page may use the camera). */
  async #listCameras() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const sel = this.#els.camera;
    const keep = sel.value;
    const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    sel.replaceChildren(new Option('Default camera', ''));
    cams.forEach((d, i) => sel.add(new Option(d.label || `Camera ${i + 1}`, d.deviceId)));
    sel.value = cams.some((d) => d.deviceId === keep) ? keep : '';
  }

  /** @param {string} text */
  #state(text) {
    this.#els.state.textContent = text;
  }

  /** @param {unknown} err */
  #fail(err) {
    const msg = err instanceof Error ? err.message : String(err);
    this.#onState(`error: ${msg}`);
    this.#state(`Could not go live: ${msg}`);
    this.#teardown();
  }

  async start() {
    if (this.#busy) return;
    if (!navigator.mediaDevices) throw new Error('this page needs a secure context (https or localhost) to capture media');
    if (!this.#url) throw new Error('no stream selected');
    const e = this.#els;
    const run = ++this.#run;
    this.#busy = true;
    e.start.disabled = true;
    const url = this.#url;
    const key = await this.#getKey();
    if (run !== this.#run) return;
    this.#onState('capturing');
    this.#state('Asking for the camera or screen…');
    const audio = e.audio.checked;
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    /** @type {MediaStream} */
    let media;
    if (e.source.value === 'screen') {
      media = await navigator.mediaDevices.getDisplayMedia({ video, audio });
    } else {
      const deviceId = e.camera.value;
      media = await navigator.mediaDevices.getUserMedia({
        video: deviceId ? { ...video, deviceId: { exact: deviceId } } : video,
        audio,
      });
      this.#listCameras();
    }
    if (run !== this.#run) {
      media.getTracks().forEach((t) => t.stop()); // stopped while asking
      return;
    }
    this.#media = media;
    e.preview.srcObject = media;
    e.preview.play().catch(() => {});
    // The browser's own "stop sharing" ends the broadcast too.
    media.getVideoTracks()[0]?.addEventListener('ended', () => { if (run === this.#run) this.stop(); });

    this.#state('Connecting…');
    let connected = false;
    const session = await WhipSession.publish(url, key, media, {
      videoKbps: Number(e.bitrate.value) || 2500,
      onState: (st) => {
        if (run !== this.#run) return;
        if (st === 'connected') {
          connected = true;
          this.#onState('live');
          this.#state('Live: sending from this browser. Keep this tab open.');
        } else {
          this.#fail(new Error(`connection ${st}`));
        }
      },
    });
    if (run !== this.#run) {
      session.stop(); // stopped while connecting
      return;
    }
    this.#session = session;
    e.stop.disabled = false;
    if (!connected) this.#onState('connecting');
  }

  /** Ends the broadcast: DELETE the WHIP session, close, release the camera. */
  stop() {
    this.#teardown();
    this.#onState('idle');
    this.#state('Not sending.');
  }

  #teardown() {
    this.#run++;
    this.#busy = false;
    this.#session?.stop();
    this.#session = null;
    this.#media?.getTracks().forEach((t) => t.stop());
    this.#media = null;
    this.#els.preview.srcObject = null;
    this.#els.start.disabled = false;
    this.#els.stop.disabled = true;
  }
}
