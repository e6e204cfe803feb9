import { ApiError, api, setCsrfToken, whenUnauthorized } from './api';
import { type Child, h, replace } from './dom';
import type { Page, PageContext } from './page';
import { appsPage } from './pages/apps';
import { auditPage } from './pages/audit';
import { authorizersPage } from './pages/authorizers';
import { credentialsPage } from './pages/credentials';
import { dashboardPage } from './pages/dashboard';
import { keysPage } from './pages/keys';
import { loginView } from './pages/login';
import { merchantsPage } from './pages/merchants';
import { messagesPage } from './pages/messages';
import { outboxPage } from './pages/outbox';
import { payPage } from './pages/pay';
import type { Me } from './types';
import { clearFlash, describeError, errorBox, flash, setFlashHost } from './ui';

const PAGES: { path: string; title: string; render: Page }[] = [
  { path: 'dashboard', title: 'Dashboard', render: dashboardPage },
  { path: 'apps', title: 'Apps', render: appsPage },
  { path: 'merchants', title: 'Merchants', render: merchantsPage },
  { path: 'credentials', title: 'Credentials', render: credentialsPage },
  { path: 'messages', title: 'Messages', render: messagesPage },
  { path: 'pay', title: 'Pay notifications', render: payPage },
  { path: 'outbox', title: 'Outbox', render: outboxPage },
  { path: 'authorizers', title: 'Authorizers', render: authorizersPage },
  { path: 'keys', title: 'API keys', render: keysPage },
  { path: 'audit', title: 'Audit log', render: auditPage },
];

const root = document.getElementById('root') ?? document.body;
let me: Me | undefined;
let main: HTMLElement | undefined;
let nav: HTMLElement | undefined;
/** Counts renders, so an answer that arrives after the operator moved on is dropped. */
let renderCount = 0;

/** `#/messages/42?app=shop` → path `messages`, id `42`, query `app=shop`. */
function parseHash(): { path: string; id: string | undefined; params: URLSearchParams } {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [pathPart = '', query = ''] = raw.split('?', 2);
  const [path = '', id] = pathPart.split('/');
  return {
    path: path === '' ? 'dashboard' : path,
    id: id === undefined || id === '' ? undefined : decodeURIComponent(id),
    params: new URLSearchParams(query),
  };
}

async function render(focus: boolean): Promise<void> {
  if (me === undefined || main === undefined) return;
  const { path, id, params } = parseHash();
  const page = PAGES.find((p) => p.path === path);
  const mine = ++renderCount;
  for (const a of nav?.querySelectorAll('a') ?? []) {
    if (a.getAttribute('href') === `#/${path}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${page?.title ?? 'Not found'} · wxhub console`;
  if (page === undefined) {
    replace(
      main,
      h('h1', {}, 'Not found'),
      h('p', {}, 'No such page. ', h('a', { href: '#/dashboard' }, 'Go to the dashboard.')),
    );
    return;
  }
  main.setAttribute('aria-busy', 'true');
  const ctx: PageContext = {
    me,
    id,
    params,
    go: (hash) => {
      if (window.location.hash === hash) void render(false);
      else window.location.hash = hash;
    },
    reload: () => void render(false),
  };
  let content: Child;
  try {
    content = await page.render(ctx);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    content = [h('h1', {}, page.title), errorBox(err)];
  }
  if (mine !== renderCount) return;
  main.removeAttribute('aria-busy');
  replace(main, content);
  // Which hash the page shows now (the browser tests wait for it).
  main.dataset.rendered = window.location.hash;
  if (focus) {
    // A new page starts at its top, with focus on it (read out by screen readers).
    main.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

function shell(user: Me): void {
  const notices = h('div', { class: 'notices' });
  setFlashHost(notices);
  main = h('main', { id: 'main', tabindex: -1 });
  nav = h(
    'nav',
    { class: 'sidebar', 'aria-label': 'Console' },
    h(
      'ul',
      {},
      PAGES.map((p) => h('li', {}, h('a', { href: `#/${p.path}` }, p.title))),
    ),
  );
  const logout = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Log out');
  logout.addEventListener('click', async () => {
    try {
      await api('POST', 'logout');
      showLogin('You are logged out.');
    } catch (err) {
      flash(describeError(err), 'bad');
    }
  });
  replace(
    root,
    h(
      'a',
      {
        class: 'skip',
        href: '#main',
        onclick: (ev: Event) => {
          ev.preventDefault();
          main?.focus();
        },
      },
      'Skip to the page',
    ),
    h(
      'div',
      { class: 'app' },
      h(
        'header',
        { class: 'topbar' },
        h(
          'a',
          { class: 'brand', href: '#/dashboard' },
          h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'wx'),
          'hub',
          h('span', { class: 'brand-sub' }, 'console'),
        ),
        h(
          'span',
          { class: 'who' },
          'Signed in as ',
          h('strong', { 'data-testid': 'user' }, user.user.name),
        ),
        logout,
      ),
      nav,
      h('div', { class: 'content' }, notices, main),
    ),
  );
}

function showLogin(notice?: string): void {
  me = undefined;
  main = undefined;
  setCsrfToken('');
  document.title = 'Sign in · wxhub console';
  replace(
    root,
    loginView(() => void start(), notice),
  );
  root.querySelector<HTMLInputElement>('#login-user')?.focus();
}

async function start(): Promise<void> {
  try {
    me = await api<Me>('GET', 'me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin();
    else replace(root, h('main', { class: 'login' }, errorBox(err)));
    return;
  }
  setCsrfToken(me.csrfToken);
  shell(me);
  await render(false);
}

whenUnauthorized(() => {
  if (me !== undefined) showLogin('Your session has ended. Sign in again.');
});
window.addEventListener('hashchange', () => {
  // A notice belongs to the page it was given on.
  clearFlash();
  void render(true);
});
void start();
