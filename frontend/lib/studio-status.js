// @ts-check
/**
 * The studio's "Live status" card: what /api/studio/streams/<name>/status
 * says (ingest, uptime, codecs, picture size, bitrate, keyframe interval
 * with its warning, viewers, P2P offload) and the preview's latency,
 * written into the card's markup in studio.html (#live-pill, #st-*,
 * #end-stream).
 *
 *     renderStatus(await studioApi(`${streamPath(name)}/status`), preview.stats);
 *
 * @module
 */
import { $ } from './page.js';

/** Keyframe intervals above this (seconds) get a warning, as the server's. */
const KEYFRAME_WARN_SEC = 2;

/**
 * @typedef {object} Status
 * @property {boolean} live
 * @property {{connected: boolean, protocol?: string, width?: number, height?: number, since?: string, error?: string}} ingest
 * @property {string} [codecs]
 * @property {number} bitrateKbps
 * @property {number} keyframeIntervalSec
 * @property {boolean} keyframeWarning
 * @property {number} viewers
 * @property {number} [offload]
 * @property {number} uptimeSec
 */

/**
 * @param {Status} st
 * @param {{latency: number | null} | null} preview  the preview's figures, null without one
 */
export function renderStatus(st, preview) {
  const ing = st.ingest ?? { connected: false };
  const on = ing.connected;
  const pill = $('live-pill');
  pill.dataset.live = String(st.live);
  pill.textContent = st.live ? 'Live' : on ? 'Connecting' : 'Offline';
  $('st-ingest').textContent = on ? `Connected · ${(ing.protocol ?? '').toUpperCase()}` : 'Not connected';
  $('st-uptime').textContent = on ? duration(st.uptimeSec) : '—';
  $('st-codec').textContent = on && st.codecs ? st.codecs.replaceAll(',', ', ') : '—';
  $('st-resolution').textContent = on && ing.width ? `${ing.width}×${ing.height}` : '—';
  $('st-bitrate').textContent = on && st.bitrateKbps > 0 ? `${Math.round(st.bitrateKbps)} kbit/s` : '—';
  const kf = $('st-keyframe');
  kf.textContent = on && st.keyframeIntervalSec > 0 ? `${st.keyframeIntervalSec.toFixed(1)} s` : '—';
  const kfWarn = on && st.keyframeIntervalSec > KEYFRAME_WARN_SEC;
  kf.classList.toggle('warn', kfWarn);
  const warn = $('st-warning');
  warn.hidden = !kfWarn;
  warn.textContent = kfWarn
    ? `Keyframes come every ${st.keyframeIntervalSec.toFixed(1)} s: viewers join and recover only at a keyframe. Set OBS's Keyframe Interval to 1 s (ffmpeg: -g equal to the frame rate).`
    : '';
  $('st-viewers').textContent = String(st.viewers);
  $('st-offload').textContent = typeof st.offload === 'number' ? `${Math.round(st.offload * 100)} %` : '—';
  const errEl = $('st-error');
  errEl.hidden = !ing.error;
  errEl.textContent = ing.error ? `Last ingest error: ${ing.error}` : '';
  $('end-stream', HTMLButtonElement).disabled = !on;
  if (on) $('end-note').textContent = '';
  const lat = preview?.latency ?? null;
  $('st-latency').textContent = lat !== null ? `${lat.toFixed(1)} s` : '—';
}

/**
 * "1:02:03", or "2:03" under an hour.
 * @param {number} sec
 * @returns {string}
 */
export function duration(sec) {
  sec = Math.floor(sec);
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}
