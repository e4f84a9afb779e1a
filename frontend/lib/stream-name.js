// @ts-check
/** The stream a page is about, from its address, and the URLs of its media. @module */

/**
 * The stream name: `?stream=` wins, else the last path segment (/watch/demo → "demo").
 * lib/early.js keeps a copy (frontend/test/early.test.mjs checks they agree).
 * @param {Location | URL} loc
 * @returns {string} the name, or "" when the address names none
 */
export function streamFromLocation(loc) {
  const q = new URLSearchParams(loc.search).get('stream');
  if (q && q.trim()) return q.trim();
  const last = loc.pathname.split('/').filter(Boolean).at(-1) ?? '';
  if (last === '' || last.endsWith('.html')) return '';
  try {
    return decodeURIComponent(last);
  } catch {
    return '';
  }
}

/** @param {string} stream @returns {string} where the stream's init segment is */
export function initURL(stream) {
  return `/api/streams/${encodeURIComponent(stream)}/init`;
}

/** @param {string} stream @returns {string} where the stream's media is (lib/httpfeed.js) */
export function mediaURL(stream) {
  return `/api/streams/${encodeURIComponent(stream)}/media`;
}

/**
 * The request lib/early.js started for url as the page opened, once; null
 * when it started none (or it was taken): then fetch it yourself.
 * @param {string} url
 * @returns {{sentAt: number, response: Promise<Response>} | null}
 */
export function takeEarly(url) {
  /** @type {Record<string, {sentAt: number, response: Promise<Response>}> | undefined} */
  const started = /** @type {any} */ (globalThis).shoalEarly;
  const e = started?.[url] ?? null;
  if (e) delete started?.[url];
  return e;
}
