// @ts-check
/**
 * What the studio shows beside a stream's OBS settings, as one module the
 * studio page imports: the copyable <iframe> snippet of the embeddable
 * player, the stream's chat with the broadcaster's moderation buttons
 * (delete, time out, ban; the signed-in owner's chat connection is a
 * moderator one), and the list of the stream's chat bans, each with a
 * "Lift" button (lib/studio-bans.js).
 *
 *     import { mountStudioExtras } from '/lib/studio-extras.js';
 *     // the page also links /css/chat.css
 *     let extras = mountStudioExtras(document.getElementById('extras'), 'show');
 *     extras.close(); // before mounting for another stream
 *
 * @module
 */
import { mountChat } from './chat-panel.js';
import { mountBans } from './studio-bans.js';

/**
 * The snippet a site owner pastes to embed a stream.
 * @param {string} stream
 * @param {{origin?: string, chat?: boolean}} [o]
 */
export function embedSnippet(stream, o = {}) {
  const origin = o.origin ?? location.origin;
  const q = `autoplay=1&muted=1${o.chat ? '&chat=on' : ''}`;
  return `<iframe src="${origin}/embed/${encodeURIComponent(stream)}?${q.replaceAll('&', '&amp;')}" ` +
    'width="640" height="360" allow="autoplay; fullscreen" allowfullscreen ' +
    'style="border:0;max-width:100%;aspect-ratio:16/9;height:auto" title="Live on Shoal"></iframe>';
}

/**
 * @param {HTMLElement} root
 * @param {string} stream
 * @returns {{close: () => void}}
 */
export function mountStudioExtras(root, stream) {
  const doc = root.ownerDocument;
  root.replaceChildren();
  root.classList.add('studio-extras');

  const embed = doc.createElement('section');
  embed.className = 'card studio-embed';
  const h = doc.createElement('h2');
  h.textContent = 'Embed on your site';
  const withChat = doc.createElement('label');
  const box = doc.createElement('input');
  box.type = 'checkbox';
  withChat.append(box, ' with chat');
  const code = doc.createElement('textarea');
  code.readOnly = true;
  code.rows = 3;
  code.className = 'mono';
  code.setAttribute('aria-label', 'Embed code');
  code.style.width = '100%';
  const copy = doc.createElement('button');
  copy.type = 'button';
  copy.className = 'btn btn-small';
  copy.textContent = 'Copy';
  const render = () => { code.value = embedSnippet(stream, { chat: box.checked }); };
  box.addEventListener('change', render);
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(code.value);
      copy.textContent = 'Copied';
    } catch {
      code.select();
      copy.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
  });
  render();
  embed.append(h, code, withChat, copy);

  const chatBox = doc.createElement('section');
  chatBox.className = 'studio-chat';
  chatBox.style.height = '420px';
  const bansBox = doc.createElement('section');
  bansBox.id = 'studio-bans';
  root.append(embed, chatBox, bansBox);
  const panel = mountChat(chatBox, { stream, title: 'Chat (you moderate)' });
  const bans = mountBans(bansBox, stream);
  // A ban or time-out from the chat shows in the list once the server has
  // stored it (it sends no answer): look again shortly after.
  chatBox.addEventListener('shoal:moderated', () => { setTimeout(() => bans.refresh(), 500); });
  return { close: () => { panel.close(); bans.close(); } };
}
