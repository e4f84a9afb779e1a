// @ts-check
/**
 * A small client of the studio's JSON API (/api/studio) for the studio's
 * modules: same-origin, never cached, the session's CSRF token on every
 * mutation (fetched once from /api/studio/session), errors thrown with the
 * server's message, a lost session sent to the sign-in page.
 *
 *     import { studioApi } from '/lib/studio-api.js';
 *     const bans = await studioApi('/api/studio/streams/show/bans');
 *     await studioApi('/api/studio/streams/show/bans/7', { method: 'DELETE' });
 *
 * @module
 */

/** @type {Promise<string> | null} */
let csrf = null;

/** @returns {Promise<string>} the session's CSRF token */
function csrfToken() {
  csrf ??= fetch('/api/studio/session', { credentials: 'same-origin', cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((/** @type {{csrfToken: string}} */ s) => s.csrfToken)
    .catch((err) => { csrf = null; throw err; });
  return csrf;
}

/**
 * Calls the studio API and returns the JSON answer (null for 204).
 * @param {string} path
 * @param {{method?: string, body?: unknown}} [opts]
 * @returns {Promise<any>}
 */
export async function studioApi(path, opts = {}) {
  const method = opts.method ?? 'GET';
  /** @type {Record<string, string>} */
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = await csrfToken();
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (r.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
    throw new Error('signed out');
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}
