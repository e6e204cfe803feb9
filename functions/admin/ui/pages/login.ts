import { ApiError, api } from '../api';
import { h, replace } from '../dom';
import { describeError } from '../ui';

/** What a failed login says: the cause in plain words. */
function loginProblem(err: unknown): string {
  if (err instanceof ApiError && err.code === 'BAD_LOGIN') return 'Wrong user name or password.';
  if (err instanceof ApiError && err.code === 'LOCKED') {
    return 'Too many failed logins: this user is locked for 15 minutes. Try again later.';
  }
  return describeError(err);
}

/** The login form; `done` runs after a successful login. */
export function loginView(done: () => void, notice?: string): HTMLElement {
  const problem = h('div', { class: 'login-problem', 'aria-live': 'assertive' });
  if (notice !== undefined)
    replace(problem, h('div', { class: 'alert alert-info', role: 'status' }, notice));
  const user = h('input', {
    id: 'login-user',
    name: 'user',
    required: true,
    autocomplete: 'username',
    autofocus: true,
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    required: true,
    autocomplete: 'current-password',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h(
    'form',
    { class: 'login-card', 'aria-labelledby': 'login-title' },
    h(
      'div',
      { class: 'brand brand-large' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'wx'),
      'hub',
    ),
    h('h1', { id: 'login-title' }, 'Sign in to the console'),
    problem,
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, 'User'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    problem.replaceChildren();
    try {
      await api('POST', 'login', { user: user.value.trim(), password: password.value });
      done();
    } catch (err) {
      password.value = '';
      replace(problem, h('div', { class: 'alert alert-bad', role: 'alert' }, loginProblem(err)));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return h('main', { class: 'login' }, form);
}
