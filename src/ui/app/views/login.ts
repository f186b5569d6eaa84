// The login page: trades an API key for a server-side session (its id in a cookie), then returns to the page that asked for it; and a sign-out button.

import './studies.css';
import { api, ApiError } from '../api.js';
import { h, mount } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';

/** Where to go after signing in: a route of this app (never the login page again, never another site). */
function nextRoute(query: URLSearchParams): string {
  const next = query.get('next');
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return '/';
  return next;
}

export async function renderLogin(ctx: ViewContext): Promise<void> {
  const next = nextRoute(ctx.query);
  const input = h('input', {
    type: 'password',
    name: 'key',
    id: 'api-key',
    'data-testid': 'api-key',
    autocomplete: 'current-password',
    spellcheck: 'false',
    required: true,
    placeholder: 'API key',
  });
  const error = h('p', { class: 'login-error', 'data-testid': 'login-error', role: 'alert' });
  error.hidden = true;
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Sign in');
  const status = h('div', { class: 'login-status' });

  const showError = (message: string): void => {
    error.textContent = message;
    error.hidden = false;
  };

  const form = h(
    'form',
    { 'data-testid': 'login-form', novalidate: true },
    h('label', { for: 'api-key' }, 'API key', input),
    error,
    h('div', { class: 'actions' }, button),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key.length === 0) {
      showError('Enter an API key.');
      input.focus();
      return;
    }
    button.disabled = true;
    error.hidden = true;
    api
      .login(key)
      .then(() => {
        if (ctx.signal.aborted) return;
        input.value = '';
        location.hash = `#${next}`;
      })
      .catch((e: unknown) => {
        if (ctx.signal.aborted) return;
        button.disabled = false;
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) showError(e.message || 'This key was refused.');
        else showError(`Could not sign in: ${(e as Error).message ?? String(e)}`);
        input.select();
      });
  });

  mount(
    ctx.root,
    h(
      'section',
      { class: 'panel login' },
      h('h1', null, 'Sign in'),
      h(
        'p',
        { class: 'login-hint' },
        'Keys come from ',
        h('code', null, 'lablog keys create --project P'),
        '. Signing in opens a session on the server; this browser keeps only its id, in an HttpOnly cookie, never the key. Sign out ends the session.',
      ),
      status,
      form,
    ),
  );
  input.focus();

  // Already signed in, or a local store that needs no key: say so (the form still lets you switch keys).
  try {
    const overview = await api.overview();
    if (ctx.signal.aborted) return;
    if (overview.mode === 'local') {
      mount(
        status,
        h(
          'p',
          { class: 'muted', 'data-testid': 'login-local' },
          'This UI reads a local store on this machine: no key is needed. ',
          h('a', { href: `#${next}` }, 'Continue'),
        ),
      );
      form.hidden = true;
    } else {
      mount(status, h('p', { class: 'muted' }, 'You are signed in. ', h('a', { href: `#${next}` }, 'Continue'), ' or ', signOutButton()));
    }
  } catch {
    // 401: not signed in — the form is what this page is for
  }
}

/** A button that ends the session (on the server, and its cookie) and shows the login page. */
export function signOutButton(): HTMLButtonElement {
  const button = h('button', { type: 'button', 'data-testid': 'sign-out' }, 'Sign out');
  button.addEventListener('click', () => {
    button.disabled = true;
    void api
      .logout()
      .catch(() => {})
      .then(() => {
        button.disabled = false;
        // On the login page already: show it again, now signed out.
        if (location.hash === href('/login')) window.dispatchEvent(new HashChangeEvent('hashchange'));
        else location.hash = href('/login');
      });
  });
  return button;
}
