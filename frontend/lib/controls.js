// @ts-check
/**
 * Player controls: play/pause, mute and volume, full screen, and a LIVE
 * badge showing how far behind live the playhead is (click it to jump back
 * to live). Binds to the markup in viewer.html (and the embed page):
 *
 *     const controls = new Controls(root, video, { goLive: () => player.goLive() });
 *     controls.update(player.stats); // a few times a second
 *
 * @module
 */

/** @typedef {import('./player.js').PlayerStats} PlayerStats */

export class Controls {
  #root;
  #video;
  #els;

  /**
   * @param {HTMLElement} root     the .player element
   * @param {HTMLVideoElement} video
   * @param {{goLive: () => void}} actions
   */
  constructor(root, video, { goLive }) {
    this.#root = root;
    this.#video = video;
    /** @param {string} id */
    const el = (id) => {
      const e = root.querySelector(`#${id}`);
      if (!e) throw new Error(`controls: missing #${id}`);
      return /** @type {HTMLElement} */ (e);
    };
    this.#els = {
      play: el('c-play'),
      mute: el('c-mute'),
      volume: /** @type {HTMLInputElement} */ (el('c-volume')),
      live: el('c-live'),
      latency: el('c-latency'),
      full: el('c-full'),
    };
    const e = this.#els;
    e.play.addEventListener('click', () => (video.paused ? video.play().catch(() => {}) : video.pause()));
    e.mute.addEventListener('click', () => {
      video.muted = !video.muted;
      if (!video.muted && video.volume === 0) video.volume = 0.5;
    });
    e.volume.addEventListener('input', () => {
      video.volume = Number(e.volume.value);
      video.muted = video.volume === 0;
    });
    e.live.addEventListener('click', () => {
      goLive();
      video.play().catch(() => {});
    });
    e.full.addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen?.().catch(() => {});
    });
    video.addEventListener('play', () => this.#render());
    video.addEventListener('pause', () => this.#render());
    video.addEventListener('volumechange', () => this.#render());
    root.addEventListener('dblclick', () => e.full.click());
    this.#render();
  }

  /** @param {PlayerStats} s */
  update(s) {
    const lat = s.latency;
    const live = lat !== null && lat < 5 && !this.#video.paused;
    this.#els.live.dataset.live = String(live);
    this.#els.latency.textContent = lat === null ? '' : `−${Math.max(0, lat).toFixed(1)} s`;
  }

  #render() {
    const v = this.#video;
    const e = this.#els;
    e.play.textContent = v.paused ? '▶' : '❚❚';
    e.play.setAttribute('aria-label', v.paused ? 'Play' : 'Pause');
    const muted = v.muted || v.volume === 0;
    e.mute.textContent = muted ? '🔇' : '🔊';
    e.mute.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
    e.volume.value = String(muted ? 0 : v.volume);
  }
}
