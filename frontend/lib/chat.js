// @ts-check
/**
 * ChatClient: a stream's chat room over the signaling WebSocket.
 *
 * The wasm swarm peer owns its own signaling connection, so chat opens a
 * second one to /api/signal whose first message is `chat-join` (protocol:
 * docs/PROTOCOL.md §1, "Chat"). The connection carries the page's cookies: when the
 * signed-in broadcaster who owns the stream opens it, the server makes it a
 * moderator connection (`welcome.moderator`).
 *
 *     const chat = new ChatClient('demo');
 *     chat.addEventListener('message', (e) => show(e.detail));
 *     chat.connect();
 *     chat.send('ann', 'hello');
 *
 * Events (CustomEvent, data in `detail`):
 *  - `welcome` {moderator, count}: joined; the history follows as `message`s
 *  - `message` {id, nick, text, time, moderator}: one chat line (text is
 *    plain text: render it with textContent, never innerHTML)
 *  - `delete` {id}: a moderator removed a line
 *  - `count` {count}: people in the room
 *  - `refused` {code, text}: the server refused what we sent (too fast,
 *    too long, banned…): show `text` to the user
 *  - `state` {state: 'connecting' | 'open' | 'closed', reason}
 *
 * It reconnects by itself (1 s, then up to 15 s apart) until close().
 *
 * @module
 */

/** Protocol version (shared/signaling.Version). */
const V = 1;
/** Characters in one message, as the server enforces. */
export const MAX_TEXT = 500;
/** Characters in a nickname. */
export const MAX_NICK = 24;
/** What a nickname may hold (the server's check, in a browser's regex). */
export const NICK_PATTERN = /^[\p{L}\p{N}_.-]{1,24}$/u;

/**
 * @typedef {object} ChatLine
 * @property {number} id
 * @property {string} nick
 * @property {string} text
 * @property {number} time       server clock, unix ms
 * @property {boolean} moderator sent by the stream's owner
 */

export class ChatClient extends EventTarget {
  #stream;
  #url;
  /** @type {WebSocket | null} */
  #ws = null;
  #closed = false;
  #backoff = 1000;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #retry = null;
  moderator = false;

  /**
   * @param {string} stream
   * @param {{url?: string}} [opts] url of the signaling endpoint; default this origin's /api/signal
   */
  constructor(stream, opts = {}) {
    super();
    this.#stream = stream;
    this.#url = opts.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/signal`;
  }

  get stream() {
    return this.#stream;
  }

  connect() {
    this.#closed = false;
    this.#open();
  }

  close() {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#ws?.close(1000, 'bye');
    this.#ws = null;
  }

  /**
   * @param {string} nick
   * @param {string} text
   * @returns {boolean} whether it went out (false while disconnected)
   */
  send(nick, text) {
    return this.#write({ type: 'chat-send', nick, text });
  }

  /** @param {number} id  a moderator deletes a line for everyone */
  remove(id) {
    return this.#write({ type: 'chat-delete', msgId: id });
  }

  /**
   * A moderator times out (durationMs > 0) or bans for good (0) the author
   * of line id: their nickname and their connection.
   * @param {number} id
   * @param {number} durationMs
   */
  ban(id, durationMs) {
    return this.#write({ type: 'chat-ban', msgId: id, durationMs: Math.max(0, Math.floor(durationMs)) });
  }

  /** @param {Record<string, unknown>} m */
  #write(m) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ v: V, ...m }));
    return true;
  }

  #open() {
    this.#emit('state', { state: 'connecting', reason: '' });
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      this.#lost(String(err));
      return;
    }
    this.#ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ v: V, type: 'chat-join', stream: this.#stream }));
    });
    ws.addEventListener('message', (ev) => this.#receive(ev.data));
    ws.addEventListener('close', (ev) => {
      if (this.#ws === ws) this.#lost(ev.reason || `closed (${ev.code})`);
    });
  }

  /** @param {string} why */
  #lost(why) {
    this.#ws = null;
    this.#emit('state', { state: 'closed', reason: why });
    if (this.#closed) return;
    this.#retry = setTimeout(() => this.#open(), this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, 15_000);
  }

  /** @param {unknown} data */
  #receive(data) {
    if (typeof data !== 'string') return;
    /** @type {any} */
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (!m || typeof m !== 'object' || m.v !== V) return;
    switch (m.type) {
      case 'chat-welcome':
        this.#backoff = 1000;
        this.moderator = !!m.moderator;
        this.#emit('state', { state: 'open', reason: '' });
        this.#emit('welcome', { moderator: this.moderator, count: Number(m.count) || 0 });
        break;
      case 'chat-msg':
        this.#emit('message', /** @type {ChatLine} */ ({
          id: Number(m.msgId), nick: String(m.nick ?? ''), text: String(m.text ?? ''),
          time: Number(m.serverTime) || Date.now(), moderator: !!m.moderator,
        }));
        break;
      case 'chat-delete':
        this.#emit('delete', { id: Number(m.msgId) });
        break;
      case 'chat-count':
        this.#emit('count', { count: Number(m.count) || 0 });
        break;
      case 'error':
        if (m.code === 'chat-unavailable') this.#closed = true; // this stream has no chat: do not retry
        this.#emit('refused', { code: String(m.code ?? ''), text: String(m.text ?? 'refused') });
        break;
    }
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
