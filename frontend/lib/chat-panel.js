// @ts-check
/**
 * The chat panel: a stream's chat room as a piece of page. Used by the
 * viewer page, the embed (`?chat=on`) and the studio:
 *
 *     import { mountChat } from '/lib/chat-panel.js';
 *     const panel = mountChat(document.getElementById('chat'), { stream: 'demo' });
 *     panel.close(); // leave
 *
 * It builds its own markup inside `root` (class names `chat-*`, styled by
 * /css/shoal.css). Every line is rendered with textContent: a message is
 * text, never HTML. When the connection is the stream owner's (signed in
 * as the broadcaster), each line gets moderation buttons (lib/moderation.js).
 * The nickname is kept in localStorage.
 *
 * @module
 */
import { ChatClient, MAX_TEXT, NICK_PATTERN } from './chat.js';
import { moderationButtons } from './moderation.js';

/** Lines kept on screen. */
const MAX_LINES = 200;
const NICK_KEY = 'shoal.chat.nick';

/**
 * @typedef {object} ChatPanel
 * @property {ChatClient} client
 * @property {() => void} close
 */

/**
 * @param {HTMLElement} root
 * @param {{stream: string, title?: string, onCount?: (n: number) => void}} opts
 * @returns {ChatPanel}
 */
export function mountChat(root, { stream, title = 'Chat', onCount }) {
  const client = new ChatClient(stream);
  const doc = root.ownerDocument;
  /**
   * @param {string} tag
   * @param {string} [cls]
   * @param {string} [text]
   */
  const make = (tag, cls, text) => {
    const e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  root.classList.add('chat');
  root.replaceChildren();
  const head = make('header', 'chat-head');
  const h = make('h2', 'chat-title', title);
  const count = make('span', 'chat-count', '');
  const state = make('span', 'chat-state', 'connecting…');
  head.append(h, count, state);

  const list = /** @type {HTMLOListElement} */ (make('ol', 'chat-list'));
  list.setAttribute('aria-live', 'polite');
  list.setAttribute('aria-label', 'Chat messages');
  const empty = make('p', 'chat-empty', 'No messages yet. Say hello!');
  const notice = make('p', 'chat-notice');
  notice.setAttribute('role', 'alert');
  notice.hidden = true;

  const form = /** @type {HTMLFormElement} */ (make('form', 'chat-form'));
  form.noValidate = true;
  const nick = /** @type {HTMLInputElement} */ (make('input', 'chat-nick'));
  Object.assign(nick, { name: 'nick', placeholder: 'Nickname', maxLength: 24, autocomplete: 'nickname', spellcheck: false });
  nick.setAttribute('aria-label', 'Nickname');
  nick.value = loadNick();
  const text = /** @type {HTMLInputElement} */ (make('input', 'chat-input'));
  Object.assign(text, { name: 'text', placeholder: 'Say something…', maxLength: MAX_TEXT, autocomplete: 'off', enterKeyHint: 'send' });
  text.setAttribute('aria-label', 'Message');
  const left = make('span', 'chat-left', '');
  left.setAttribute('aria-hidden', 'true');
  const send = /** @type {HTMLButtonElement} */ (make('button', 'chat-send', 'Send'));
  send.type = 'submit';
  form.append(nick, text, left, send);
  root.append(head, list, empty, notice, form);

  /** @type {ReturnType<typeof setTimeout> | null} */
  let noticeTimer = null;
  /** @param {string} msg @param {'error' | 'info'} [kind] */
  const tell = (msg, kind = 'error') => {
    notice.textContent = msg;
    notice.dataset.kind = kind;
    notice.hidden = false;
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
  };

  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 48;
  const scrollDown = () => { list.scrollTop = list.scrollHeight; };

  /** @param {import('./chat.js').ChatLine} m */
  const addLine = (m) => {
    if (list.querySelector(`[data-id="${m.id}"]`)) return;
    const stick = nearBottom();
    const li = make('li', 'chat-msg');
    li.dataset.id = String(m.id);
    const time = make('time', 'chat-time', clock(m.time));
    time.setAttribute('datetime', new Date(m.time).toISOString());
    const who = make('span', 'chat-who', m.nick);
    if (m.moderator) {
      who.classList.add('chat-owner');
      who.title = 'The broadcaster';
    }
    const body = make('span', 'chat-text', m.text); // textContent: never HTML
    li.append(time, who, body);
    if (client.moderator && !m.moderator) li.append(moderationButtons(client, m, tell));
    list.append(li);
    while (list.childElementCount > MAX_LINES) list.firstElementChild?.remove();
    empty.hidden = true;
    if (stick) scrollDown();
  };

  client.addEventListener('welcome', (e) => {
    const d = /** @type {CustomEvent} */ (e).detail;
    list.replaceChildren(); // the history follows
    empty.hidden = false;
    root.dataset.moderator = String(d.moderator);
    setCount(d.count);
  });
  client.addEventListener('message', (e) => addLine(/** @type {CustomEvent} */ (e).detail));
  client.addEventListener('delete', (e) => {
    const id = /** @type {CustomEvent} */ (e).detail.id;
    list.querySelector(`[data-id="${Number(id)}"]`)?.remove();
    empty.hidden = list.childElementCount > 0;
  });
  client.addEventListener('count', (e) => setCount(/** @type {CustomEvent} */ (e).detail.count));
  client.addEventListener('refused', (e) => tell(/** @type {CustomEvent} */ (e).detail.text));
  client.addEventListener('state', (e) => {
    const d = /** @type {CustomEvent} */ (e).detail;
    root.dataset.state = d.state;
    state.textContent = d.state === 'open' ? '' : d.state === 'connecting' ? 'connecting…' : 'reconnecting…';
    send.disabled = d.state !== 'open';
    if (d.state === 'closed' && d.reason === 'this stream has no chat') {
      state.textContent = 'no chat here';
      form.hidden = true;
    }
  });

  /** @param {number} n */
  function setCount(n) {
    count.textContent = n > 0 ? `${n} here` : '';
    onCount?.(n);
  }

  const updateLeft = () => {
    const n = [...text.value].length;
    left.textContent = n > MAX_TEXT - 50 ? String(MAX_TEXT - n) : '';
  };
  text.addEventListener('input', updateLeft);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const n = nick.value.trim();
    const t = text.value.trim();
    if (!NICK_PATTERN.test(n)) {
      tell('Pick a nickname first: up to 24 letters, digits, “_”, “-” or “.”.');
      nick.focus();
      return;
    }
    if (!t) return;
    if ([...t].length > MAX_TEXT) {
      tell(`Messages are at most ${MAX_TEXT} characters.`);
      return;
    }
    saveNick(n);
    if (client.send(n, t)) {
      text.value = '';
      updateLeft();
      scrollDown();
    } else {
      tell('Not connected: reconnecting…');
    }
  });

  client.connect();
  return { client, close: () => client.close() };
}

/** @param {number} ms */
function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function loadNick() {
  try {
    return localStorage.getItem(NICK_KEY) ?? '';
  } catch {
    return ''; // storage blocked (a third-party iframe, say)
  }
}

/** @param {string} n */
function saveNick(n) {
  try {
    localStorage.setItem(NICK_KEY, n);
  } catch {
    /* not kept: fine */
  }
}
