// @ts-check
/**
 * The page's first frame, before anything else on the page runs. The watch
 * and embed pages load this classic script first in their <head>: a
 * module, even async, ran only once the browser got round to it, 300-800
 * ms later on a busy machine.
 *
 *  1. It starts the two requests the first frame waits on: the stream's
 *     init segment and its newest media from the last keyframe.
 *     lib/media.js and lib/httpfeed.js take the answers (each once:
 *     takeEarly in lib/stream-name.js) instead of asking again.
 *  2. As soon as the page's <video id="video"> is parsed and both answers
 *     are in, it opens a MediaSource on it, appends the init segment and
 *     that media, and plays. The page's modules load, lay out the page and
 *     run meanwhile; lib/player.js then takes the media source over
 *     (LivePlayer.adopt, through takeEarlySource in lib/stream-name.js) and
 *     goes on from the next chunk. Anything unexpected (no MSE, an
 *     offline stream, a codec the browser lacks, autoplay or muting turned
 *     off in the address) leaves the video untouched: the player starts it
 *     as it would without this.
 *
 * The stream is named as in lib/stream-name.js: `?stream=`, else the
 * address's last path segment.
 */
(() => {
  const loc = location;
  const q = new URLSearchParams(loc.search);
  let stream = q.get('stream')?.trim() || loc.pathname.split('/').filter(Boolean).at(-1) || '';
  if (stream === '' || stream.endsWith('.html')) return;
  try {
    stream = decodeURIComponent(stream);
  } catch {
    return;
  }
  /** @type {Record<string, any>} */
  const started = {};
  /** @type {Record<string, Promise<Response>>} our own copies of the answers */
  const mine = {};
  for (const what of ['init', 'media']) {
    const url = `/api/streams/${encodeURIComponent(stream)}/${what}`;
    const response = fetch(url, { cache: 'no-store', priority: 'high' });
    response.catch(() => {}); // whoever takes it sees the failure
    // Cloned as it arrives, before whoever takes the response reads it.
    mine[what] = response.then((r) => r.clone());
    mine[what].catch(() => {});
    started[url] = { sentAt: Date.now(), response };
  }
  /** @type {any} */ (globalThis).shoalEarly = started;

  // An option the embed turns off (lib/embed.js reads them the same way).
  const off = (/** @type {string} */ k) => q.has(k) && !['1', 'on', 'true', 'yes', ''].includes((q.get(k) ?? '').toLowerCase());
  if (typeof MediaSource === 'undefined' || off('autoplay') || off('muted')) return;
  const source = play(mine.init, mine.media);
  source.catch(() => {}); // taken by lib/media.js, or nobody
  started.source = source;

  /** @returns {Promise<HTMLVideoElement>} the page's video element, as soon as it is parsed */
  function videoElement() {
    return new Promise((resolve, reject) => {
      const found = () => {
        const v = document.getElementById('video');
        return v instanceof HTMLVideoElement ? v : null;
      };
      const v = found();
      if (v) return resolve(v);
      const watch = new MutationObserver(() => {
        const v = found();
        if (v) {
          watch.disconnect();
          resolve(v);
        }
      });
      watch.observe(document, { childList: true, subtree: true });
      document.addEventListener('DOMContentLoaded', () => {
        watch.disconnect();
        const v = found();
        if (v) resolve(v);
        else reject(new Error('early: no video element'));
      }, { once: true });
    });
  }

  /**
   * @param {Promise<Response>} initAnswer
   * @param {Promise<Response>} mediaAnswer
   */
  async function play(initAnswer, mediaAnswer) {
    const [video, ir, mr] = await Promise.all([videoElement(), initAnswer, mediaAnswer]);
    const mime = ir.headers.get('X-Shoal-Mime');
    if (!ir.ok || !mr.ok || !mime || !MediaSource.isTypeSupported(mime)) throw new Error('early: nothing to play yet');
    // "seq:timestamp:flags:size,…" (lib/httpfeed.js): from a keyframe on,
    // up to the first discontinuity (a new run needs its own init).
    /** @type {{seq: number, timestamp: number, keyframe: boolean, size: number}[]} */
    const chunks = [];
    for (const entry of (mr.headers.get('X-Shoal-Chunks') ?? '').split(',')) {
      const [seq, timestamp, flags, size] = entry.split(':').map(Number);
      if (!(size >= 0) || (chunks.length > 0 && (flags & 2) !== 0)) break;
      chunks.push({ seq, timestamp, keyframe: (flags & 1) !== 0, size });
    }
    if (chunks.length === 0 || !chunks[0].keyframe) throw new Error('early: the answer does not start at a keyframe');
    const [init, body] = await Promise.all([ir.arrayBuffer(), mr.arrayBuffer()]);
    const bytes = chunks.reduce((n, c) => n + c.size, 0);
    if (bytes > body.byteLength) throw new Error('early: a short answer');

    const ms = new MediaSource();
    const url = URL.createObjectURL(ms);
    video.src = url;
    try {
      await new Promise((resolve) => ms.addEventListener('sourceopen', resolve, { once: true }));
      const sb = ms.addSourceBuffer(mime);
      sb.mode = 'segments';
      /** @param {ArrayBuffer} data */
      const append = (data) => new Promise((resolve, reject) => {
        sb.addEventListener('updateend', resolve, { once: true });
        sb.addEventListener('error', () => reject(new Error('early: append failed')), { once: true });
        sb.appendBuffer(data);
      });
      await append(init);
      await append(body.slice(0, bytes));
      if (sb.buffered.length === 0) throw new Error('early: nothing buffered');
      /** @type {number | null} */
      let playingAt = null;
      video.addEventListener('playing', () => { playingAt ??= Date.now(); }, { once: true });
      video.currentTime = sb.buffered.start(0);
      video.play().catch(() => {}); // the player tries again
      const last = chunks[chunks.length - 1];
      return {
        ms, sb, mime, url,
        next: last.seq + 1,
        joinSeq: chunks[0].seq,
        joinTimestamp: chunks[0].timestamp,
        appended: chunks.length,
        edge: { mediaEnd: sb.buffered.end(sb.buffered.length - 1), timestamp: last.timestamp },
        playingAt: () => playingAt,
      };
    } catch (err) {
      URL.revokeObjectURL(url);
      video.removeAttribute('src');
      video.load();
      throw err;
    }
  }
})();
