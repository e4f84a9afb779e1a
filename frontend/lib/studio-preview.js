// @ts-check
/**
 * The studio's muted preview of the selected stream, played exactly as
 * viewers play it: watchStream (lib/start.js: HTTP first, then the swarm)
 * feeding lib/media.js's player, in the studio's `.player` element
 * (#preview, with the player controls' markup).
 *
 *     const p = new Preview('show');
 *     p.stats; // {currentTime, latency, state} for the status card
 *     p.stop(); // before previewing another stream, or on pagehide
 *
 * @module
 */
import { watchStream } from './start.js';
import { Media } from './media.js';
import { $ } from './page.js';

/** @typedef {{currentTime: number, latency: number | null, state: import('./media.js').MediaState}} PreviewStats */

/** @type {HTMLElement | null} #preview as the page came, before any player touched it */
let pristine = null;

export class Preview {
  #media;
  #watcher;

  /** @param {string} stream */
  constructor(stream) {
    // A fresh player element per stream: a LivePlayer owns its video's
    // MediaSource, and the controls bind to their buttons for good.
    const old = $('preview');
    pristine ??= /** @type {HTMLElement} */ (old.cloneNode(true));
    const root = /** @type {HTMLElement} */ (pristine.cloneNode(true));
    old.replaceWith(root);
    this.#media = new Media(stream, { player: null, video: null }, root, {
      offlineNote: 'The stream is offline: the preview starts when it is live.',
    });
    this.#media.start();
    this.#watcher = watchStream(stream, this.#media, {
      onError: (msg) => console.warn('studio preview: the peer could not start:', msg),
    });
  }

  /** @returns {PreviewStats} */
  get stats() {
    const m = this.#media;
    const playing = m.state === 'playing';
    return { currentTime: m.video.currentTime, latency: playing ? (m.playerStats?.latency ?? null) : null, state: m.state };
  }

  stop() {
    this.#watcher.leave();
    this.#media.stop();
  }
}
