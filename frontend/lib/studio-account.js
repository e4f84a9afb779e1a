// @ts-check
/**
 * The studio's account card: change the password (the current one first;
 * every other browser signed in to the account is signed out), and "Sign
 * out everywhere" (every session, this one included).
 *
 *     import { mountAccount } from '/lib/studio-account.js';
 *     mountAccount(document.getElementById('account'));
 *
 * @module
 */
import { studioApi } from './studio-api.js';

/** The server's minimum (auth.MinPasswordLen). */
const MIN_PASSWORD = 10;

/**
 * @param {HTMLElement} root
 */
export function mountAccount(root) {
  const doc = root.ownerDocument;
  root.replaceChildren();
  root.classList.add('card', 'studio-account');
  root.setAttribute('aria-labelledby', 'account-title');

  const h = doc.createElement('h2');
  h.id = 'account-title';
  h.textContent = 'Account';

  /**
   * @param {string} label
   * @param {string} id
   * @param {string} autocomplete
   */
  const field = (label, id, autocomplete) => {
    const l = doc.createElement('label');
    const i = doc.createElement('input');
    i.type = 'password';
    i.id = id;
    i.required = true;
    i.maxLength = 1024;
    i.autocomplete = /** @type {AutoFill} */ (autocomplete);
    if (autocomplete === 'new-password') i.minLength = MIN_PASSWORD;
    l.append(label, i);
    return { l, i };
  };
  const form = doc.createElement('form');
  form.className = 'stack';
  form.id = 'password-form';
  const cur = field('Current password', 'pw-current', 'current-password');
  const next = field(`New password (at least ${MIN_PASSWORD} characters)`, 'pw-new', 'new-password');
  const again = field('New password again', 'pw-again', 'new-password');
  const submit = doc.createElement('button');
  submit.type = 'submit';
  submit.className = 'btn btn-primary';
  submit.textContent = 'Change password';
  const row = doc.createElement('div');
  row.className = 'row';
  row.append(submit);
  form.append(cur.l, next.l, again.l, row);

  const status = doc.createElement('p');
  status.className = 'muted';
  status.id = 'account-status';
  status.setAttribute('role', 'status');
  const error = doc.createElement('p');
  error.className = 'form-error';
  error.id = 'account-error';
  error.setAttribute('role', 'alert');
  error.hidden = true;

  const everywhere = doc.createElement('button');
  everywhere.type = 'button';
  everywhere.className = 'btn btn-danger';
  everywhere.id = 'sign-out-everywhere';
  everywhere.textContent = 'Sign out everywhere';
  const evNote = doc.createElement('p');
  evNote.className = 'muted';
  evNote.textContent = 'Ends every session of this account, on every browser, this one included.';

  root.append(h, form, error, status, everywhere, evNote);

  /** @param {unknown} err */
  const fail = (err) => {
    error.textContent = err instanceof Error ? err.message : String(err);
    error.hidden = false;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    status.textContent = '';
    if (next.i.value !== again.i.value) {
      fail(new Error('The two new passwords differ.'));
      return;
    }
    submit.disabled = true;
    try {
      const r = await studioApi('/api/studio/password', { method: 'POST', body: { current: cur.i.value, new: next.i.value } });
      form.reset();
      status.textContent = `Password changed; ${r.signedOut} other session(s) signed out.`;
      // This browser has a new session, and so a new CSRF token: reload
      // so that every part of the page uses it.
      setTimeout(() => location.reload(), 1500);
    } catch (err) {
      fail(err);
    } finally {
      submit.disabled = false;
    }
  });

  everywhere.addEventListener('click', async () => {
    if (!confirm('Sign out of every browser, this one included?')) return;
    everywhere.disabled = true;
    try {
      await studioApi('/api/studio/sessions', { method: 'DELETE' });
      location.assign('/login');
    } catch (err) {
      everywhere.disabled = false;
      fail(err);
    }
  });
}
