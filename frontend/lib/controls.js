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

import { $ } from './page.js';

/** @typedef {import('./player.js').PlayerStats} PlayerStats */

/**
 * Icons as SVG paths (24×24): emoji glyphs look different on every system
 * and not at all where no emoji font is installed.
 */
const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zM14 5h4v14h-4z',
  muted: 'M3 9v6h4l5 5V4L7 9H3zm13.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z',
  sound: 'M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z',
  full: 'M5 5h6v2H7v4H5zm8 0h6v6h-2V7h-4zM5 13h2v4h4v2H5zm12 0h2v6h-6v-2h4z',
};

/**
 * Puts an icon in a button (its label stays in aria-label).
 * @param {HTMLElement} button
 * @param {keyof typeof ICONS} name
 */
function setIcon(button, name) {
  if (button.dataset.icon === name) return;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '22');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('fill', 'currentColor');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  button.replaceChildren(svg);
  button.dataset.icon = name;
}

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
    this.#els = {
      play: $('c-play', HTMLButtonElement, root),
      mute: $('c-mute', HTMLButtonElement, root),
      volume: $('c-volume', HTMLInputElement, root),
      live: $('c-live', HTMLButtonElement, root),
      latency: $('c-latency', HTMLElement, root),
      full: $('c-full', HTMLButtonElement, root),
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
    setIcon(e.full, 'full');
    this.#render();
  }

  /** @param {PlayerStats} s */
  update(s) {
    const lat = s.latency;
    const live = lat !== null && lat < 5 && !this.#video.paused;
    // Written only when changed: each write costs a style and layout pass.
    if (this.#els.live.dataset.live !== String(live)) this.#els.live.dataset.live = String(live);
    const text = lat === null ? '' : `−${Math.max(0, lat).toFixed(1)} s`;
    if (this.#els.latency.textContent !== text) this.#els.latency.textContent = text;
  }

  #render() {
    const v = this.#video;
    const e = this.#els;
    setIcon(e.play, v.paused ? 'play' : 'pause');
    e.play.setAttribute('aria-label', v.paused ? 'Play' : 'Pause');
    const muted = v.muted || v.volume === 0;
    setIcon(e.mute, muted ? 'muted' : 'sound');
    e.mute.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
    e.volume.value = String(muted ? 0 : v.volume);
  }
}
