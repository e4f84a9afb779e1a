// @ts-check
/**
 * The studio's list of a stream's chat bans, with a "Lift" button each
 * (the owner only: the API answers 404 to anyone else). A ban from the
 * chat's Ban or 5 min buttons covers the author's nickname and address,
 * two rows in the store; the list shows them as one line ("nickname and
 * address") and lifts both together.
 *
 *     import { mountBans } from '/lib/studio-bans.js';
 *     const bans = mountBans(document.getElementById('bans'), 'show');
 *     bans.refresh(); // after a ban in the chat panel
 *     bans.close();
 *
 * @module
 */
import { studioApi, streamPath } from './studio-api.js';

/** How often the list refreshes itself while shown (ms). */
const REFRESH_MS = 10_000;

/**
 * @typedef {object} Ban
 * @property {number} id
 * @property {'nickname' | 'address'} kind
 * @property {string} label    whom the ban was for
 * @property {string} [reason]
 * @property {string} created  RFC 3339
 * @property {string | null} until  RFC 3339; null for good
 */

/**
 * Groups the rows of one person's ban (same label, same end: one moderator
 * action stores its two rows a millisecond or so apart) into one entry.
 * @param {Ban[]} bans
 * @returns {{label: string, kinds: string[], until: string | null, ids: number[]}[]}
 */
export function groupBans(bans) {
  /** @type {Map<string, {label: string, kinds: string[], until: string | null, ids: number[]}>} */
  const groups = new Map();
  for (const b of bans) {
    const key = `${b.label.toLowerCase()}\u0000${b.until ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      g = { label: b.label, kinds: [], until: b.until, ids: [] };
      groups.set(key, g);
    }
    g.kinds.push(b.kind);
    g.ids.push(b.id);
  }
  return [...groups.values()];
}

/**
 * "nickname and address", "nickname and 2 addresses", "address".
 * @param {string[]} kinds
 * @returns {string}
 */
export function describeKinds(kinds) {
  const n = kinds.filter((k) => k === 'address').length;
  const parts = [];
  if (kinds.includes('nickname')) parts.push('nickname');
  if (n === 1) parts.push('address');
  if (n > 1) parts.push(`${n} addresses`);
  return parts.join(' and ');
}

/**
 * @param {string | null} until
 * @returns {string}
 */
function describeUntil(until) {
  if (!until) return 'for good';
  const left = Math.max(0, Date.parse(until) - Date.now());
  const min = Math.ceil(left / 60_000);
  return min >= 120 ? `for ${Math.round(min / 60)} h more` : `for ${min} min more`;
}

/**
 * @param {HTMLElement} root
 * @param {string} stream
 * @returns {{refresh: () => Promise<void>, close: () => void}}
 */
export function mountBans(root, stream) {
  const doc = root.ownerDocument;
  const path = `${streamPath(stream)}/bans`;
  root.replaceChildren();
  root.classList.add('card', 'studio-bans');
  const head = doc.createElement('div');
  head.className = 'card-head';
  const h = doc.createElement('h2');
  h.textContent = 'Chat bans';
  const reload = doc.createElement('button');
  reload.type = 'button';
  reload.className = 'btn btn-small';
  reload.textContent = 'Refresh';
  head.append(h, reload);
  const note = doc.createElement('p');
  note.className = 'muted';
  note.textContent = 'A ban from the chat covers the nickname and the address it came from (kept as a salted hash), so a new nickname from the same address stays banned.';
  const list = doc.createElement('ul');
  list.className = 'bans';
  list.id = 'ban-list';
  const empty = doc.createElement('p');
  empty.className = 'empty';
  empty.textContent = 'Nobody is banned.';
  const error = doc.createElement('p');
  error.className = 'form-error';
  error.setAttribute('role', 'alert');
  error.hidden = true;
  root.append(head, note, list, empty, error);

  let closed = false;
  /** @param {unknown} err */
  const fail = (err) => {
    error.textContent = err instanceof Error ? err.message : String(err);
    error.hidden = false;
  };

  const refresh = async () => {
    if (closed) return;
    try {
      /** @type {Ban[]} */
      const bans = await studioApi(path);
      if (closed) return;
      error.hidden = true;
      const groups = groupBans(bans);
      list.replaceChildren(...groups.map((g) => {
        const li = doc.createElement('li');
        li.className = 'ban';
        const who = doc.createElement('strong');
        who.textContent = g.label || '(unknown)'; // text, never HTML
        const what = doc.createElement('span');
        what.className = 'muted';
        what.textContent = ` ${describeKinds(g.kinds)}, ${describeUntil(g.until)} `;
        const lift = doc.createElement('button');
        lift.type = 'button';
        lift.className = 'btn btn-small';
        lift.textContent = 'Lift';
        lift.setAttribute('aria-label', `Lift the ban of ${g.label}`);
        lift.addEventListener('click', async () => {
          lift.disabled = true;
          try {
            for (const id of g.ids) {
              await studioApi(`${path}/${id}`, { method: 'DELETE' }).catch((err) => {
                if (!String(err?.message).includes('no such ban')) throw err;
              });
            }
            await refresh();
          } catch (err) {
            lift.disabled = false;
            fail(err);
          }
        });
        li.append(who, what, lift);
        return li;
      }));
      empty.hidden = groups.length > 0;
    } catch (err) {
      fail(err);
    }
  };
  reload.addEventListener('click', () => { refresh(); });
  const timer = setInterval(refresh, REFRESH_MS);
  refresh();
  return {
    refresh,
    close: () => { closed = true; clearInterval(timer); },
  };
}
