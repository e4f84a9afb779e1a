// @ts-check
/**
 * What every page entry (viewer.js, embed.js, studio.js) needs from the
 * page around it: typed element look-ups, leaving on `pagehide`, and the
 * test hook that only a test gets.
 *
 *     import { $, onPageLeave, testHook } from '/lib/page.js';
 *     const video = $('video', HTMLVideoElement); // typed: HTMLVideoElement
 *     const volume = $('c-volume', HTMLInputElement, playerEl); // inside playerEl
 *     onPageLeave(() => watcher.leave());
 *     testHook('__shoal', hook); // window.__shoal, only when a test asked
 *
 * A test asks for the hooks before the page's scripts run:
 *
 *     await context.addInitScript(() => { window.__shoalTest = true; });
 *
 * @module
 */

/**
 * The element with this id, checked to be a `type` (default HTMLElement):
 * a missing or wrong element throws here, not later as an undefined.
 * With `within`, only that element's descendants count (a player's
 * controls, say: lib/controls.js).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{new (): T, prototype: T}} [type]
 * @param {ParentNode} [within]
 * @returns {T}
 */
export function $(id, type, within) {
  const e = within ? within.querySelector(`#${CSS.escape(id)}`) : document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  const want = type ?? HTMLElement;
  const tag = e.tagName.toLowerCase();
  if (!(e instanceof want)) throw new Error(`#${id} is a <${tag}>, not a ${want.name}`);
  return /** @type {T} */ (e);
}

/**
 * Runs leave when the page goes away (`pagehide`: closed, navigated away,
 * or frozen into the back/forward cache), and starts the page over when
 * the back/forward cache restores it: it has left its swarm and closed
 * its connections, so a reload is the honest way back.
 * @param {() => void} leave
 */
export function onPageLeave(leave) {
  addEventListener('pagehide', () => {
    try {
      leave();
    } catch (err) {
      console.error('page: leaving failed:', err);
    }
  });
  addEventListener('pageshow', (ev) => {
    if (ev.persisted) location.reload();
  });
}

/**
 * Whether a test asked for the pages' hooks (`window.__shoalTest = true`
 * before the page's scripts ran).
 * @returns {boolean}
 */
export function testing() {
  return /** @type {{__shoalTest?: unknown}} */ (globalThis).__shoalTest === true;
}

/**
 * Publishes a page's state object as `window[name]` for the browser tests,
 * only when a test asked for it (see testing); a page in production keeps
 * no globals.
 * @template {object} H
 * @param {string} name
 * @param {H} hook
 * @returns {H}
 */
export function testHook(name, hook) {
  if (testing()) /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (globalThis))[name] = hook;
  return hook;
}
