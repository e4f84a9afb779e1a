// @ts-check
/**
 * The client of the studio's JSON API (/api/studio) for the studio page
 * and its modules: same-origin, never cached, the session's CSRF token on
 * every mutation (from /api/studio/session, fetched once), errors thrown
 * with the server's message, a lost session sent to the sign-in page.
 *
 *     import { studioApi, studioSession, streamPath } from '/lib/studio-api.js';
 *     const me = await studioSession(); // {username, csrfToken}
 *     const bans = await studioApi(`${streamPath('show')}/bans`);
 *     await studioApi(`${streamPath('show')}/bans/7`, { method: 'DELETE' });
 *
 * @module
 */

/** @typedef {{username: string, csrfToken: string}} Session */

/** @type {Promise<Session> | null} */
let session = null;

/**
 * The signed-in session (fetched once; again after a failure).
 * @returns {Promise<Session>}
 */
export function studioSession() {
  session ??= request('/api/studio/session', 'GET', {}).catch((err) => {
    session = null;
    throw err;
  });
  return session;
}

/**
 * The API path of one of the signed-in broadcaster's streams.
 * @param {string} name
 */
export function streamPath(name) {
  return `/api/studio/streams/${encodeURIComponent(name)}`;
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
  if (method !== 'GET') headers['X-CSRF-Token'] = (await studioSession()).csrfToken;
  return request(path, method, headers, opts.body);
}

/**
 * @param {string} path
 * @param {string} method
 * @param {Record<string, string>} headers
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function request(path, method, headers, body) {
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
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
