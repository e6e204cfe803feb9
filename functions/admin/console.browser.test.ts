import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainOutbox } from '../../shared/callbacks/forward';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { testTargets } from '../../shared/store/testing';
import { createTestHub, type TestHub } from '../testing';
import { consoleApps, launchChromium, type SeededConsole, seedConsole } from './console-testing';

const ADMIN = 'ops';
const PASSWORD = 'correct horse battery staple';
const SCREENSHOTS = 'docs/screenshots';

/** Every page of the console, by its hash. */
const PAGES = [
  'dashboard',
  'apps',
  'merchants',
  'credentials',
  'messages',
  'pay',
  'outbox?status=dead',
  'outbox?status=pending',
  'authorizers',
  'keys',
  'audit',
];

// The console in Debian's Chromium against a real hub on a real port (SQLite, and MySQL when
// TEST_MYSQL_URL is set), with a day of traffic seeded through the hub's routes and the simulator.
// The README's screenshots come from the SQLite run.
describe.each(testTargets())(
  'console in Chromium on $name',
  (target) => {
    let hub: TestHub;
    let server: RunningServer;
    let seeded: SeededConsole;
    let browser: Browser;
    /** Every console problem the browser reported: CSP refusals, script errors. */
    const problems: string[] = [];
    /** The text of every admin API answer the pages received. */
    const answers: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      const { oa, mp } = consoleApps();
      hub = await createTestHub(target, {
        apps: [oa, mp],
        env: { WXHUB_ADMIN_USER: ADMIN, WXHUB_ADMIN_PASSWORD: PASSWORD },
      });
      seeded = await seedConsole(hub);
      server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
      // Seeding a day takes a few seconds alone, far more on a machine busy with other suites.
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await server?.close(1_000);
      await seeded?.close();
      await hub?.close();
    });

    async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().includes('status of 40')) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('response', async (res) => {
        if (!res.url().includes('/admin/api/')) return;
        try {
          answers.push(await res.text());
        } catch {
          // A redirect or an aborted request has no body to read.
        }
      });
      return { context, page };
    }

    /** Goes to `#/hash` and waits for the page to be rendered from its answers. */
    async function open(page: Page, hash: string): Promise<void> {
      await page.goto(`${server.url}/admin/#/${hash}`);
      // A selector, not a function: the page's CSP refuses the eval a string predicate needs.
      await page.locator(`main#main[data-rendered=${JSON.stringify(`#/${hash}`)}]`).waitFor();
    }

    async function logIn(page: Page, password = PASSWORD): Promise<void> {
      await page.goto(`${server.url}/admin/`);
      await page.fill('#login-user', ADMIN);
      await page.fill('#login-password', password);
      await page.click('form.login-card button[type=submit]');
    }

    async function loggedIn(): Promise<{ context: BrowserContext; page: Page }> {
      const p = await newPage();
      await logIn(p.page);
      await p.page.waitForSelector('[data-testid=user]');
      return p;
    }

    it('shows a wrong password plainly, then logs in with the keyboard alone, and out', async () => {
      const { context, page } = await newPage();
      await logIn(page, 'not the password at all');
      // Playwright's waits (30 s), not a poll's 1 s: a slow password hash on a busy machine.
      await page.waitForSelector('.login-problem .alert');
      expect(await page.textContent('.login-problem')).toBe('Wrong user name or password.');
      expect(await page.inputValue('#login-password')).toBe('');
      // Focus starts in the user field; Tab reaches the password, Enter sends.
      await page.goto(`${server.url}/admin/`);
      await page.waitForSelector('#login-user:focus');
      await page.keyboard.type(ADMIN);
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=user]');
      expect(await page.textContent('[data-testid=user]')).toBe(ADMIN);
      await page.waitForSelector('.stats');
      await page.click('text=Log out');
      await page.waitForSelector('#login-user');
      expect(await page.textContent('.login-problem')).toBe('You are logged out.');
      const me = await page.evaluate(async () => (await fetch('/admin/api/me')).status);
      expect(me).toBe(401);
      await context.close();
    });

    it('sends the operator back to the login, saying why, when the session is gone', async () => {
      const { context, page } = await loggedIn();
      await open(page, 'apps');
      await context.clearCookies();
      await page.click('nav.sidebar >> text=Messages');
      await page.waitForSelector('#login-user');
      expect(await page.textContent('.login-problem')).toBe(
        'Your session has ended. Sign in again.',
      );
      await context.close();
    });

    it('draws the dashboard from a day of traffic and writes its screenshot', async () => {
      const { context, page } = await loggedIn();
      await open(page, 'dashboard');
      // Every credential the seeding fetched is listed with its freshness.
      const credentials = page.locator('main section.card', { hasText: 'Credentials' });
      const rows = await credentials.locator('tbody tr').allTextContents();
      expect(rows.some((r) => r.includes('coffee-oa'))).toBe(true);
      expect(rows.some((r) => r.includes('coffee-mp'))).toBe(true);
      // The chart has a line per series and the seeded pushes in its numbers.
      expect(await page.locator('svg.chart .series').count()).toBe(3);
      const pushes = Number(
        (await page.locator('.stat-value').first().textContent())?.replace(/,/g, ''),
      );
      expect(pushes).toBeGreaterThan(100);
      expect(await page.textContent('.stats')).toContain('Deliveries dead');
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.mouse.move(0, 0);
      if (target.name === 'sqlite') {
        await page.screenshot({ path: `${SCREENSHOTS}/dashboard.png`, fullPage: true });
      }
      await context.close();
    });

    it('searches messages, shows one decrypted with its raw body, and writes the screenshot', async () => {
      const { context, page } = await loggedIn();
      await open(page, 'messages');
      expect(await page.locator('main tbody tr').count()).toBeGreaterThan(10);
      mkdirSync(SCREENSHOTS, { recursive: true });
      if (target.name === 'sqlite') {
        await page.screenshot({ path: `${SCREENSHOTS}/messages.png`, fullPage: false });
      }
      await page.fill('input[name=openid]', seeded.deadOpenid);
      await page.click('main button[type=submit]');
      await page
        .locator(`main#main[data-rendered*=${JSON.stringify(seeded.deadOpenid)}]`)
        .waitFor();
      expect(await page.locator('main tbody tr').count()).toBe(1);
      await page.click('main tbody tr a >> nth=0');
      await page.waitForSelector('pre.raw');
      // Decrypted fields, and the body as WeChat sent it (encrypted: its envelope).
      const fields = page.locator('main section.card', { hasText: 'Fields' });
      expect(await fields.textContent()).toContain(seeded.deadOpenid);
      expect(await fields.textContent()).toContain('unsubscribe');
      expect(await page.textContent('pre.raw')).toContain('<Encrypt>');
      await context.close();
    });

    it('requeues a dead delivery and shows it delivered', async () => {
      const { context, page } = await loggedIn();
      await open(page, 'outbox?status=dead');
      const row = page.locator('main tbody tr', { hasText: seeded.crm.url });
      expect(await row.count()).toBe(1);
      seeded.crm.mode = 'up';
      await row.locator('button', { hasText: 'Requeue' }).click();
      await page.waitForSelector('.notices .alert-ok');
      // The timer's pass sends what is due (the requeued delivery is due now).
      await drainOutbox(hub.deps, {});
      expect(seeded.crm.received).toHaveLength(1);
      await open(page, 'outbox?status=dead');
      expect(await page.locator('main tbody tr', { hasText: seeded.crm.url }).count()).toBe(0);
      await open(page, `messages?openid=${seeded.deadOpenid}`);
      await page.click('main tbody tr a >> nth=0');
      await page.waitForSelector('pre.raw');
      const delivery = page.locator('main tr', { hasText: seeded.crm.url });
      expect(await delivery.locator('.badge').textContent()).toBe('delivered');
      await context.close();
    });

    it('refreshes a credential now: a new value from WeChat, a new version', async () => {
      // A classic-mode app: every fetch from WeChat is a new token.
      const { mp } = consoleApps();
      const { context, page } = await loggedIn();
      // The filter form puts its values in the hash, which the page then shows.
      await open(page, 'credentials');
      await page.fill('form.filters input[name=owner]', `app:${mp.name}`);
      await page.click('form.filters button:has-text("Filter")');
      const filtered = new URLSearchParams({ owner: `app:${mp.name}` }).toString();
      await page.locator(`main#main[data-rendered="#/credentials?${filtered}"]`).waitFor();
      await open(page, `credentials?owner=app:${mp.name}`);
      const row = () =>
        page
          .locator('main tbody tr')
          .filter({ has: page.locator('code', { hasText: /^access_token$/ }) });
      expect(await row().count()).toBe(1);
      const cell = (i: number) => row().locator('td').nth(i).textContent();
      const [maskedBefore, versionBefore] = [await cell(2), await cell(4)];
      const fetched = hub.sim.sim.calls('/cgi-bin/token', mp.appId);
      await row().locator('button', { hasText: 'Refresh now' }).click();
      await page.waitForSelector('.notices .alert-ok');
      expect(await page.textContent('.notices')).toContain(`Refreshed app:${mp.name} access_token`);
      expect(hub.sim.sim.calls('/cgi-bin/token', mp.appId)).toBe(fetched + 1);
      expect(Number(await cell(4))).toBeGreaterThan(Number(versionBefore));
      // Masked: at most the first and last 4 characters, and a new value.
      const masked = await cell(2);
      expect(masked).toMatch(/^.{0,4}….{0,4}$/);
      expect(masked).not.toBe(maskedBefore);
      await context.close();
    });

    it('creates an API key shown once, which then works on /v1/', async () => {
      const { oa } = consoleApps();
      const { context, page } = await loggedIn();
      await open(page, 'keys');
      await page.fill('#key-name', 'orders-service');
      await page.click('text=Create key');
      const key = (await page.locator('[data-testid=new-key]').textContent()) ?? '';
      expect(key.length).toBeGreaterThan(20);
      const res = await fetch(`${server.url}/v1/apps/${oa.name}/token`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      expect(await page.textContent('main')).toContain('orders-service');
      await page.reload();
      await page.locator('main#main[data-rendered="#/keys"]').waitFor();
      expect(await page.textContent('main')).toContain('orders-service');
      expect(await page.content()).not.toContain(key);
      expect(answers.filter((a) => a.includes(key))).toHaveLength(1);
      await context.close();
    });

    it('adds an app with a secret, which then appears in no page and no API answer', async () => {
      const secret = 'Secret-Shown-Nowhere-7f3a9c2e5b';
      const { context, page } = await loggedIn();
      await open(page, 'apps');
      await page.click('text=Add app');
      await page.fill('dialog input[name=name]', 'coffee-kiosk');
      await page.fill('dialog input[name=appId]', 'wxc0ffee0c1c1c0003');
      await page.fill('dialog input[name=appSecret]', secret);
      await page.click('dialog button[type=submit]');
      await page.waitForSelector('text=App coffee-kiosk added.');
      const row = page.locator('main tbody tr', { hasText: 'coffee-kiosk' });
      expect(await row.textContent()).toContain('App secret: set');
      await row.locator('button', { hasText: 'Edit' }).click();
      expect(await page.inputValue('dialog input[name=appSecret]')).toBe('');
      expect(await page.content()).not.toContain(secret);
      await page.keyboard.press('Escape');
      // Disabled from the list, and the write is in the audit log (names, never the secret).
      await row.locator('button', { hasText: 'Disable' }).click();
      await page.waitForSelector('text=App coffee-kiosk disabled.');
      // The list reloads after the message: its row then says so (fails when it never does).
      await page
        .locator('main tbody tr', { hasText: 'coffee-kiosk' })
        .filter({ hasText: 'disabled' })
        .waitFor({ timeout: 10_000 });
      await open(page, 'audit');
      const audit = await page.locator('main tbody').textContent();
      expect(audit).toContain('apps.create');
      expect(audit).toContain('apps.update');
      expect(audit).toContain('app:coffee-kiosk');
      for (const hash of PAGES) {
        await open(page, hash);
        expect([hash, (await page.content()).includes(secret)]).toEqual([hash, false]);
      }
      expect(answers.length).toBeGreaterThan(PAGES.length);
      expect(answers.filter((a) => a.includes(secret))).toEqual([]);
      await context.close();
    });

    it('keeps to the CSP: no refused script, style or connection, no script error', () => {
      expect(problems).toEqual([]);
    });

    // Last: it locks the admin for 15 minutes of the hub's clock.
    it('locks the user after 5 failed logins, even for the right password, and says so', async () => {
      hub.sim.sim.clock.advance(16 * 60_000);
      const { context, page } = await newPage();
      for (let i = 0; i < 5; i++) {
        await logIn(page, `wrong password ${i}`);
        await page.waitForSelector('.login-problem .alert');
      }
      await logIn(page);
      await page.waitForSelector('.login-problem .alert');
      expect(await page.textContent('.login-problem')).toContain('locked');
      expect(await page.locator('[data-testid=user]').count()).toBe(0);
      await context.close();
    });
    // A browser and a hub on a shared machine: generous per test (each takes 1 to 3 s alone).
  },
  120_000,
);
