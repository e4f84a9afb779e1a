// @ts-check
/**
 * The two requests a watch page's first frame waits on — the stream's init
 * segment and its newest media from the last keyframe — started before
 * anything else on the page runs. The pages load this classic script
 * first in their <head>: a module, even async, ran only once the browser
 * got round to it, 300-800 ms later on a busy machine. lib/media.js and
 * lib/httpfeed.js take the answers (each once: takeEarly in
 * lib/stream-name.js) instead of asking again.
 *
 * The stream is named as lib/stream-name.js's streamFromLocation names it
 * (`?stream=`, else the address's last path segment), by a copy: an
 * import would wait for the module. frontend/test/early.test.mjs runs both
 * on a table of addresses.
 */
(() => {
  const loc = location;
  let stream = new URLSearchParams(loc.search).get('stream')?.trim() ?? '';
  if (stream === '') {
    const last = loc.pathname.split('/').filter(Boolean).at(-1) ?? '';
    if (last === '' || last.endsWith('.html')) return;
    try {
      stream = decodeURIComponent(last);
    } catch {
      return;
    }
  }
  /** @type {Record<string, {sentAt: number, response: Promise<Response>}>} */
  const started = {};
  for (const what of ['init', 'media']) {
    const url = `/api/streams/${encodeURIComponent(stream)}/${what}`;
    const response = fetch(url, { cache: 'no-store', priority: 'high' });
    response.catch(() => {}); // whoever takes it sees the failure
    started[url] = { sentAt: Date.now(), response };
  }
  /** @type {any} */ (globalThis).shoalEarly = started;
})();
