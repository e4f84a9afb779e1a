// @ts-check
/**
 * Moderation controls for a chat line, shown to the stream's owner: delete
 * the line for everyone, time its author out for 5 minutes, or ban them
 * (nickname and address) for good. Each action that was sent dispatches a
 * bubbling `shoal:moderated` event from the buttons (the studio refreshes
 * its list of bans on it). The chat panel (lib/chat-panel.js)
 * adds them by itself when its connection is the owner's; a page that
 * draws its own chat (the studio, say) can use them too:
 *
 *     import { moderationButtons } from '/lib/moderation.js';
 *     li.append(moderationButtons(client, line, (msg) => alert(msg)));
 *
 * The server checks every action against the session (only the owner of
 * the stream may); these buttons are only the way to ask.
 *
 * @module
 */

/** A timeout's length. */
export const TIMEOUT_MS = 5 * 60 * 1000;

/**
 * @param {import('./chat.js').ChatClient} client
 * @param {import('./chat.js').ChatLine} line
 * @param {(msg: string, kind?: 'error' | 'info') => void} tell  shows a short notice
 * @returns {HTMLElement}
 */
export function moderationButtons(client, line, tell) {
  const box = document.createElement('span');
  box.className = 'chat-mod';
  /**
   * @param {string} cls
   * @param {string} label
   * @param {string} icon  a short word (emoji fonts are not everywhere)
   * @param {() => boolean} act
   * @param {string} done
   */
  const button = (cls, label, icon, act, done) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `chat-mod-btn ${cls}`;
    b.textContent = icon;
    b.title = label;
    b.setAttribute('aria-label', `${label}: ${line.nick}`);
    b.addEventListener('click', () => {
      if (act()) {
        tell(done, 'info');
        box.dispatchEvent(new CustomEvent('shoal:moderated', { bubbles: true, detail: { action: cls, nick: line.nick } }));
      } else {
        tell('Not connected: try again in a moment.');
      }
    });
    return b;
  };
  box.append(
    button('chat-delete', 'Delete message', 'Delete', () => client.remove(line.id), 'Message deleted.'),
    button('chat-timeout', 'Time out for 5 minutes', '5 min', () => client.ban(line.id, TIMEOUT_MS), `${line.nick} is timed out for 5 minutes.`),
    button('chat-ban', 'Ban', 'Ban', () => client.ban(line.id, 0), `${line.nick} is banned.`),
  );
  return box;
}
