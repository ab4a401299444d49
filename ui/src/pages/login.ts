// The login form shown when the controller runs with an API token and the browser has no session:
// the token is posted once (never put in a URL) and answered with an HttpOnly session cookie.
import { postJson } from '../api.js';
import { h, replaceChildren } from '../dom.js';

export function showLogin(main: HTMLElement, onLoggedIn: () => void): void {
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true, 'aria-label': 'token' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'login card' },
    h('h1', null, 'Log in'),
    h('p', { class: 'muted' }, 'This controller requires its API token. Enter it to read its status.'),
    token,
    h('button', { type: 'submit' }, 'Log in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const res = await postJson('/ui/login', { token: token.value });
      if (res.status === 200) return onLoggedIn();
      error.textContent = res.body.message ?? `login failed (${res.status})`;
      token.select();
    })();
  });
  replaceChildren(main, form);
  token.focus();
}
