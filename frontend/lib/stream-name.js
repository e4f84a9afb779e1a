// @ts-check
/** The stream a page is about, from its address. @module */

/**
 * The stream name: `?stream=` wins, else the last path segment (/watch/demo → "demo").
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
