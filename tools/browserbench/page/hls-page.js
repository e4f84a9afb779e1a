// @ts-check
/**
 * The comparison's viewer page: hls.js with p2p-media-loader v2, as an
 * integrator would set it up, on the benchmark's own tracker.
 *
 * hls.js runs in low-latency mode with a small live sync: by default 2
 * target durations (4 s of 2 s segments) behind the playlist's live edge
 * (?sync=N changes it), at most N+3 before it seeks forward, and up to 1.1x
 * speed to catch up.
 * lowLatencyMode changes nothing without LL-HLS parts (ffmpeg's muxer
 * makes none); it is set as an integrator would. p2p-media-loader keeps its
 * defaults except the tracker, no STUN server (loopback only) and a fixed
 * swarm id; ?hd=S sets its highDemandTimeWindow (default 15 s: segments
 * needed within S seconds come over HTTP, only later ones over P2P). window.hls is the player (the benchmark reads hls.latency);
 * window.__p2p counts bytes by source from the engine's own events.
 *
 * Query: ?src=/hls/live.m3u8&tracker=ws://127.0.0.1:PORT[&sync=2][&hd=15]
 */
import Hls from 'hls.js';
import { HlsJsP2PEngine } from 'p2p-media-loader-hlsjs';

const q = new URLSearchParams(location.search);
const sync = Number(q.get('sync') || 2);
const highDemand = Number(q.get('hd') || 0);

/** The hls.js settings the benchmark documents (docs/BENCHMARKS.md). */
const HLS_CONFIG = {
  lowLatencyMode: true,
  liveSyncDurationCount: sync,
  liveMaxLatencyDurationCount: sync + 3,
  maxLiveSyncPlaybackRate: 1.1,
  backBufferLength: 30,
};
const src = q.get('src') || '/hls/live.m3u8';
const tracker = q.get('tracker') || '';
const video = /** @type {HTMLVideoElement} */ (document.getElementById('video'));
const p2p = { http: 0, p2p: 0 };
/** @type {any} */ (window).__p2p = p2p;

const HlsWithP2P = HlsJsP2PEngine.injectMixin(Hls);
const hls = new HlsWithP2P({
  ...HLS_CONFIG,
  p2p: {
    core: {
      announceTrackers: tracker ? [tracker] : [],
      rtcConfig: { iceServers: [] },
      swarmId: 'browserbench',
      ...(highDemand > 0 ? { highDemandTimeWindow: highDemand } : {}),
    },
    onHlsJsCreated(h) {
      h.p2pEngine.addEventListener('onChunkDownloaded', (bytes, source) => {
        if (source === 'p2p') p2p.p2p += bytes;
        else p2p.http += bytes;
      });
    },
  },
});
/** @type {any} */ (window).hls = hls;
// The recovery hls.js's documentation recommends.
hls.on(Hls.Events.ERROR, (_e, data) => {
  if (!data.fatal) return;
  console.error(`hls.js fatal error: ${data.type} ${data.details}`);
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
  else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
});
hls.on(Hls.Events.MANIFEST_PARSED, () => {
  video.play().catch((err) => console.error(`play: ${err}`));
});
hls.attachMedia(video);
hls.loadSource(src);
