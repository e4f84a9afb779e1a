// @ts-check
/**
 * What a watch page (the viewer page, the embed) shows about its stream
 * beside the video: title, description, live or not, how many watch. It
 * asks GET /api/streams/<name>/info at once and every INFO_MS.
 *
 *     const stop = pollInfo('demo', (info) => {
 *       if (!info) return; // the server answered with an error: no such stream now
 *       title.textContent = info.title || info.name;
 *     });
 *     stop(); // no more polls
 *
 * @module
 */

/** How often the stream's info is asked for (ms). */
const INFO_MS = 5000;

/** @typedef {{name: string, title: string, description: string, live: boolean, viewers: number}} StreamInfo */

/**
 * @param {string} stream
 * @param {(info: StreamInfo | null) => void} onInfo  each answer; null when the server answered with an
 *   error. A request that failed (no network, a body that is not JSON) is not reported: the next poll will tell.
 * @returns {() => void} stops polling
 */
export function pollInfo(stream, onInfo) {
  const url = `/api/streams/${encodeURIComponent(stream)}/info`;
  const poll = async () => {
    /** @type {StreamInfo | null} */
    let info = null;
    try {
      const r = await fetch(url, { cache: 'no-store' });
      if (r.ok) info = await r.json();
    } catch {
      return;
    }
    onInfo(info);
  };
  poll();
  const timer = setInterval(poll, INFO_MS);
  return () => clearInterval(timer);
}
