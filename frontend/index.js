// @ts-check
/**
 * Landing page entry: lists live streams from GET /api/streams (refreshed
 * every few seconds) and sends the "watch a stream" form to /watch/<name>.
 * The form also works without JavaScript, through /viewer.html?stream=<name>.
 */
import { $ } from './lib/page.js';

/** @typedef {{name: string, viewers: number, newestSeq: number, live?: boolean}} StreamInfo */

const REFRESH_MS = 5_000;
const list = $('streams', HTMLUListElement);
const listStatus = $('streams-status');
const updated = $('streams-updated');
const form = $('join', HTMLFormElement);
const input = $('join-stream', HTMLInputElement);

/** @param {string} name */
const watchURL = (name) => `/watch/${encodeURIComponent(name)}`;

form.addEventListener('submit', (ev) => {
  const name = input.value.trim();
  if (!name) return;
  ev.preventDefault();
  location.assign(watchURL(name));
});

/** @param {StreamInfo[]} streams */
function render(streams) {
  const items = streams.map((s) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = watchURL(s.name);
    const name = document.createElement('span');
    name.className = 'stream-title';
    name.textContent = s.name;
    const live = document.createElement('span');
    live.className = s.live ? 'badge' : 'badge badge-off';
    live.textContent = s.live ? 'live' : 'offline';
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = `${s.viewers} ${s.viewers === 1 ? 'viewer' : 'viewers'} · chunk #${s.newestSeq}`;
    a.append(live, name, meta);
    li.append(a);
    return li;
  });
  list.replaceChildren(...items);
  listStatus.hidden = items.length > 0;
  listStatus.textContent = 'No live streams right now. Type a name below if you know one.';
}

async function refresh() {
  try {
    const res = await fetch('/api/streams', { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    if (!Array.isArray(body)) throw new Error('unexpected reply');
    render(/** @type {StreamInfo[]} */ (body));
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    listStatus.hidden = false;
    listStatus.textContent = `Couldn't load the stream list: ${err instanceof Error ? err.message : String(err)}`;
  }
}

refresh();
setInterval(() => {
  if (document.visibilityState === 'visible') refresh();
}, REFRESH_MS);
